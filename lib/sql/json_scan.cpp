#include "sql/json_scan.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/utf8.hpp>

#include <charconv>
#include <cmath>
#include <cstring>

namespace iotblocks::sql::detail::json {
namespace {

bool read_hex4(const char* p, const char* e, unsigned& v) noexcept {
  if (e - p < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = hex_digit_value(p[i]);
    if (h < 0) return false;
    v = v * 16 + static_cast<unsigned>(h);
  }
  return true;
}

// Decodes one unit of a JSON string at p (after any backslash handling): writes
// up to 4 bytes, returns the input consumed (0 when malformed).
std::size_t decode_one(const char* p, const char* e, char* out, std::size_t& produced) noexcept {
  if (*p != '\\') {
    out[0] = *p;
    produced = 1;
    return 1;
  }
  if (e - p < 2) return 0;
  produced = 1;
  switch (p[1]) {
    case '"': out[0] = '"'; return 2;
    case '\\': out[0] = '\\'; return 2;
    case '/': out[0] = '/'; return 2;
    case 'b': out[0] = '\b'; return 2;
    case 'f': out[0] = '\f'; return 2;
    case 'n': out[0] = '\n'; return 2;
    case 'r': out[0] = '\r'; return 2;
    case 't': out[0] = '\t'; return 2;
    case 'u': {
      unsigned cp = 0;
      if (!read_hex4(p + 2, e, cp)) return 0;
      std::size_t used = 6;
      if (cp >= 0xD800 && cp < 0xDC00) {
        unsigned lo = 0;
        if (e - p >= 12 && p[6] == '\\' && p[7] == 'u' && read_hex4(p + 8, e, lo) && lo >= 0xDC00 &&
            lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          used = 12;
        } else {
          cp = 0xFFFD;
        }
      } else if (cp >= 0xDC00 && cp < 0xE000) {
        cp = 0xFFFD;
      }
      produced = encode_utf8(static_cast<char32_t>(cp), out);
      return used;
    }
    default: return 0;
  }
}

}  // namespace

const char* skip_string(const char* p, const char* e) noexcept {
  ++p;  // opening quote
  while (p < e) {
    const void* q = std::memchr(p, '"', static_cast<std::size_t>(e - p));
    if (!q) return nullptr;
    const char* quote = static_cast<const char*>(q);
    std::size_t backslashes = 0;
    for (const char* b = quote; b > p && b[-1] == '\\'; --b) ++backslashes;
    if (backslashes % 2 == 0) return quote + 1;
    p = quote + 1;
  }
  return nullptr;
}

const char* skip_value(const char* p, const char* e) noexcept {
  if (p >= e) return nullptr;
  switch (*p) {
    case '"': return skip_string(p, e);
    case '{':
    case '[': {
      std::size_t depth = 0;
      while (p < e) {
        const char c = *p;
        if (c == '"') {
          p = skip_string(p, e);
          if (!p) return nullptr;
          continue;
        }
        if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          if (--depth == 0) return p + 1;
        }
        ++p;
      }
      return nullptr;
    }
    default: {
      const char* s = p;
      while (p < e && *p != ',' && *p != '}' && *p != ']' && !is_ws(*p)) ++p;
      return p == s ? nullptr : p;
    }
  }
}

val number(std::string_view t) noexcept {
  const char* b = t.data();
  const char* e = b + t.size();
  bool integral = true;
  for (char c : t) {
    if (c == '.' || c == 'e' || c == 'E') {
      integral = false;
      break;
    }
  }
  if (integral) {
    std::int64_t i = 0;
    auto [p, ec] = std::from_chars(b, e, i);
    if (ec == std::errc{} && p == e) return val::integer(i);
  }
  double d = 0;
  auto [p, ec] = std::from_chars(b, e, d);
  if (ec == std::errc::result_out_of_range && p == e) {
    // A zero mantissa (0e10123) or an underflow (1e-400) is 0; an overflow is
    // beyond a double and stays Undefined.
    const auto exp = t.find_first_of("eE");
    const auto mantissa = t.substr(0, exp);
    const bool zero = mantissa.find_first_not_of("-0.") == std::string_view::npos;
    const bool under = exp != std::string_view::npos && exp + 1 < t.size() && t[exp + 1] == '-';
    if (zero || under) return val::integer(0);
    return val::undef();
  }
  if (ec != std::errc{} || p != e) return val::undef();
  return number(d, t);
}

val number(double d, std::string_view t) noexcept {
  if (!std::isfinite(d)) return val::undef();
  if (d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
    return val::integer(static_cast<std::int64_t>(d));
  }
  return val::decimal(d, t);
}

bool unescape(std::string_view raw, arena& mem, std::string_view& out) noexcept {
  if (raw.find('\\') == std::string_view::npos) {
    out = raw;
    return true;
  }
  char* buf = static_cast<char*>(mem.allocate(raw.size(), 1));
  if (!buf) return false;
  const char* p = raw.data();
  const char* e = p + raw.size();
  std::size_t n = 0;
  while (p < e) {
    std::size_t produced = 0;
    const std::size_t used = decode_one(p, e, buf + n, produced);
    if (used == 0) return false;
    p += used;
    n += produced;
  }
  out = {buf, n};
  return true;
}

bool key_equals(std::string_view raw, std::string_view key) noexcept {
  if (std::memchr(raw.data(), '\\', raw.size()) == nullptr) return raw == key;
  const char* p = raw.data();
  const char* e = p + raw.size();
  std::size_t k = 0;
  char buf[4];
  while (p < e) {
    std::size_t produced = 0;
    const std::size_t used = decode_one(p, e, buf, produced);
    if (used == 0) return false;
    if (k + produced > key.size() || std::memcmp(buf, key.data() + k, produced) != 0) return false;
    k += produced;
    p += used;
  }
  return k == key.size();
}

val to_val(std::string_view text, arena& mem) noexcept {
  const char* p = skip_ws(text.data(), text.data() + text.size());
  const char* e = text.data() + text.size();
  while (e > p && is_ws(e[-1])) --e;
  if (p >= e) return val::undef();
  const std::string_view t{p, static_cast<std::size_t>(e - p)};
  switch (*p) {
    case '{': return val::raw_json(kind::object, t);
    case '[': return val::raw_json(kind::array, t);
    case '"': {
      if (t.size() < 2 || t.back() != '"') return val::undef();
      std::string_view s;
      if (!unescape(t.substr(1, t.size() - 2), mem, s)) return val::undef();
      return val::string(s);
    }
    case 't': return t == "true" ? val::boolean(true) : val::undef();
    case 'f': return t == "false" ? val::boolean(false) : val::undef();
    case 'n': return t == "null" ? val::null() : val::undef();
    default: return number(t);
  }
}

object_reader::object_reader(std::string_view obj) noexcept
    : p_(obj.data()), e_(obj.data() + obj.size()) {
  if (p_ < e_ && *p_ == '{') {
    ++p_;
  } else {
    done_ = bad_ = true;
  }
}

bool object_reader::next(std::string_view& raw_key, std::string_view& value) noexcept {
  if (done_) return false;
  p_ = skip_ws(p_, e_);
  if (p_ >= e_) return done_ = bad_ = true, false;
  if (*p_ == '}') return done_ = true, false;
  if (!first_) {
    if (*p_ != ',') return done_ = bad_ = true, false;
    p_ = skip_ws(p_ + 1, e_);
  }
  first_ = false;
  if (p_ >= e_ || *p_ != '"') return done_ = bad_ = true, false;
  const char* kend = skip_string(p_, e_);
  if (!kend) return done_ = bad_ = true, false;
  raw_key = {p_ + 1, static_cast<std::size_t>(kend - p_ - 2)};
  p_ = skip_ws(kend, e_);
  if (p_ >= e_ || *p_ != ':') return done_ = bad_ = true, false;
  p_ = skip_ws(p_ + 1, e_);
  const char* vend = skip_value(p_, e_);
  if (!vend) return done_ = bad_ = true, false;
  value = {p_, static_cast<std::size_t>(vend - p_)};
  p_ = vend;
  return true;
}

array_reader::array_reader(std::string_view arr) noexcept
    : p_(arr.data()), e_(arr.data() + arr.size()) {
  if (p_ < e_ && *p_ == '[') {
    ++p_;
  } else {
    done_ = bad_ = true;
  }
}

bool array_reader::next(std::string_view& value) noexcept {
  if (done_) return false;
  p_ = skip_ws(p_, e_);
  if (p_ >= e_) return done_ = bad_ = true, false;
  if (*p_ == ']') return done_ = true, false;
  if (!first_) {
    if (*p_ != ',') return done_ = bad_ = true, false;
    p_ = skip_ws(p_ + 1, e_);
  }
  first_ = false;
  const char* vend = skip_value(p_, e_);
  if (!vend) return done_ = bad_ = true, false;
  value = {p_, static_cast<std::size_t>(vend - p_)};
  p_ = vend;
  return true;
}

bool find_member(std::string_view obj, std::string_view key, std::string_view& value) noexcept {
  object_reader r(obj);
  std::string_view k, v;
  while (r.next(k, v)) {
    if (key_equals(k, key)) {
      value = v;
      return true;
    }
  }
  return false;
}

}  // namespace iotblocks::sql::detail::json
