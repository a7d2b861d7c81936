// PEWMA, the probabilistic exponentially weighted moving average of Carter and
// Streilein (2012), as the AWS IoT anomaly walk-through uses it. Per series it
// keeps a count, a mean and a variance. For point t with Z_t = (x_t - mean)/std
// and P_t = exp(-Z_t^2/2)/sqrt(2 pi):
//   alpha_t = 1 - 1/t                     while t < T (training: a plain average)
//   alpha_t = (1 - beta * P_t) * alpha_0  afterwards
//   mean <- alpha_t mean + (1 - alpha_t) x_t, and the second moment likewise
// and the point is an anomaly when P_t < threshold (|Z| above z_threshold()).
//
// The moments are kept as mean and variance with the algebraically identical
// update var <- alpha (var + (1 - alpha) d^2), d = x - mean, so the variance
// never goes negative for values on a large offset (1e8 +- 0.01), where the
// textbook s2 - s1^2 does. The update uses a fast exp (max relative error
// 5e-16, measured); see docs/anomaly.md for the accuracy against the plain form.
//
//   auto model = anomaly::pewma::create({.alpha0 = 0.95, .beta = 0.5}).value();
//   anomaly::pewma_state s;               // 24 bytes per series
//   anomaly::point_result r;
//   if (auto ec = model.update(s, 12.5, r)) ...;   // NaN/inf: error, s untouched
//   r.mean, r.stddev, r.lower, r.upper, r.z, r.p, r.anomaly, r.score (= |Z|)
//
// Defined corner cases: the first point sets mean = x, variance = 0 and scores
// 0. With variance 0, a point equal to the mean has Z = 0 and any other point has
// Z = +-infinity, P = 0. Points during training (t < T) get Z, P and a score but
// are never flagged (warming_up is set).
#pragma once

#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::anomaly {

struct pewma_params {
  double alpha0 = 0.95;          ///< weight of history after training, in [0, 1]
  double beta = 0.5;             ///< discount of improbable points, in [0, 1] (0: plain EWMA)
  std::uint32_t training = 30;   ///< T, points in the training period, in [1, 1e9]
  double threshold = 0.002;      ///< anomaly when P_t < threshold, in (0, 1/sqrt(2 pi))
  double max_abs_value = 1e150;  ///< larger |x| is rejected (error::value_out_of_range)

  /// error::invalid_parameter naming the first parameter out of range.
  result<void> validate() const;
};

/// The learned state of one series. Trivially copyable.
struct pewma_state {
  double mean = 0;
  double variance = 0;
  std::uint64_t count = 0;  ///< points seen
};
static_assert(sizeof(pewma_state) == 24);

/// The PEWMA detector. Distinct objects: safe. Shared objects: safe (const).
class pewma final : public detector {
 public:
  /// Validates `p`; error::invalid_parameter otherwise.
  static result<pewma> create(const pewma_params& p = {});

  const pewma_params& params() const noexcept { return p_; }
  /// |Z| above which P_t < threshold: sqrt(-2 ln(threshold sqrt(2 pi))), 3.2545 by default.
  double z_threshold() const noexcept { return z_threshold_; }

  /// One point of one series. On error the state is untouched.
  std::error_code update(pewma_state& s, double value, point_result& out) const noexcept;

  /// Consecutive points of one series; scores[i] = |Z| of values[i]. Stops before the
  /// first rejected value and sets `ec`. Returns the number of points consumed.
  std::size_t update(pewma_state& s, std::span<const double> values, std::span<double> scores,
                     std::error_code& ec) const noexcept;

  // detector
  std::string_view name() const noexcept override { return "pewma"; }
  std::string parameters() const override;
  std::size_t state_size() const noexcept override { return sizeof(pewma_state); }
  void init(mutable_bytes_view state) const noexcept override;
  std::error_code update(mutable_bytes_view state, double value, std::int64_t time_ms,
                         point_result& out) const noexcept override;
  std::size_t encoded_size() const noexcept override { return 24; }
  void encode(bytes_view state, byte_buffer& out) const override;
  std::error_code decode(bytes_view encoded, mutable_bytes_view state) const noexcept override;
  const pewma* as_pewma() const noexcept override { return this; }

 private:
  explicit pewma(const pewma_params& p) noexcept;
  friend class pewma_batch;
  pewma_params p_;
  double z_threshold_;
};

/// PEWMA over many series in lock step, laid out for SIMD (AVX2 when the CPU has
/// it). Series i's state is at index i. Distinct objects: safe. Shared objects: unsafe.
///
///   anomaly::pewma_batch batch{model, 4096};
///   batch.update(values, scores);   // values[i]: next point of series i; scores[i] = |Z|
///   bool flagged = scores[i] > model.z_threshold() && batch.state(i).count >= T;
class pewma_batch {
 public:
  pewma_batch(const pewma& model, std::size_t series);

  std::size_t size() const noexcept { return mean_.size(); }
  /// Feeds values[i] to series i. All or nothing: one NaN, infinite or out-of-range
  /// value rejects the call with no state changed. error::size_mismatch when the spans
  /// are not size() long.
  std::error_code update(std::span<const double> values, std::span<double> scores) noexcept;

  pewma_state state(std::size_t i) const noexcept;
  void set_state(std::size_t i, const pewma_state& s) noexcept;

 private:
  pewma model_;
  std::vector<double> mean_, variance_, count_;  // count as double: exact below 2^53
};

}  // namespace iotblocks::anomaly

IOTBLOCKS_API_END
