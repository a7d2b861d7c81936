#include "sql/lexer.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/utf8.hpp>
#include <iotblocks/sql/error.hpp>

#include <fmt/format.h>

namespace iotblocks::sql::detail {
namespace {

bool is_word_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_word(char c) noexcept { return is_word_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

failure fail_at(std::string_view src, std::size_t offset, error code, std::string msg) {
  return failure{code, std::move(msg), position_in(src, offset)};
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string describe(const token& t) {
  switch (t.kind) {
    case tok::end: return "end of input";
    case tok::string: return fmt::format("string '{}'", t.text);
    case tok::variable: return fmt::format("'@{}'", t.text);
    default: return fmt::format("'{}'", t.text);
  }
}

std::optional<failure> lex_one(std::string_view src, std::size_t& i, token& t) {
  const std::size_t n = src.size();
  {
    while (i < n && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r')) ++i;
    t = token{};
    t.offset = i;
    if (i == n) return std::nullopt;
    const char c = src[i];
    auto single = [&](tok k, std::size_t len) {
      t.kind = k;
      t.length = len;
      t.text = std::string(src.substr(i, len));
      i += len;
    };
    if (is_word_start(c)) {
      std::size_t j = i + 1;
      while (j < n && is_word(src[j])) ++j;
      single(tok::word, j - i);
    } else if (c == '@') {
      std::size_t j = i + 1;
      while (j < n && is_word(src[j])) ++j;
      if (j == i + 1)
        return fail_at(src, i, error::syntax_error, "expected a variable name after '@'");
      t.kind = tok::variable;
      t.length = j - i;
      t.text = std::string(src.substr(i + 1, j - i - 1));
      i = j;
    } else if (is_digit(c)) {
      std::size_t j = i;
      while (j < n && is_digit(src[j])) ++j;
      bool dec = false;
      if (j + 1 < n && src[j] == '.' && is_digit(src[j + 1])) {
        dec = true;
        ++j;
        while (j < n && is_digit(src[j])) ++j;
      }
      if (j < n && (src[j] == 'e' || src[j] == 'E')) {
        std::size_t k = j + 1;
        if (k < n && (src[k] == '+' || src[k] == '-')) ++k;
        if (k < n && is_digit(src[k])) {
          dec = true;
          j = k;
          while (j < n && is_digit(src[j])) ++j;
        } else {
          return fail_at(src, j, error::invalid_number, "exponent without digits");
        }
      }
      if (j < n && is_word_start(src[j])) {
        return fail_at(src, i, error::invalid_number,
                       fmt::format("invalid number '{}'", src.substr(i, j + 1 - i)));
      }
      single(dec ? tok::decimal : tok::integer, j - i);
    } else if (c == '\'' || c == '"' || c == '`') {
      const char q = c;
      std::string text;
      std::size_t j = i + 1;
      bool closed = false;
      while (j < n) {
        const char d = src[j];
        if (d == q) {
          if (q != '`' && j + 1 < n && src[j + 1] == q) {  // '' inside '...'
            text += q;
            j += 2;
            continue;
          }
          closed = true;
          ++j;
          break;
        }
        if (d == '\\' && q != '`') {
          if (j + 1 >= n) break;
          const char e = src[j + 1];
          j += 2;
          switch (e) {
            case 'n': text += '\n'; break;
            case 't': text += '\t'; break;
            case 'r': text += '\r'; break;
            case 'b': text += '\b'; break;
            case 'f': text += '\f'; break;
            case 'u': {
              auto read4 = [&](std::size_t at, char32_t& v) {
                if (at + 4 > n) return false;
                v = 0;
                for (std::size_t k = 0; k < 4; ++k) {
                  const int h = hex_digit_value(src[at + k]);
                  if (h < 0) return false;
                  v = v * 16 + static_cast<char32_t>(h);
                }
                return true;
              };
              char32_t cp = 0;
              if (!read4(j, cp)) {
                return fail_at(src, j - 2, error::syntax_error, "malformed \\u escape");
              }
              j += 4;
              if (cp >= 0xD800 && cp < 0xDC00) {
                char32_t lo = 0;
                if (j + 1 < n && src[j] == '\\' && src[j + 1] == 'u' && read4(j + 2, lo) &&
                    lo >= 0xDC00 && lo < 0xE000) {
                  cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                  j += 6;
                } else {
                  cp = 0xFFFD;
                }
              } else if (cp >= 0xDC00 && cp < 0xE000) {
                cp = 0xFFFD;
              }
              if (cp == 0) return fail_at(src, j - 6, error::syntax_error, "U+0000 in a string");
              append_utf8(text, cp);
              break;
            }
            default: text += e; break;  // \' \" \\ \/ and any other char
          }
          continue;
        }
        text += d;
        ++j;
      }
      if (!closed) {
        return fail_at(src, i, error::unterminated_string,
                       q == '`' ? "unterminated quoted identifier" : "unterminated string");
      }
      t.kind = q == '`' ? tok::quoted : tok::string;
      t.single_quoted = q == '\'';
      t.length = j - i;
      t.text = std::move(text);
      i = j;
    } else {
      const char d = i + 1 < n ? src[i + 1] : '\0';
      switch (c) {
        case '(': single(tok::lparen, 1); break;
        case ')': single(tok::rparen, 1); break;
        case '[': single(tok::lbracket, 1); break;
        case ']': single(tok::rbracket, 1); break;
        case '{': single(tok::lbrace, 1); break;
        case '}': single(tok::rbrace, 1); break;
        case ',': single(tok::comma, 1); break;
        case '.': single(tok::dot, 1); break;
        case ':': single(tok::colon, 1); break;
        case '*': single(tok::star, 1); break;
        case '/': single(tok::slash, 1); break;
        case '%': single(tok::percent, 1); break;
        case '+': single(tok::plus, 1); break;
        case '-': single(tok::minus, 1); break;
        case '=': single(tok::eq, 1); break;
        case '<':
          if (d == '>')
            single(tok::ne, 2);
          else if (d == '=')
            single(tok::le, 2);
          else
            single(tok::lt, 1);
          break;
        case '>':
          if (d == '=')
            single(tok::ge, 2);
          else
            single(tok::gt, 1);
          break;
        case '!':
          if (d == '=') {
            single(tok::ne, 2);
            break;
          }
          [[fallthrough]];
        default:
          return fail_at(src, i, error::syntax_error,
                         fmt::format("unexpected character '{}'", src.substr(i, 1)));
      }
    }
  }
  return std::nullopt;
}

result<std::vector<token>> lex(std::string_view src) {
  if (std::size_t bad = utf8_check(src, false); bad != utf8_ok) {
    return fail_at(src, bad, error::invalid_utf8, "text is not valid UTF-8 (or contains U+0000)");
  }
  std::vector<token> out;
  std::size_t i = 0;
  while (true) {
    token t;
    if (auto f = lex_one(src, i, t)) return std::move(*f);
    const bool end = t.kind == tok::end;
    out.push_back(std::move(t));
    if (end) return out;
  }
}

}  // namespace iotblocks::sql::detail
