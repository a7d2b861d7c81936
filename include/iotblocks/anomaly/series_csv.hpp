// Time series as CSV text: the input format of `iotblocks anomaly score` and of
// the NAB corpus. One point per line, either "value" or "timestamp,value"; an
// optional header line names the columns ("timestamp", "value").
//
//   auto points = anomaly::parse_series_csv("timestamp,value\n"
//                                           "2014-04-01 00:00:00,20.5\n").value();
//   points[0].time_ms;   // 1396310400000
//
// Timestamps are "YYYY-MM-DD HH:MM:SS[.fraction]" (a 'T' instead of the space and a
// trailing 'Z' are accepted; always UTC) or an integer count of Unix milliseconds.
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::anomaly {

struct series_point {
  std::int64_t time_ms = 0;  ///< Unix milliseconds; 0 when the input has no timestamps
  double value = 0;
};

struct series_csv_limits {
  std::size_t max_rows = 50'000'000;   ///< error::too_many_rows beyond
  std::size_t max_line_length = 4096;  ///< bytes per line; error::invalid_csv beyond
};

/// Parses CSV text (LF or CRLF lines; blank lines skipped; fields may be wrapped in
/// double quotes). Values must be finite numbers. Errors: error::invalid_csv or
/// error::too_many_rows with the line and column of the fault.
result<std::vector<series_point>> parse_series_csv(std::string_view text,
                                                   const series_csv_limits& limits = {});

/// Parses one timestamp as described above into Unix milliseconds (fractions below a
/// millisecond are truncated). Errors: error::invalid_csv with the offset in `text`.
result<std::int64_t> parse_timestamp(std::string_view text);

}  // namespace iotblocks::anomaly

IOTBLOCKS_API_END
