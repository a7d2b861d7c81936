// The values of AWS IoT rule SQL (2016-03-23): Int (64-bit here), Decimal (IEEE
// double here), Boolean, String, Array, Object, Null and Undefined. This owning
// type is what crosses the API: arguments and results of registered functions,
// and rule outputs read back as values. Evaluation itself works on views.
//
//   sql::value v = sql::value::object{{"lux", 36250}, {"ok", true}};
//   v.find("lux")->as_int();   // 36250
//   v.to_json();               // {"lux":36250,"ok":true}
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::sql {

enum class type : std::uint8_t {
  undefined,
  null,
  boolean,
  integer,
  decimal,
  string,
  array,
  object
};

/// Name of a type as the AWS documentation spells it ("Int", "Decimal", ...).
std::string_view type_name(type t) noexcept;

/// An owning SQL value. Distinct objects: safe. Shared objects: safe for reading.
class value {
 public:
  using array = std::vector<value>;
  using object = std::vector<std::pair<std::string, value>>;  ///< keys in insertion order

  value() noexcept = default;                                     ///< Undefined
  value(std::nullptr_t) noexcept : v_(std::in_place_index<1>) {}  // NOLINT
  value(bool b) noexcept : v_(b) {}                               // NOLINT
  value(int i) noexcept : v_(std::int64_t{i}) {}                  // NOLINT
  value(std::int64_t i) noexcept : v_(i) {}                       // NOLINT
  value(double d) noexcept : v_(d) {}                             // NOLINT
  value(std::string s) : v_(std::move(s)) {}                      // NOLINT
  value(std::string_view s) : v_(std::string(s)) {}               // NOLINT
  value(const char* s) : v_(std::string(s)) {}                    // NOLINT
  value(array a) : v_(std::move(a)) {}                            // NOLINT
  value(object o) : v_(std::move(o)) {}                           // NOLINT

  static value null() noexcept { return value(nullptr); }

  type kind() const noexcept { return static_cast<type>(v_.index()); }
  bool is_undefined() const noexcept { return kind() == type::undefined; }
  bool is_null() const noexcept { return kind() == type::null; }

  /// Accessors; each requires the matching kind().
  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(v_); }
  double as_decimal() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const array& as_array() const { return std::get<array>(v_); }
  const object& as_object() const { return std::get<object>(v_); }
  array& as_array() { return std::get<array>(v_); }
  object& as_object() { return std::get<object>(v_); }

  /// Int or Decimal as a double; nullopt for other kinds.
  bool is_number() const noexcept { return kind() == type::integer || kind() == type::decimal; }
  double number() const {
    return kind() == type::integer ? static_cast<double>(as_int()) : as_decimal();
  }

  /// The member `key` of an Object (first match), or nullptr.
  const value* find(std::string_view key) const noexcept;

  /// Compact JSON. Undefined members and elements are left out; Undefined alone is "".
  std::string to_json() const;

  /// Reads JSON (whole numbers become Int, as SQL 2016-03-23 does).
  static result<value> from_json(std::string_view text, unsigned max_depth = 64);

  /// SQL '=' on defined values: Int and Decimal by value, arrays in order, objects
  /// ignoring key order, different types unequal. Undefined equals only Undefined.
  friend bool operator==(const value& a, const value& b) noexcept;

 private:
  std::variant<std::monostate, std::nullptr_t, bool, std::int64_t, double, std::string, array,
               object>
      v_;
};

}  // namespace iotblocks::sql

IOTBLOCKS_API_END
