#include "shadow/tree.hpp"

#include <iotblocks/core/error.hpp>
#include <iotblocks/core/utf8.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

namespace iotblocks::shadow::detail {
namespace {

// Builds a node tree from RapidJSON's SAX events with an explicit stack, so hostile
// nesting costs no C++ stack; converts numbers itself (as core's JSON helpers do).
class builder {
 public:
  explicit builder(unsigned max_depth) : max_depth_(max_depth) {}

  bool Null() { return put(node{}); }
  bool Bool(bool v) {
    node n;
    n.k = kind::boolean;
    n.b = v;
    return put(std::move(n));
  }
  bool Int(int) { return false; }  // unused: numbers arrive as text
  bool Uint(unsigned) { return false; }
  bool Int64(std::int64_t) { return false; }
  bool Uint64(std::uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return number({s, n}); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (!valid({s, n})) return false;
    node v;
    v.k = kind::string;
    v.s.assign(s, n);
    return put(std::move(v));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (!valid({s, n})) return false;
    stack_.back().key.assign(s, n);
    return true;
  }
  bool StartObject() { return open(kind::object); }
  bool StartArray() { return open(kind::array); }
  bool EndObject(rapidjson::SizeType) {
    dedupe(stack_.back().container.members);
    return close();
  }
  bool EndArray(rapidjson::SizeType) { return close(); }

  node root;
  bool too_deep = false;
  bool bad_string = false;
  bool bad_number = false;

 private:
  struct frame {
    node container;
    std::string key;
  };

  bool open(kind k) {
    if (stack_.size() >= max_depth_) {
      too_deep = true;
      return false;
    }
    stack_.emplace_back();
    stack_.back().container.k = k;
    return true;
  }
  bool close() {
    node done = std::move(stack_.back().container);
    stack_.pop_back();
    return put(std::move(done));
  }
  bool put(node v) {
    if (stack_.empty()) {
      root = std::move(v);
      return true;
    }
    frame& top = stack_.back();
    if (top.container.k == kind::array) {
      top.container.items.push_back(std::move(v));
    } else {
      top.container.members.push_back(member{std::move(top.key), std::move(v)});
    }
    return true;
  }
  bool valid(std::string_view s) {
    if (is_valid_utf8(s)) return true;
    bad_string = true;  // RapidJSON 1.1 lets a lone low surrogate escape through
    return false;
  }
  bool number(std::string_view text) {
    node n;
    const char* first = text.data();
    const char* last = first + text.size();
    if (text.find_first_of(".eE") == std::string_view::npos) {
      if (text.front() == '-') {
        if (std::from_chars(first, last, n.i).ec == std::errc{}) {
          n.k = kind::int64;
          return put(std::move(n));
        }
      } else if (std::from_chars(first, last, n.u).ec == std::errc{}) {
        n.k = n.u <= static_cast<std::uint64_t>(INT64_MAX) ? kind::int64 : kind::uint64;
        return put(std::move(n));
      }
    }
    n.k = kind::real;
    if (std::from_chars(first, last, n.d).ec != std::errc{}) {
      n.d = std::strtod(std::string(text).c_str(), nullptr);  // out of range
      if (std::isinf(n.d)) {
        bad_number = true;
        return false;
      }
    }
    return put(std::move(n));
  }
  // Duplicate keys: first position, last value (what Jackson's ObjectNode does).
  static void dedupe(std::vector<member>& m) {
    if (m.size() < 2) return;
    std::vector<member> out;
    if (m.size() <= 16) {
      for (auto& x : m) {
        auto it =
            std::find_if(out.begin(), out.end(), [&](const member& y) { return y.key == x.key; });
        if (it == out.end())
          out.push_back(std::move(x));
        else
          it->value = std::move(x.value);
      }
      if (out.size() == m.size()) {
        m = std::move(out);
        return;
      }
    } else {
      std::unordered_map<std::string_view, std::size_t> seen;
      seen.reserve(m.size());
      bool dup = false;
      for (auto& x : m) dup |= !seen.emplace(x.key, 0).second;
      if (!dup) return;
      seen.clear();
      out.reserve(m.size());
      for (auto& x : m) {  // views into `out`, which never reallocates
        auto it = seen.find(std::string_view(x.key));
        if (it != seen.end()) {
          out[it->second].value = std::move(x.value);
          continue;
        }
        out.push_back(std::move(x));
        seen.emplace(out.back().key, out.size() - 1);
      }
    }
    m = std::move(out);
  }

  unsigned max_depth_;
  std::vector<frame> stack_;
};

constexpr unsigned parse_flags = rapidjson::kParseIterativeFlag |
                                 rapidjson::kParseNumbersAsStringsFlag |
                                 rapidjson::kParseValidateEncodingFlag;

bool integral_equal(const node& real, const node& integer) noexcept {
  const double d = real.d;
  if (std::trunc(d) != d) return false;
  if (integer.k == kind::int64) {
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
    return static_cast<std::int64_t>(d) == integer.i;
  }
  if (d < 9223372036854775808.0 || d >= 18446744073709551616.0) return false;
  return static_cast<std::uint64_t>(d) == integer.u;
}

bool numbers_equal(const node& a, const node& b) noexcept {
  if (a.k == kind::real && b.k == kind::real) return a.d == b.d;
  if (a.k == kind::real) return integral_equal(a, b);
  if (b.k == kind::real) return integral_equal(b, a);
  if (a.k != b.k) return false;  // int64 never equals a value above INT64_MAX
  return a.k == kind::int64 ? a.i == b.i : a.u == b.u;
}

// Characters RapidJSON-style writers escape, and how long each escape is.
inline std::size_t escaped_length(unsigned char c) noexcept {
  if (c == '"' || c == '\\') return 2;
  if (c >= 0x20) return 1;
  switch (c) {
    case '\b':
    case '\f':
    case '\n':
    case '\r':
    case '\t': return 2;
    default: return 6;
  }
}

std::size_t double_size(double d) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  std::string_view t(buf, static_cast<std::size_t>(r.ptr - buf));
  return t.size() + (t.find_first_of(".e") == std::string_view::npos ? 2 : 0);
}

}  // namespace

std::size_t string_size(std::string_view s) noexcept {
  std::size_t n = 2;
  for (unsigned char c : s) n += escaped_length(c);
  return n;
}

const node* find(const node& n, std::string_view key) noexcept {
  for (const auto& m : n.members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

node* find(node& n, std::string_view key) noexcept {
  for (auto& m : n.members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

result<node> parse(std::string_view text, unsigned max_depth) {
  builder b(max_depth);
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
  rapidjson::Reader reader;
  rapidjson::ParseResult r = reader.Parse<parse_flags>(in, b);
  if (!r.IsError()) return std::move(b.root);
  const position where = position_in(text, r.Offset());
  if (b.too_deep) {
    return {core::error::json_too_deep,
            fmt::format("JSON nesting deeper than {} levels", max_depth), where};
  }
  if (b.bad_string)
    return {core::error::invalid_json, "invalid JSON: string is not valid UTF-8", where};
  if (b.bad_number) return {core::error::invalid_json, "invalid JSON: number out of range", where};
  return {core::error::invalid_json,
          fmt::format("invalid JSON: {}", rapidjson::GetParseError_En(r.Code())), where};
}

bool equal(const node& a, const node& b) noexcept {
  if (a.is_number() && b.is_number()) return numbers_equal(a, b);
  if (a.k != b.k) return false;
  switch (a.k) {
    case kind::null: return true;
    case kind::boolean: return a.b == b.b;
    case kind::string: return a.s == b.s;
    case kind::array:
      if (a.items.size() != b.items.size()) return false;
      for (std::size_t i = 0; i < a.items.size(); ++i) {
        if (!equal(a.items[i], b.items[i])) return false;
      }
      return true;
    case kind::object: {
      if (a.members.size() != b.members.size()) return false;
      for (const auto& m : a.members) {
        const node* other = find(b, m.key);
        if (other == nullptr || !equal(m.value, *other)) return false;
      }
      return true;
    }
    default: return false;  // numbers handled above
  }
}

namespace {
bool null_below(const node& n, bool in_array) noexcept {
  if (n.is_null()) return in_array;
  for (const auto& m : n.members) {
    if (null_below(m.value, in_array)) return true;
  }
  for (const auto& v : n.items) {
    if (null_below(v, true)) return true;
  }
  return false;
}
}  // namespace

bool null_in_array(const node& n) noexcept { return null_below(n, false); }

void append_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\b': out.push_back('b'); break;
      case '\f': out.push_back('f'); break;
      case '\n': out.push_back('n'); break;
      case '\r': out.push_back('r'); break;
      case '\t': out.push_back('t'); break;
      default:
        out.append("u00");
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
  }
  out.append(s.data() + start, s.size() - start);
  out.push_back('"');
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_value(std::string& out, const node& n) {
  switch (n.k) {
    case kind::null: out.append("null"); return;
    case kind::boolean: out.append(n.b ? "true" : "false"); return;
    case kind::int64: append_int(out, n.i); return;
    case kind::uint64: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, n.u);
      out.append(buf, r.ptr);
      return;
    }
    case kind::real: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, n.d);
      std::string_view t(buf, static_cast<std::size_t>(r.ptr - buf));
      out.append(t);
      if (t.find_first_of(".e") == std::string_view::npos) out.append(".0");
      return;
    }
    case kind::string: append_string(out, n.s); return;
    case kind::array: {
      out.push_back('[');
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        if (i != 0) out.push_back(',');
        append_value(out, n.items[i]);
      }
      out.push_back(']');
      return;
    }
    case kind::object: {
      out.push_back('{');
      for (std::size_t i = 0; i < n.members.size(); ++i) {
        if (i != 0) out.push_back(',');
        append_string(out, n.members[i].key);
        out.push_back(':');
        append_value(out, n.members[i].value);
      }
      out.push_back('}');
      return;
    }
  }
}

std::size_t serialized_size(const node& n) noexcept {
  switch (n.k) {
    case kind::null: return 4;
    case kind::boolean: return n.b ? 4 : 5;
    case kind::int64:
    case kind::uint64: {
      char buf[24];
      auto r = n.k == kind::int64 ? std::to_chars(buf, buf + sizeof buf, n.i)
                                  : std::to_chars(buf, buf + sizeof buf, n.u);
      return static_cast<std::size_t>(r.ptr - buf);
    }
    case kind::real: return double_size(n.d);
    case kind::string: return string_size(n.s);
    case kind::array: {
      std::size_t size = 2 + (n.items.empty() ? 0 : n.items.size() - 1);
      for (const auto& v : n.items) size += serialized_size(v);
      return size;
    }
    case kind::object: {
      std::size_t size = 2 + (n.members.empty() ? 0 : n.members.size() - 1);
      for (const auto& m : n.members) size += string_size(m.key) + 1 + serialized_size(m.value);
      return size;
    }
  }
  return 0;
}

}  // namespace iotblocks::shadow::detail
