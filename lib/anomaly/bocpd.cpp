// "bocpd": Bayesian online change-point detection (Adams & MacKay 2007) with a
// truncated run-length distribution.
//
// Each hypothesis r says "the current regime began n_r points ago"; under it the
// points since then are i.i.d. normal with unknown mean and variance (Normal-Gamma
// prior, kappa0 = 1, alpha0 = `prior_points`, so the predictive is a Student-t with
// 2 alpha0 + n_r degrees of freedom). Per point x, with weights w_r from the state
// before x:
//   f_r     = Student-t predictive density of x under r
//   growth  w_r <- w_r f_r (1 - H)        change  w_new <- H sum_r w_r f_r
// then normalise, drop hypotheses below `min_weight` and, when more than
// `max_runs` remain, the lightest one (truncation). A new regime's prior is centred
// on a slow EWMA of the series (weight `alpha`), its expected variance that EWMA's
// variance times `prior_scale`. The raw statistic is L = -log10 sum_r w_r f_r(x) / f_r(mode_r):
// the predictive density of x relative to its peak, averaged over run lengths
// (for a normal predictive, exp(-z^2 / 2)); a step change makes it large at the
// step. A raw statistic >= `alarm` flags and silences the next `rest` points.
// Constant memory: 48 + 32 * max_runs bytes (1,072 by default, at most 3,888).
#include "anomaly/factory.hpp"
#include "anomaly/internal.hpp"

#include <iotblocks/anomaly/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace iotblocks::anomaly::detail {
namespace {

constexpr std::uint32_t runs_limit = 120;  // 48 + 32 * 120 = 3,888 bytes <= 4 KB
constexpr double pi = 3.14159265358979323846;

struct bocpd_params {
  double hazard = 1.0 / 250;  // prior probability of a change at each point
  std::uint32_t max_runs = 32;
  double min_weight = 1e-6;
  double alpha = 0.01;       // weight of the slow EWMA that centres new regimes
  double prior_scale = 1.0;  // prior variance of a new regime, in units of the EWMA variance
  double prior_points = 1;   // alpha0: that variance counts as 2 alpha0 points
  std::uint32_t training = 150;
  double alarm = 5;  // flag threshold on L (score 0.5)
  std::uint32_t rest = 0;
  double max_abs_value = 1e150;
};

struct hypothesis {
  double weight;
  double n;   // points in the regime
  double mu;  // posterior mean
  double s2;  // beta / alpha of the precision's Gamma posterior (bounded by the data's spread)
};

// The state: this header, then max_runs hypotheses.
struct bocpd_state {
  std::uint64_t count;
  std::uint64_t since_alarm;
  double mean, var;  // slow EWMA: the prior of a new regime
  std::uint32_t runs;
  std::uint32_t pad;
  double reserved;
};
constexpr std::size_t header_bytes = sizeof(bocpd_state);
static_assert(header_bytes == 48 && sizeof(hypothesis) == 32);

hypothesis* hypotheses(mutable_bytes_view s) noexcept {
  return std::launder(reinterpret_cast<hypothesis*>(s.data() + header_bytes));
}
const hypothesis* hypotheses(bytes_view s) noexcept {
  return std::launder(reinterpret_cast<const hypothesis*>(s.data() + header_bytes));
}

// The Student-t density's constant with nu = 2x degrees of freedom and scale^2 s2:
// Gamma(x + 1/2) / Gamma(x) / sqrt(2 pi x s2). Gamma(x + 1/2) / Gamma(x) =
// sqrt(x) exp(-1/(8x) + 1/(192x^3) + ...) (asymptotic series; relative error below
// 1e-3 at x = 1, below 1e-6 from x = 4), and exp(-u) for u <= 1/8 as a cubic.
double student_t_norm(double x, double s2) noexcept {
  const double r = 1 / x;
  const double u = r * (0.125 - r * r / (192.0));
  return (1 - u * (1 - u * (0.5 - u / 6))) / std::sqrt(2 * pi * s2);
}

class bocpd final : public detector {
 public:
  explicit bocpd(const bocpd_params& p) : p_(p) {}

  std::string_view name() const noexcept override { return "bocpd"; }
  std::string parameters() const override {
    return "hazard=" + format_double(p_.hazard) + ",max_runs=" + std::to_string(p_.max_runs) +
           ",min_weight=" + format_double(p_.min_weight) + ",alpha=" + format_double(p_.alpha) +
           ",prior_scale=" + format_double(p_.prior_scale) +
           ",prior_points=" + format_double(p_.prior_points) +
           ",training=" + std::to_string(p_.training) + ",alarm=" + format_double(p_.alarm) +
           ",rest=" + std::to_string(p_.rest) + ",max_abs_value=" + format_double(p_.max_abs_value);
  }
  std::size_t state_size() const noexcept override {
    return header_bytes + sizeof(hypothesis) * p_.max_runs;
  }
  void init(mutable_bytes_view s) const noexcept override {
    auto* st = new (s.data()) bocpd_state{};
    for (std::uint32_t i = 0; i < p_.max_runs; ++i) new (hypotheses(s) + i) hypothesis{};
    st->since_alarm = ~std::uint64_t{0};
  }

  std::error_code update(mutable_bytes_view state, double x, std::int64_t,
                         point_result& out) const noexcept override {
    if (!std::isfinite(x)) return error::non_finite_value;
    if (std::fabs(x) > p_.max_abs_value) return error::value_out_of_range;
    auto& s = state_as<bocpd_state>(state);
    hypothesis* const hs = hypotheses(state);
    out = point_result{};
    out.value = x;
    ++s.count;
    // The prior of a new regime: the slow EWMA, with a variance floor so that a flat
    // start does not make every later point infinitely surprising.
    const double floor = 1e-12 * (1 + s.mean * s.mean);
    const double prior_var = std::max(s.var * p_.prior_scale, floor);
    double mix = 0, like = 0, best = -1, mean = 0;
    double best_scale = 0;
    for (std::uint32_t i = 0; i < s.runs; ++i) {
      hypothesis& h = hs[i];
      const double kappa = 1 + h.n, a = p_.prior_points + 0.5 * h.n, nu = 2 * a;
      const double scale2 = std::max(h.s2 * (kappa + 1) / kappa, floor);
      const double d = x - h.mu;
      const double t2 = d * d / scale2;
      // f / f(mode) = (1 + t^2 / nu)^(-(nu + 1) / 2)
      const double ratio = std::exp(-0.5 * (nu + 1) * std::log1p(t2 / nu));
      const double f = ratio * student_t_norm(a, scale2);
      mix += h.weight * ratio;
      like += h.weight * f;
      mean += h.weight * h.mu;
      if (h.weight > best) best = h.weight, best_scale = std::sqrt(scale2);
      h.weight *= f;  // growth, times (1 - H) below
    }
    double raw = 0;
    if (s.runs > 0) {
      raw = mix > 0 ? std::min(-std::log10(mix), 1e6) : 1e6;
      out.mean = mean;
      out.stddev = best_scale;
      out.z = best_scale > 0 ? (x - mean) / best_scale : 0.0;
    } else {
      out.mean = x;
      out.stddev = out.z = 0;
    }
    // Run-length posterior: growth and change, then normalise and truncate.
    double change = s.runs > 0 ? p_.hazard * like : 1.0;
    double total = change;
    for (std::uint32_t i = 0; i < s.runs; ++i) total += (hs[i].weight *= 1 - p_.hazard);
    if (!(total > 0) || !std::isfinite(total)) {
      // x is impossible under every hypothesis (in double precision): a change for sure.
      s.runs = 0;
      change = total = 1;
    }
    std::uint32_t kept = 0;
    for (std::uint32_t i = 0; i < s.runs; ++i) {
      hypothesis h = hs[i];
      h.weight /= total;
      if (!(h.weight >= p_.min_weight)) continue;
      // Posterior update with x (Welford form of the Normal-Gamma update).
      const double kappa = 1 + h.n, d = x - h.mu;
      // beta += kappa d^2 / (2 (kappa + 1)), alpha += 1/2, kept as s2 = beta / alpha.
      const double a = p_.prior_points + 0.5 * h.n;
      h.s2 += (kappa * d * d / (2 * (kappa + 1)) - 0.5 * h.s2) / (a + 0.5);
      h.mu += d / (kappa + 1);
      h.n += 1;
      hs[kept++] = h;
    }
    // The new regime (seen x), replacing the lightest when full.
    hypothesis fresh{change / total, 1, 0, 0};
    {
      const double d = x - s.mean;
      fresh.mu = s.count > 1 ? s.mean + d / 2 : x;
      fresh.s2 =
          (p_.prior_points * prior_var + (s.count > 1 ? d * d / 4 : 0)) / (p_.prior_points + 0.5);
    }
    if (kept < p_.max_runs) {
      hs[kept++] = fresh;
    } else {
      std::uint32_t lightest = 0;
      for (std::uint32_t i = 1; i < kept; ++i) {
        if (hs[i].weight < hs[lightest].weight) lightest = i;
      }
      if (hs[lightest].weight < fresh.weight) hs[lightest] = fresh;
    }
    s.runs = kept;
    double sum = 0;
    for (std::uint32_t i = 0; i < kept; ++i) sum += hs[i].weight;
    for (std::uint32_t i = 0; i < kept; ++i) hs[i].weight /= sum;
    // The slow EWMA.
    {
      const double w = std::max(1.0 / static_cast<double>(s.count), p_.alpha);
      const double d = x - s.mean;
      s.mean += w * d;
      s.var = (1 - w) * (s.var + w * d * d);
    }
    out.warming_up = s.count <= p_.training;
    if (out.warming_up) raw = 0;
    if (s.since_alarm < p_.rest) raw = 0;
    if (s.since_alarm != ~std::uint64_t{0}) ++s.since_alarm;
    out.raw = raw;
    out.score = score_of_log10_tail(raw);
    out.anomaly = !out.warming_up && raw >= p_.alarm;
    if (out.anomaly) s.since_alarm = 0;
    return {};
  }

  std::size_t encoded_size() const noexcept override { return 8 * 5 + 32 * p_.max_runs; }
  void encode(bytes_view state, byte_buffer& out) const override {
    const auto& s = state_as<bocpd_state>(state);
    const hypothesis* const hs = hypotheses(state);
    put_u64(out, s.count);
    put_u64(out, s.since_alarm);
    put_f64(out, s.mean);
    put_f64(out, s.var);
    put_u64(out, s.runs);
    for (std::uint32_t i = 0; i < p_.max_runs; ++i) {
      const hypothesis h = i < s.runs ? hs[i] : hypothesis{0, 0, 0, 0};
      put_f64(out, h.weight);
      put_f64(out, h.n);
      put_f64(out, h.mu);
      put_f64(out, h.s2);
    }
  }
  std::error_code decode(bytes_view in, mutable_bytes_view state) const noexcept override {
    if (in.size() != encoded_size()) return error::invalid_snapshot;
    reader r{in};
    const std::uint64_t count = r.u64(), since_alarm = r.u64();
    const double mean = r.f64(), var = r.f64();
    const std::uint64_t runs = r.u64();
    bool ok = std::isfinite(mean) && std::isfinite(var) && var >= 0 && runs <= p_.max_runs &&
              (count == 0) == (runs == 0);
    hypothesis h[runs_limit];
    for (std::uint32_t i = 0; i < p_.max_runs; ++i) {
      h[i] = {r.f64(), r.f64(), r.f64(), r.f64()};
      if (i < runs) {
        ok &= std::isfinite(h[i].weight) && h[i].weight >= 0 && h[i].weight <= 1 &&
              std::isfinite(h[i].n) && h[i].n >= 1 && h[i].n <= static_cast<double>(count) &&
              std::isfinite(h[i].mu) && std::isfinite(h[i].s2) && h[i].s2 >= 0;
      }
    }
    if (!ok || !r.ok()) return error::invalid_snapshot;
    init(state);
    auto& s = state_as<bocpd_state>(state);
    s.count = count;
    s.since_alarm = since_alarm;
    s.mean = mean;
    s.var = var;
    s.runs = static_cast<std::uint32_t>(runs);
    for (std::uint32_t i = 0; i < runs; ++i) hypotheses(state)[i] = h[i];
    return {};
  }

 private:
  bocpd_params p_;
};

}  // namespace

result<std::shared_ptr<const detector>> make_bocpd(std::string_view text) {
  bocpd_params p;
  auto r = parse_parameters(text, [&](std::string_view k, std::string_view v) -> result<void> {
    const real_parameter reals[] = {{"hazard", &p.hazard, 1e-9, 0.5},
                                    {"min_weight", &p.min_weight, 0, 0.01},
                                    {"alpha", &p.alpha, 1e-9, 1},
                                    {"prior_scale", &p.prior_scale, 1e-6, 1e6},
                                    {"prior_points", &p.prior_points, 1, 1e6},
                                    {"alarm", &p.alarm, 0, 1e6},
                                    {"max_abs_value", &p.max_abs_value, 1e-300, 1e150}};
    const whole_parameter wholes[] = {{"max_runs", &p.max_runs, 2, runs_limit},
                                      {"training", &p.training, 0, 1'000'000'000},
                                      {"rest", &p.rest, 0, 1'000'000'000}};
    return set_parameter(k, v, reals, wholes, "bocpd");
  });
  if (!r) return std::move(r).take_failure();
  return std::shared_ptr<const detector>(std::make_shared<bocpd>(p));
}

}  // namespace iotblocks::anomaly::detail
