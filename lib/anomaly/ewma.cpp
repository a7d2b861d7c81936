// "ewma": the plain exponentially weighted z-score, the usual baseline. Mean and
// variance are EWMAs with a fixed weight; score = |x - mean| / std.
#include "anomaly/factory.hpp"
#include "anomaly/internal.hpp"

#include <iotblocks/anomaly/error.hpp>

#include <cmath>
#include <limits>

namespace iotblocks::anomaly::detail {
namespace {

struct ewma_state {
  double mean = 0;
  double variance = 0;
  std::uint64_t count = 0;
};

struct ewma_params {
  double alpha = 0.02;          // weight of the new point
  std::uint32_t training = 30;  // plain average before that
  double threshold = 4.0;       // |z| flagged above this
  double max_abs_value = 1e150;
};

class ewma final : public detector {
 public:
  explicit ewma(const ewma_params& p) : p_(p) {}

  std::string_view name() const noexcept override { return "ewma"; }
  std::string parameters() const override {
    return "alpha=" + format_double(p_.alpha) + ",training=" + std::to_string(p_.training) +
           ",threshold=" + format_double(p_.threshold) +
           ",max_abs_value=" + format_double(p_.max_abs_value);
  }
  std::size_t state_size() const noexcept override { return sizeof(ewma_state); }
  void init(mutable_bytes_view s) const noexcept override { new (s.data()) ewma_state{}; }

  std::error_code update(mutable_bytes_view state, double x, std::int64_t,
                         point_result& out) const noexcept override {
    if (!std::isfinite(x)) return error::non_finite_value;
    if (std::fabs(x) > p_.max_abs_value) return error::value_out_of_range;
    auto& s = state_as<ewma_state>(state);
    out = point_result{};
    out.value = x;
    s.count += 1;
    if (s.count == 1) {
      s.mean = x;
      out.mean = out.lower = out.upper = x;
      out.stddev = out.z = out.score = out.raw = 0;
      out.warming_up = true;
      return {};
    }
    const double sd = std::sqrt(s.variance);
    const double d = x - s.mean;
    out.mean = s.mean;
    out.stddev = sd;
    out.lower = s.mean - p_.threshold * sd;
    out.upper = s.mean + p_.threshold * sd;
    out.z = sd > 0 ? d / sd : (d == 0 ? 0.0 : std::copysign(HUGE_VAL, d));
    out.raw = std::fabs(out.z);
    out.score = score_of_z(out.raw);
    out.warming_up = s.count < p_.training;
    out.anomaly = !out.warming_up && out.raw > p_.threshold;
    const double w = s.count < p_.training ? 1.0 / static_cast<double>(s.count) : p_.alpha;
    s.mean += w * d;
    s.variance = (1 - w) * (s.variance + w * d * d);
    return {};
  }

  std::size_t encoded_size() const noexcept override { return 24; }
  void encode(bytes_view state, byte_buffer& out) const override {
    const auto& s = state_as<ewma_state>(state);
    put_f64(out, s.mean);
    put_f64(out, s.variance);
    put_u64(out, s.count);
  }
  std::error_code decode(bytes_view in, mutable_bytes_view state) const noexcept override {
    reader r{in};
    ewma_state s{r.f64(), r.f64(), r.u64()};
    if (!r.ok() || r.remaining() != 0 || !std::isfinite(s.mean) || !std::isfinite(s.variance) ||
        s.variance < 0) {
      return error::invalid_snapshot;
    }
    new (state.data()) ewma_state{s};
    return {};
  }

 private:
  ewma_params p_;
};

}  // namespace

result<std::shared_ptr<const detector>> make_ewma(std::string_view text) {
  ewma_params p;
  auto r = parse_parameters(text, [&](std::string_view k, std::string_view v) -> result<void> {
    if (k == "alpha" || k == "threshold" || k == "max_abs_value") {
      auto d = parse_double(v);
      if (!d) return bad_parameter(k, "not a finite number");
      (k == "alpha" ? p.alpha : k == "threshold" ? p.threshold : p.max_abs_value) = *d;
      return {};
    }
    if (k == "training") {
      auto n = parse_uint(v);
      if (!n || *n < 1 || *n > 1'000'000'000) return bad_parameter(k, "must be in [1, 1e9]");
      p.training = static_cast<std::uint32_t>(*n);
      return {};
    }
    return bad_parameter(k, "not a parameter of ewma");
  });
  if (!r) return std::move(r).take_failure();
  if (!(p.alpha > 0 && p.alpha < 1)) return bad_parameter("alpha", "must be in (0, 1)");
  if (!(p.threshold > 0)) return bad_parameter("threshold", "must be > 0");
  if (!(p.max_abs_value > 0 && p.max_abs_value <= 1e150)) {
    return bad_parameter("max_abs_value", "must be in (0, 1e150]");
  }
  return std::shared_ptr<const detector>(std::make_shared<ewma>(p));
}

}  // namespace iotblocks::anomaly::detail
