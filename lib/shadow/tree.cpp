#include "shadow/tree.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/error.hpp>
#include <iotblocks/core/utf8.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
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
  builder(unsigned max_depth, bool utf8_checked)
      : max_depth_(max_depth),
        utf8_checked_(utf8_checked),
        frames_(scratch().frames),
        values_(scratch().values) {
    frames_.clear();
    values_.clear();
  }
  ~builder() {
    if (values_.capacity() > 4096) std::vector<member>().swap(values_);  // don't hoard
  }
  builder(const builder&) = delete;
  builder& operator=(const builder&) = delete;

  bool Null() {
    (void)slot();
    return true;
  }
  bool Bool(bool v) {
    node& n = slot();
    n.k = kind::boolean;
    n.b = v;
    return true;
  }
  bool Int(int) { return false; }  // unused: numbers arrive as text
  bool Uint(unsigned) { return false; }
  bool Int64(std::int64_t) { return false; }
  bool Uint64(std::uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return number({s, n}); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (!valid({s, n})) return false;
    node& v = slot();
    v.k = kind::string;
    v.s.assign(s, n);
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (!valid({s, n})) return false;
    values_.emplace_back();
    values_.back().key.assign(s, n);
    key_pending_ = true;
    return true;
  }
  bool StartObject() { return open(kind::object); }
  bool StartArray() { return open(kind::array); }
  bool EndObject(rapidjson::SizeType) { return close(true); }
  bool EndArray(rapidjson::SizeType) { return close(false); }

  node root;
  bool too_deep = false;
  bool bad_string = false;
  bool bad_number = false;

 private:
  // Open containers; their members sit on values_ from `first` on, so each container
  // gets one exactly-sized allocation when it closes. Both stacks are per-thread
  // scratch space, reused from parse to parse.
  struct frame {
    kind k;
    std::size_t first;
  };
  struct scratch_space {
    std::vector<frame> frames;
    std::vector<member> values;
  };
  static scratch_space& scratch() {
    thread_local scratch_space s;
    return s;
  }

  // Where the next value goes: the root, the member whose key came last, or a new item.
  node& slot() {
    if (frames_.empty()) return root;
    if (key_pending_) {
      key_pending_ = false;
      return values_.back().value;
    }
    values_.emplace_back();
    return values_.back().value;
  }
  bool open(kind k) {
    if (frames_.size() >= max_depth_) {
      too_deep = true;
      return false;
    }
    if (!frames_.empty()) (void)slot();  // the container's place in its parent
    frames_.push_back({k, values_.size()});
    return true;
  }
  bool close(bool object) {
    const frame f = frames_.back();
    frames_.pop_back();
    node done;
    done.k = f.k;
    done.members.assign(
        std::make_move_iterator(values_.begin() + static_cast<std::ptrdiff_t>(f.first)),
        std::make_move_iterator(values_.end()));
    values_.resize(f.first);
    if (object) dedupe(done.members);
    (frames_.empty() ? root : values_.back().value) = std::move(done);
    return true;
  }
  bool valid(std::string_view s) {
    // Raw input already checked: only an escape can have made a surrogate (ED A0..BF).
    if (utf8_checked_ && std::memchr(s.data(), 0xED, s.size()) == nullptr) return true;
    if (is_valid_utf8(s)) return true;
    bad_string = true;  // RapidJSON 1.1 lets a lone low surrogate escape through
    return false;
  }
  bool number(std::string_view text) {
    node& n = slot();
    const char* first = text.data();
    const char* last = first + text.size();
    if (text.find_first_of(".eE") == std::string_view::npos) {
      if (text.front() == '-') {
        if (std::from_chars(first, last, n.i).ec == std::errc{}) {
          n.k = kind::int64;
          return true;
        }
      } else if (std::from_chars(first, last, n.u).ec == std::errc{}) {
        n.k = n.u <= static_cast<std::uint64_t>(INT64_MAX) ? kind::int64 : kind::uint64;
        return true;
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
    return true;
  }
  // Duplicate keys: first position, last value (what Jackson's ObjectNode does).
  static void dedupe(std::vector<member>& m) {
    if (m.size() < 2) return;
    if (m.size() <= 16) {
      bool dup = false;
      for (std::size_t i = 1; i < m.size() && !dup; ++i) {
        for (std::size_t j = 0; j < i; ++j) {
          if (m[i].key == m[j].key) {
            dup = true;
            break;
          }
        }
      }
      if (!dup) return;
    } else {
      std::unordered_map<std::string_view, std::size_t> seen;
      seen.reserve(m.size());
      bool dup = false;
      for (auto& x : m) dup |= !seen.emplace(x.key, 0).second;
      if (!dup) return;
    }
    std::vector<member> out;
    out.reserve(m.size());
    std::unordered_map<std::string_view, std::size_t> seen;
    seen.reserve(m.size());
    for (auto& x : m) {  // views into `out`, which never reallocates
      auto it = seen.find(std::string_view(x.key));
      if (it != seen.end()) {
        out[it->second].value = std::move(x.value);
        continue;
      }
      out.push_back(std::move(x));
      seen.emplace(out.back().key, out.size() - 1);
    }
    m = std::move(out);
  }

  unsigned max_depth_;
  bool utf8_checked_;
  std::vector<frame>& frames_;
  std::vector<member>& values_;
  bool key_pending_ = false;
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
  for (char c : s) n += escaped_length(static_cast<unsigned char>(c));
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

result<node> parse(std::string_view text, unsigned max_depth, bool utf8_checked) {
  builder b(max_depth, utf8_checked);
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
  rapidjson::Reader reader;
  rapidjson::ParseResult r =
      utf8_checked
          ? reader.Parse<parse_flags & ~unsigned{rapidjson::kParseValidateEncodingFlag}>(in, b)
          : reader.Parse<parse_flags>(in, b);
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
      if (a.members.size() != b.members.size()) return false;
      for (std::size_t i = 0; i < a.members.size(); ++i) {
        if (!equal(a.members[i].value, b.members[i].value)) return false;
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
  const bool array = n.is_array();
  for (const auto& m : n.members) {
    if (null_below(m.value, in_array || array)) return true;
  }
  return false;
}
}  // namespace

bool null_in_array(const node& n) noexcept { return null_below(n, false); }

namespace {
// 1 for the bytes a JSON writer must escape: control characters, '"' and '\\'.
constexpr auto escape_table = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  return t;
}();
}  // namespace

// True if one of the 8 bytes in `x` must be escaped (< 0x20, '"' or '\\').
inline bool special_in(std::uint64_t x) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  const std::uint64_t below = (x - ones * 0x20) & ~x;
  const std::uint64_t quote = (x ^ (ones * 0x22));
  const std::uint64_t slash = (x ^ (ones * 0x5C));
  return ((below | ((quote - ones) & ~quote) | ((slash - ones) & ~slash)) & highs) != 0;
}

void append_string(out_buffer& out, std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    if (special_in(x)) break;
  }
  while (i < s.size() && escape_table[static_cast<unsigned char>(s[i])] == 0) ++i;
  if (i == s.size()) {  // nothing to escape: one copy
    char* p = out.claim(s.size() + 2);
    p[0] = '"';
    std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    out.commit(s.size() + 2);
    return;
  }
  out.put('"');
  std::size_t start = 0;
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (escape_table[c] == 0) continue;
    out.put(s.substr(start, i - start));
    start = i + 1;
    out.put('\\');
    switch (c) {
      case '"': out.put('"'); break;
      case '\\': out.put('\\'); break;
      case '\b': out.put('b'); break;
      case '\f': out.put('f'); break;
      case '\n': out.put('n'); break;
      case '\r': out.put('r'); break;
      case '\t': out.put('t'); break;
      default: {
        const char esc[] = {'u', '0', '0', hex_digit(c >> 4u), hex_digit(c)};
        out.put(std::string_view(esc, 5));
      }
    }
  }
  out.put(s.substr(start));
  out.put('"');
}

void append_int(out_buffer& out, std::int64_t v) {
  char* p = out.claim(20);
  auto r = std::to_chars(p, p + 20, v);
  out.commit(static_cast<std::size_t>(r.ptr - p));
}

void append_value(out_buffer& out, const node& n) {
  switch (n.k) {
    case kind::null: out.put("null"); return;
    case kind::boolean: out.put(n.b ? std::string_view("true") : std::string_view("false")); return;
    case kind::int64: append_int(out, n.i); return;
    case kind::uint64: {
      char* p = out.claim(20);
      auto r = std::to_chars(p, p + 20, n.u);
      out.commit(static_cast<std::size_t>(r.ptr - p));
      return;
    }
    case kind::real: {
      char* p = out.claim(32);
      auto r = std::to_chars(p, p + 30, n.d);
      const std::string_view t(p, static_cast<std::size_t>(r.ptr - p));
      std::size_t len = t.size();
      if (t.find_first_of(".e") == std::string_view::npos) {
        p[len++] = '.';
        p[len++] = '0';
      }
      out.commit(len);
      return;
    }
    case kind::string: append_string(out, n.s); return;
    case kind::array: {
      out.put('[');
      for (std::size_t i = 0; i < n.members.size(); ++i) {
        if (i != 0) out.put(',');
        append_value(out, n.members[i].value);
      }
      out.put(']');
      return;
    }
    case kind::object: {
      out.put('{');
      for (std::size_t i = 0; i < n.members.size(); ++i) {
        if (i != 0) out.put(',');
        append_string(out, n.members[i].key);
        out.put(':');
        append_value(out, n.members[i].value);
      }
      out.put('}');
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
      std::size_t size = 2 + (n.members.empty() ? 0 : n.members.size() - 1);
      for (const auto& v : n.members) size += serialized_size(v.value);
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
