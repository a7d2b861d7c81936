// Error codes of the anomaly component (category "iotblocks.anomaly").
//
//   std::error_code ec = iotblocks::anomaly::error::non_finite_value;
//   ec.message();   // "value is NaN or infinite"
#pragma once

#include <iotblocks/core/export.hpp>

#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::anomaly {

enum class error {
  non_finite_value = 1,  ///< an input value is NaN or infinite (state left untouched)
  value_out_of_range,    ///< |value| exceeds the detector's max_abs_value (state left untouched)
  invalid_parameter,     ///< a detector parameter is unknown, malformed or out of range
  unknown_detector,      ///< no detector of that name
  invalid_key,           ///< a series key or field is empty, too long, not UTF-8 or has U+0000
  too_many_series,       ///< a keyed store reached max_series
  invalid_snapshot,      ///< snapshot bytes are truncated, corrupt or inconsistent
  detector_mismatch,     ///< a snapshot or database holds state of another detector
  invalid_csv,           ///< series CSV text is malformed
  too_many_rows,         ///< series CSV text exceeds max_rows
  invalid_corpus,        ///< a NAB corpus directory, label file or score set is malformed
  size_mismatch,         ///< spans passed to a batch call have different lengths
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace iotblocks::anomaly

template <>
struct std::is_error_code_enum<iotblocks::anomaly::error> : std::true_type {};

IOTBLOCKS_API_END
