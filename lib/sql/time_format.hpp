// Private: date patterns. parse_time formats with Joda-Time patterns (as AWS
// documents); time_to_epoch parses with java.time DateTimeFormatter patterns.
// English month, day and era names. Bounded subset, see docs/sql.md.
#pragma once

#include "sql/tz.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::sql::detail {

/// Formats Unix milliseconds `ms` in zone `tz` with a Joda-Time pattern;
/// nullopt for an unknown pattern letter or unterminated quote.
std::optional<std::string> format_joda(std::string_view pattern, std::int64_t ms,
                                       const time_zone& tz);

/// Parses `text` with a java.time pattern into Unix milliseconds (UTC when the
/// text names no zone or offset, midnight when it has no time).
std::optional<std::int64_t> parse_java(std::string_view text, std::string_view pattern);

}  // namespace iotblocks::sql::detail
