#include "rules/json_locate.hpp"

#include <vector>

namespace iotblocks::rules::detail {
namespace {

struct scanner {
  std::string_view t;
  std::size_t i = 0;

  void ws() {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  }
  // At an opening quote; returns the raw contents and moves past the closing quote.
  std::string_view string() {
    const std::size_t start = ++i;
    while (i < t.size() && t[i] != '"') i += t[i] == '\\' ? 2 : 1;
    const std::size_t end = i < t.size() ? i : t.size();
    ++i;
    return t.substr(start, end - start);
  }
  // Skips one value, iteratively (the text already passed the depth limit).
  void skip() {
    ws();
    std::size_t depth = 0;
    do {
      if (i >= t.size()) return;
      const char c = t[i];
      if (c == '"') {
        string();
      } else if (c == '{' || c == '[') {
        ++depth;
        ++i;
      } else if (c == '}' || c == ']') {
        if (depth > 0) --depth;
        ++i;
      } else if (c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        if (depth == 0) return;
        ++i;
      } else {
        while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' &&
               t[i] != '\t' && t[i] != '\n' && t[i] != '\r') {
          ++i;
        }
      }
    } while (depth > 0);
  }
};

}  // namespace

std::size_t locate(std::string_view text, std::initializer_list<path_step> path) {
  scanner s{text};
  s.ws();
  for (const auto& step : path) {
    const std::size_t here = s.i;
    if (s.i >= text.size()) return here;
    if (const auto* key = std::get_if<std::string_view>(&step)) {
      if (text[s.i] != '{') return here;
      ++s.i;
      bool found = false;
      for (;;) {
        s.ws();
        if (s.i >= text.size() || text[s.i] != '"') return here;
        const std::string_view name = s.string();
        s.ws();
        ++s.i;  // ':'
        s.ws();
        if (name == *key) {
          found = true;
          break;
        }
        s.skip();
        s.ws();
        if (s.i >= text.size() || text[s.i] != ',') return here;
        ++s.i;
      }
      if (!found) return here;
    } else {
      const std::size_t index = std::get<std::size_t>(step);
      if (text[s.i] != '[') return here;
      ++s.i;
      for (std::size_t n = 0; n < index; ++n) {
        s.ws();
        s.skip();
        s.ws();
        if (s.i >= text.size() || text[s.i] != ',') return here;
        ++s.i;
      }
      s.ws();
    }
  }
  return s.i;
}

}  // namespace iotblocks::rules::detail
