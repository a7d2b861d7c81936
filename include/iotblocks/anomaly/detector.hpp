// Streaming anomaly detectors behind one interface. A detector object holds only
// parameters and is immutable; the learned state of each series is a small
// fixed-size block of bytes that the caller owns (one per series). That keeps
// millions of series cheap (see keyed_store) and makes snapshots plain bytes.
//
//   auto model = anomaly::make_detector("pewma", "alpha0=0.9").value();
//   anomaly::series s{model};
//   for (double v : readings) {
//     auto r = s.update(v).value();          // error on NaN/inf, state untouched
//     if (r.anomaly) alert(r.value, r.mean, r.lower, r.upper);
//   }
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::anomaly {

class pewma;

inline constexpr double not_applicable = std::numeric_limits<double>::quiet_NaN();

/// What a detector says about one point. Fields a detector has no notion of are
/// NaN (not_applicable); the JSON forms leave them out.
struct point_result {
  double value = 0;  ///< the input value
  /// In [0, 1]: L / (L + 5) with L = -log10(p), where p is the detector's estimate of
  /// the probability of a point at least this unusual (the two-sided normal tail of z
  /// for pewma and ewma; the series' own history for ensemble; for bocpd the predictive
  /// density relative to its peak, averaged over run lengths). 0.5: p = 1e-5;
  /// 0.375: p = 1e-3; 0.75: p = 1e-15. Strictly increasing in L: it ranks points as
  /// `raw` does.
  double score = 0;
  double raw = 0;                  ///< the detector's own statistic (|z| for pewma and ewma), >= 0
  bool anomaly = false;            ///< the detector's decision at its threshold (a parameter)
  bool warming_up = false;         ///< the detector is still in its training period
  double mean = not_applicable;    ///< expected value before this point
  double stddev = not_applicable;  ///< expected spread before this point
  double lower = not_applicable;   ///< lowest value not flagged (mean - z_threshold * stddev)
  double upper = not_applicable;   ///< highest value not flagged
  double z = not_applicable;       ///< (value - mean) / stddev
  double p = not_applicable;       ///< density of z under N(0, 1), PEWMA's P_t
};

/// A streaming detector: parameters plus the update rule for one series' state.
/// Implementations are immutable after construction.
/// Distinct objects: safe. Shared objects: safe (const).
class detector {
 public:
  virtual ~detector() = default;

  /// Registered name ("pewma", "ewma", ...).
  virtual std::string_view name() const noexcept = 0;
  /// Every parameter as canonical "key=value,..." text; make_detector(name(), parameters())
  /// builds an identical detector.
  virtual std::string parameters() const = 0;

  /// Bytes of one series' state (a multiple of 8; storage must be 8-byte aligned).
  virtual std::size_t state_size() const noexcept = 0;
  /// Puts a fresh (no history) state into `state`.
  virtual void init(mutable_bytes_view state) const noexcept = 0;
  /// Feeds one point. Errors (error::non_finite_value, error::value_out_of_range) leave
  /// the state untouched. `time_ms` is Unix time in milliseconds (0 when unknown).
  virtual std::error_code update(mutable_bytes_view state, double value, std::int64_t time_ms,
                                 point_result& out) const noexcept = 0;

  /// Bytes of the portable (little-endian) encoding of one state.
  virtual std::size_t encoded_size() const noexcept = 0;
  /// Appends the portable encoding of `state` to `out`.
  virtual void encode(bytes_view state, byte_buffer& out) const = 0;
  /// Decodes and validates an encoded state into `state`; error::invalid_snapshot when
  /// the bytes cannot be a state of this detector (then `state` is unspecified).
  virtual std::error_code decode(bytes_view encoded, mutable_bytes_view state) const noexcept = 0;

  /// This detector when it is PEWMA, else nullptr: lets keyed_store call PEWMA's
  /// update directly, in builds without RTTI too. Other detectors keep the default.
  virtual const pewma* as_pewma() const noexcept { return nullptr; }
};

/// Names accepted by make_detector, best NAB score first.
std::vector<std::string_view> detector_names();

/// Builds a detector by name with "key=value" parameters separated by commas or
/// spaces; parameters not given keep their defaults.
/// Errors: error::unknown_detector, error::invalid_parameter (with the offending text).
result<std::shared_ptr<const detector>> make_detector(std::string_view name,
                                                      std::string_view parameters = {});

/// One series and its state: the simplest way to run a detector.
/// Distinct objects: safe. Shared objects: unsafe.
class series {
 public:
  explicit series(std::shared_ptr<const detector> model);

  std::error_code update(double value, std::int64_t time_ms, point_result& out) noexcept;
  result<point_result> update(double value, std::int64_t time_ms = 0);
  /// Forgets all history.
  void reset() noexcept;

  const detector& model() const noexcept { return *model_; }
  bytes_view state() const noexcept;
  mutable_bytes_view state() noexcept;

 private:
  std::shared_ptr<const detector> model_;
  std::vector<std::uint64_t> state_;  // 8-byte aligned storage
};

}  // namespace iotblocks::anomaly

IOTBLOCKS_API_END
