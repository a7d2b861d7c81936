// Private: a lazy JSON reader. It finds members and elements by skipping over
// the text without building a document, and never reads out of bounds whatever
// the input. It does not validate: the evaluator validates the whole payload
// (simdjson) before an answer depends on the payload being JSON.
#pragma once

#include "sql/val.hpp"

#include <cstddef>
#include <string_view>

namespace iotblocks::sql::detail::json {

inline bool is_ws(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

inline const char* skip_ws(const char* p, const char* e) noexcept {
  while (p < e && is_ws(*p)) ++p;
  return p;
}

/// p at '"': returns the position after the closing quote, or nullptr.
const char* skip_string(const char* p, const char* e) noexcept;
/// p at the first character of a value: returns the position after it, or nullptr.
const char* skip_value(const char* p, const char* e) noexcept;

/// The value of one JSON text span (whitespace trimmed): scalars converted, strings
/// unescaped (into `mem` only when they contain escapes), arrays/objects kept raw.
/// Undefined when the text is not a value.
val to_val(std::string_view text, arena& mem) noexcept;

/// Converts JSON number text (Int when whole and within 64 bits, as SQL 2016-03-23).
val number(std::string_view text) noexcept;
/// number(text) when `d` is the correctly rounded value of the non-integer number `text`.
val number(double d, std::string_view text) noexcept;

/// Unescapes the inside of a JSON string (without quotes).
bool unescape(std::string_view raw, arena& mem, std::string_view& out) noexcept;

/// Does the raw (escaped) key equal `key`?
bool key_equals(std::string_view raw, std::string_view key) noexcept;

/// Iterates the members of a raw object ('{' first). Keys are the raw inner text.
class object_reader {
 public:
  explicit object_reader(std::string_view obj) noexcept;
  bool next(std::string_view& raw_key, std::string_view& value) noexcept;
  bool malformed() const noexcept { return bad_; }

 private:
  const char* p_;
  const char* e_;
  bool first_ = true;
  bool done_ = false;
  bool bad_ = false;
};

/// Iterates the elements of a raw array ('[' first).
class array_reader {
 public:
  explicit array_reader(std::string_view arr) noexcept;
  bool next(std::string_view& value) noexcept;
  bool malformed() const noexcept { return bad_; }

 private:
  const char* p_;
  const char* e_;
  bool first_ = true;
  bool done_ = false;
  bool bad_ = false;
};

/// The first member `key` of a raw object.
bool find_member(std::string_view obj, std::string_view key, std::string_view& value) noexcept;

/// Appends `json` without whitespace outside strings.
template <class Out>
void append_compact(Out& out, std::string_view json) {
  const char* p = json.data();
  const char* e = p + json.size();
  while (p < e) {
    const char c = *p;
    if (c == '"') {
      const char* q = skip_string(p, e);
      if (!q) q = e;
      out.append(p, static_cast<std::size_t>(q - p));
      p = q;
    } else {
      if (!is_ws(c)) out.push_back(c);
      ++p;
    }
  }
}

}  // namespace iotblocks::sql::detail::json
