#include "anomaly/internal.hpp"

#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/pewma.hpp>

#include <cmath>
#include <limits>

namespace iotblocks::anomaly {
namespace {

#define IOTBLOCKS_ANOMALY_FMA 0
using detail::pewma_constants;
#include "anomaly/pewma_kernel.hpp"
#undef IOTBLOCKS_ANOMALY_FMA

pewma_constants constants_of(const pewma_params& p) noexcept {
  return {1.0 - p.alpha0, p.alpha0 * p.beta * inv_sqrt_2pi, static_cast<double>(p.training),
          p.max_abs_value};
}

std::error_code check_value(double x, double max_abs) noexcept {
  if (!std::isfinite(x)) return error::non_finite_value;
  if (std::fabs(x) > max_abs) return error::value_out_of_range;
  return {};
}

}  // namespace

result<void> pewma_params::validate() const {
  using detail::bad_parameter;
  if (!(alpha0 >= 0 && alpha0 <= 1)) return bad_parameter("alpha0", "must be in [0, 1]");
  if (!(beta >= 0 && beta <= 1)) return bad_parameter("beta", "must be in [0, 1]");
  if (training < 1 || training > 1'000'000'000) {
    return bad_parameter("training", "must be in [1, 1e9]");
  }
  if (!(threshold > 0 && threshold < inv_sqrt_2pi)) {
    return bad_parameter("threshold", "must be in (0, 1/sqrt(2 pi) = 0.3989)");
  }
  if (!(max_abs_value > 0 && max_abs_value <= 1e150)) {
    return bad_parameter("max_abs_value", "must be in (0, 1e150]");
  }
  return {};
}

result<pewma> pewma::create(const pewma_params& p) {
  if (auto r = p.validate(); !r) return std::move(r).take_failure();
  return pewma{p};
}

pewma::pewma(const pewma_params& p) noexcept
    : p_(p), z_threshold_(std::sqrt(-2.0 * std::log(p.threshold / inv_sqrt_2pi))) {}

std::string pewma::parameters() const {
  using detail::format_double;
  return "alpha0=" + format_double(p_.alpha0) + ",beta=" + format_double(p_.beta) +
         ",training=" + std::to_string(p_.training) + ",threshold=" + format_double(p_.threshold) +
         ",max_abs_value=" + format_double(p_.max_abs_value);
}

std::error_code pewma::update(pewma_state& s, double x, point_result& out) const noexcept {
  if (auto ec = check_value(x, p_.max_abs_value)) return ec;
  const pewma_constants c = constants_of(p_);
  if (detail::have_avx2_fma()) {
    detail::pewma_point_fma(c, p_, z_threshold_, s, x, out);
  } else {
    pewma_point(c, p_, z_threshold_, s, x, out);
  }
  return {};
}

std::size_t pewma::update(pewma_state& s, std::span<const double> values, std::span<double> scores,
                          std::error_code& ec) const noexcept {
  ec = {};
  std::size_t n = std::min(values.size(), scores.size());
  if (values.size() != scores.size()) ec = error::size_mismatch;
  for (std::size_t i = 0; i < n; ++i) {
    if (auto bad = check_value(values[i], p_.max_abs_value)) {
      ec = bad;
      n = i;
      break;
    }
  }
  const pewma_constants c = constants_of(p_);
  double count = static_cast<double>(s.count);
  if (detail::have_avx2_fma()) {
    detail::pewma_series_fma(c, s.mean, s.variance, count, values.data(), scores.data(), n);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      double e = 0;
      scores[i] = std::sqrt(pewma_step(c, s.mean, s.variance, count, values[i], e));
    }
  }
  s.count += n;
  return n;
}

void pewma::init(mutable_bytes_view state) const noexcept { new (state.data()) pewma_state{}; }

std::error_code pewma::update(mutable_bytes_view state, double value, std::int64_t /*time_ms*/,
                              point_result& out) const noexcept {
  return update(detail::state_as<pewma_state>(state), value, out);
}

void pewma::encode(bytes_view state, byte_buffer& out) const {
  const auto& s = detail::state_as<pewma_state>(state);
  detail::put_f64(out, s.mean);
  detail::put_f64(out, s.variance);
  detail::put_u64(out, s.count);
}

std::error_code pewma::decode(bytes_view encoded, mutable_bytes_view state) const noexcept {
  detail::reader r{encoded};
  pewma_state s;
  s.mean = r.f64();
  s.variance = r.f64();
  s.count = r.u64();
  if (!r.ok() || r.remaining() != 0) return error::invalid_snapshot;
  if (!std::isfinite(s.mean) || !std::isfinite(s.variance) || s.variance < 0) {
    return error::invalid_snapshot;
  }
  if (s.count == 0 && (s.mean != 0 || s.variance != 0)) return error::invalid_snapshot;
  if (s.count == 1 && s.variance != 0) return error::invalid_snapshot;
  new (state.data()) pewma_state{s};
  return {};
}

// ---- batch

pewma_batch::pewma_batch(const pewma& model, std::size_t series)
    : model_(model), mean_(series), variance_(series), count_(series) {}

pewma_state pewma_batch::state(std::size_t i) const noexcept {
  return {mean_[i], variance_[i], static_cast<std::uint64_t>(count_[i])};
}

void pewma_batch::set_state(std::size_t i, const pewma_state& s) noexcept {
  mean_[i] = s.mean;
  variance_[i] = s.variance;
  count_[i] = static_cast<double>(s.count);
}

std::error_code pewma_batch::update(std::span<const double> values,
                                    std::span<double> scores) noexcept {
  const std::size_t n = size();
  if (values.size() != n || scores.size() != n) return error::size_mismatch;
  const double max_abs = model_.p_.max_abs_value;
  bool ok = true;
  for (std::size_t i = 0; i < n; ++i) ok &= std::fabs(values[i]) <= max_abs;  // false for NaN
  if (!ok) {
    for (double v : values) {
      if (auto ec = check_value(v, max_abs)) return ec;
    }
  }
  const pewma_constants c = constants_of(model_.p_);
  if (detail::have_avx2_fma()) {
    detail::pewma_batch_avx2(c, mean_.data(), variance_.data(), count_.data(), values.data(),
                             scores.data(), n);
    return {};
  }
  for (std::size_t i = 0; i < n; ++i) {
    double e = 0;
    scores[i] = std::sqrt(pewma_step(c, mean_[i], variance_[i], count_[i], values[i], e));
  }
  return {};
}

}  // namespace iotblocks::anomaly
