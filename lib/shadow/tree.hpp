// Private: the JSON tree shadows are made of. Unlike RapidJSON's DOM it carries a
// metadata timestamp on every leaf and array, compares numbers by value (1 == 1.0),
// gives memory back when members are removed (RapidJSON's pool only grows), and
// writes JSON with exactly the escaping whose size it can predict.
#pragma once

#include <iotblocks/core/result.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::shadow::detail {

enum class kind : std::uint8_t { null, boolean, int64, uint64, real, string, array, object };

struct member;

/// A JSON value. Integers that fit are int64; uint64 only above INT64_MAX.
/// `ts` is the metadata timestamp (seconds) of a leaf or of a whole array.
/// Distinct objects: safe. Shared objects: unsafe.
struct node {
  kind k = kind::null;
  union {
    bool b;
    std::int64_t i;
    std::uint64_t u;
    double d;
  };
  std::int64_t ts = 0;
  std::string s;                ///< a string's value
  std::vector<member> members;  ///< an object's members, or an array's items (empty keys)

  node() noexcept;  // defined below, once `member` is complete
  static node object();
  bool is_null() const noexcept { return k == kind::null; }
  bool is_object() const noexcept { return k == kind::object; }
  bool is_array() const noexcept { return k == kind::array; }
  bool is_number() const noexcept {
    return k == kind::int64 || k == kind::uint64 || k == kind::real;
  }
};

struct member {
  std::string key;
  node value;
};

inline node::node() noexcept : i(0) {}
inline node node::object() {
  node n;
  n.k = kind::object;
  return n;
}

/// The member `key` of object `n`, or nullptr.
const node* find(const node& n, std::string_view key) noexcept;
node* find(node& n, std::string_view key) noexcept;

/// Parses one JSON value. Strings must be valid UTF-8 (escapes included); duplicate
/// keys keep the first position and the last value. Errors: core::error::invalid_json
/// or json_too_deep (more than `max_depth` nested containers), with line and column.
/// `utf8_checked`: the caller already validated `text` as UTF-8.
result<node> parse(std::string_view text, unsigned max_depth, bool utf8_checked = false);

/// Deep equality; numbers compare by value, object members regardless of order.
bool equal(const node& a, const node& b) noexcept;

/// True if an array anywhere in `n` holds a null (shadows reject those).
bool null_in_array(const node& n) noexcept;

/// Appends to a std::string with inline, unchecked-after-reserve writes. The string
/// holds exactly the bytes written once the buffer is destroyed.
class out_buffer {
 public:
  explicit out_buffer(std::string& s) noexcept : s_(s), len_(s.size()) {}
  ~out_buffer() { s_.resize(len_); }
  out_buffer(const out_buffer&) = delete;
  out_buffer& operator=(const out_buffer&) = delete;

  void put(char c) {
    room(1);
    s_[len_++] = c;
  }
  void put(std::string_view v) {
    room(v.size());
    std::memcpy(s_.data() + len_, v.data(), v.size());
    len_ += v.size();
  }
  /// Space for `n` bytes; commit() what was written.
  char* claim(std::size_t n) {
    room(n);
    return s_.data() + len_;
  }
  void commit(std::size_t n) noexcept { len_ += n; }

 private:
  void room(std::size_t n) {
    if (len_ + n > s_.size()) [[unlikely]]
      grow(n);
  }
  [[gnu::noinline]] void grow(std::size_t n) { s_.resize(std::max(s_.size() * 2, len_ + n + 64)); }
  std::string& s_;
  std::size_t len_;
};

/// Appends JSON text: compact, non-ASCII raw, doubles always with a '.' or exponent.
void append_string(out_buffer& out, std::string_view s);
void append_value(out_buffer& out, const node& n);
void append_int(out_buffer& out, std::int64_t v);
inline void append_value(std::string& out, const node& n) {
  out_buffer b(out);
  append_value(b, n);
}
inline void append_int(std::string& out, std::int64_t v) {
  out_buffer b(out);
  append_int(b, v);
}

/// The size append_value would write, without writing it.
std::size_t serialized_size(const node& n) noexcept;
/// The size append_string would write.
std::size_t string_size(std::string_view s) noexcept;

/// Minimal streaming writer with comma bookkeeping over a caller's string, which is
/// complete when the writer is destroyed.
class writer {
 public:
  explicit writer(std::string& out) noexcept : out_(out) {}
  writer& begin_object() {
    sep();
    out_.put('{');
    comma_ = false;
    return *this;
  }
  writer& end_object() {
    out_.put('}');
    comma_ = true;
    return *this;
  }
  writer& begin_array() {
    sep();
    out_.put('[');
    comma_ = false;
    return *this;
  }
  writer& end_array() {
    out_.put(']');
    comma_ = true;
    return *this;
  }
  writer& key(std::string_view k) {
    sep();
    append_string(out_, k);
    out_.put(':');
    comma_ = false;
    return *this;
  }
  writer& value(const node& n) {
    sep();
    append_value(out_, n);
    comma_ = true;
    return *this;
  }
  writer& value(std::int64_t v) {
    sep();
    append_int(out_, v);
    comma_ = true;
    return *this;
  }
  writer& value(std::string_view s) {
    sep();
    append_string(out_, s);
    comma_ = true;
    return *this;
  }
  writer& null() {
    sep();
    out_.put("null");
    comma_ = true;
    return *this;
  }
  /// Inserts already-serialised JSON as a value.
  writer& raw(std::string_view json) {
    sep();
    out_.put(json);
    comma_ = true;
    return *this;
  }

 private:
  void sep() {
    if (comma_) out_.put(',');
  }
  out_buffer out_;
  bool comma_ = false;
};

}  // namespace iotblocks::shadow::detail
