// Private: column values as the PostgreSQL stores write and read them in text form.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::postgres::detail {

/// A bigint column; nullopt when `s` is not one.
std::optional<std::int64_t> to_int64(std::string_view s);

/// String attributes as one JSON object.
std::string attributes_json(const std::map<std::string, std::string>& attributes);
/// nullopt when `text` is not a JSON object of strings.
std::optional<std::map<std::string, std::string>> parse_attributes(std::string_view text);

}  // namespace iotblocks::postgres::detail
