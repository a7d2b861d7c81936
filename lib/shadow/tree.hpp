// Private: the JSON tree shadows are made of. Unlike RapidJSON's DOM it carries a
// metadata timestamp on every leaf and array, compares numbers by value (1 == 1.0),
// gives memory back when members are removed (RapidJSON's pool only grows), and
// writes JSON with exactly the escaping whose size it can predict.
#pragma once

#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <cstdint>
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
  std::string s;
  std::vector<node> items;
  std::vector<member> members;

  node() : i(0) {}
  static node object() {
    node n;
    n.k = kind::object;
    return n;
  }
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

/// The member `key` of object `n`, or nullptr.
const node* find(const node& n, std::string_view key) noexcept;
node* find(node& n, std::string_view key) noexcept;

/// Parses one JSON value. Strings must be valid UTF-8 (escapes included); duplicate
/// keys keep the first position and the last value. Errors: core::error::invalid_json
/// or json_too_deep (more than `max_depth` nested containers), with line and column.
result<node> parse(std::string_view text, unsigned max_depth);

/// Deep equality; numbers compare by value, object members regardless of order.
bool equal(const node& a, const node& b) noexcept;

/// True if an array anywhere in `n` holds a null (shadows reject those).
bool null_in_array(const node& n) noexcept;

/// Appends JSON text: compact, non-ASCII raw, doubles always with a '.' or exponent.
void append_string(std::string& out, std::string_view s);
void append_value(std::string& out, const node& n);
void append_int(std::string& out, std::int64_t v);

/// The size append_value would write, without writing it.
std::size_t serialized_size(const node& n) noexcept;
/// The size append_string would write.
std::size_t string_size(std::string_view s) noexcept;

/// Minimal streaming writer with comma bookkeeping, over a caller's string.
class writer {
 public:
  explicit writer(std::string& out) noexcept : out_(out) {}
  writer& begin_object() {
    sep();
    out_.push_back('{');
    comma_ = false;
    return *this;
  }
  writer& end_object() {
    out_.push_back('}');
    comma_ = true;
    return *this;
  }
  writer& begin_array() {
    sep();
    out_.push_back('[');
    comma_ = false;
    return *this;
  }
  writer& end_array() {
    out_.push_back(']');
    comma_ = true;
    return *this;
  }
  writer& key(std::string_view k) {
    sep();
    append_string(out_, k);
    out_.push_back(':');
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
    out_.append("null");
    comma_ = true;
    return *this;
  }
  /// Inserts already-serialised JSON as a value.
  writer& raw(std::string_view json) {
    sep();
    out_.append(json);
    comma_ = true;
    return *this;
  }
  std::string& out() noexcept { return out_; }

 private:
  void sep() {
    if (comma_) out_.push_back(',');
  }
  std::string& out_;
  bool comma_ = false;
};

}  // namespace iotblocks::shadow::detail
