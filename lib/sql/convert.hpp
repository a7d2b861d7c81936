// Private: AWS IoT SQL conversions, comparisons and arithmetic on views.
#pragma once

#include "sql/eval_state.hpp"
#include "sql/val.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace iotblocks::sql::detail {

/// A finite double as SQL 2016-03-23 keeps it: whole numbers within 64 bits become
/// Int; NaN and infinities become Undefined.
val number_val(double d) noexcept;

/// The AWS string-to-Decimal rule: ^-?\d+(\.\d+)?((?i)E-?\d+)?$.
bool parse_decimal_string(std::string_view s, double& out) noexcept;

/// Standard conversion to Decimal (Int, Decimal, numeric String).
std::optional<double> to_decimal(const val& v) noexcept;
/// Standard conversion to Int: Decimal rounded to nearest, String truncated.
std::optional<std::int64_t> to_int(const val& v) noexcept;
/// "Rounded down" (floor) conversion used by bit functions, chr, pads, substring, cast.
std::optional<std::int64_t> to_int_floor(const val& v) noexcept;
/// Boolean, or "true"/"false" in any case.
std::optional<bool> to_bool(const val& v) noexcept;

/// Standard conversion to String: numbers in their text form, booleans lowercase,
/// arrays and objects as compact JSON. nullopt for Null, Undefined and binary.
std::optional<std::string_view> to_string(eval_state& st, const val& v);

/// Decimal as text (shortest round-trip form).
std::string_view format_double(double d, char (&buf)[32]) noexcept;

enum class tri : std::uint8_t { f, t, undef };

/// SQL '=' (Undefined when either side is Undefined).
tri equals(eval_state& st, const val& a, const val& b, std::size_t depth = 0);
/// SQL < <= > >= via Decimal conversion: -1, 0, 1, or nullopt (Undefined).
std::optional<int> compare(const val& a, const val& b) noexcept;

enum class arith : std::uint8_t { add, sub, mul, div, mod };
val arithmetic(eval_state& st, arith op, const val& a, const val& b);
val negate(const val& a) noexcept;

/// Member `key` of an object (raw or built); Undefined when absent or not an object.
val get_member(eval_state& st, const val& obj, std::string_view key);
/// Element `i` of an array; Undefined when out of range.
val get_element(eval_state& st, const val& arr, std::int64_t i);

/// Calls f(val) for each element of an array; false when malformed or f returns false.
template <class F>
bool for_each_element(eval_state& st, const val& arr, F&& f);
/// Calls f(key, val) for each member of an object.
template <class F>
bool for_each_member(eval_state& st, const val& obj, F&& f);

}  // namespace iotblocks::sql::detail

#include "sql/convert_inl.hpp"
