// The "iotblocks.anomaly" error category.
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/core/error.hpp>

namespace iotblocks::anomaly {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::non_finite_value: return "value is NaN or infinite";
    case error::value_out_of_range: return "value exceeds the detector's max_abs_value";
    case error::invalid_parameter: return "invalid detector parameter";
    case error::unknown_detector: return "unknown detector";
    case error::invalid_key: return "series key or field is empty, too long or not valid UTF-8";
    case error::too_many_series: return "keyed store is full (max_series)";
    case error::invalid_snapshot: return "snapshot is truncated, corrupt or inconsistent";
    case error::detector_mismatch: return "state belongs to another detector or parameter set";
    case error::invalid_csv: return "malformed series CSV";
    case error::too_many_rows: return "series CSV has more rows than allowed";
    case error::invalid_corpus: return "malformed NAB corpus or scores";
    case error::size_mismatch: return "spans of a batch call differ in length";
  }
  return "unknown iotblocks.anomaly error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return iotblocks::detail::lasting_category<&message>("iotblocks.anomaly");
}

}  // namespace iotblocks::anomaly
