// Private: thin helpers over RapidJSON shared by the components' compiled code.
// Never included by a public header, so RapidJSON stays out of users' code.
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::json {

struct parse_options {
  unsigned max_depth = 64;    ///< deepest allowed nesting of objects and arrays
  bool validate_utf8 = true;  ///< reject ill-formed UTF-8 in strings
};

/// Parses `text` as one JSON value (surrounding whitespace allowed). Iterative,
/// so hostile nesting costs neither stack nor more than `max_depth` levels.
/// Errors: core::error::invalid_json or json_too_deep, with line and column.
result<rapidjson::Document> parse(std::string_view text, const parse_options& options = {});

/// Serialises `v` compactly (or indented with `pretty`).
std::string write(const rapidjson::Value& v, bool pretty = false);

/// The member `key` of object `v`, or nullptr (also when `v` is not an object).
const rapidjson::Value* find(const rapidjson::Value& v, std::string_view key) noexcept;

inline std::string_view view(const rapidjson::Value& s) noexcept {
  return {s.GetString(), s.GetStringLength()};
}

std::optional<std::string_view> get_string(const rapidjson::Value& obj,
                                           std::string_view key) noexcept;
std::optional<std::int64_t> get_int64(const rapidjson::Value& obj, std::string_view key) noexcept;
std::optional<double> get_double(const rapidjson::Value& obj, std::string_view key) noexcept;
std::optional<bool> get_bool(const rapidjson::Value& obj, std::string_view key) noexcept;

/// A string value that copies `s` into `alloc`.
inline rapidjson::Value string_value(std::string_view s,
                                     rapidjson::Document::AllocatorType& alloc) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

}  // namespace iotblocks::json

IOTBLOCKS_API_END
