// "ensemble": several simple statistics of a series, each calibrated against the
// series' own history, combined by their maximum, with a rest period after an
// alarm. Constant memory (3,336 bytes per series, 3,848 with fast_level=1, 3,856 with
// fast_residual=1), no look-ahead.
//
// Features of point x (all from state before x):
//   deviation  |x - m| / s               m, s: EWMA mean and std (weight alpha)
//   level      |l - m| / s               l: short EWMA mean (weight level_alpha)
//   spread     |ln(v_l / s^2)|           v_l: short EWMA variance
//   season     |x - m_k| / s_k           m_k, s_k: EWMA stats of time-of-day slot k
//   fast level |l2 - m| / s              l2: EWMA mean (weight 2 level_alpha); only with
//                                        fast_level=1, its 512 bytes after the rest
//   fast residual |x - m4| / s4          m4, s4: EWMA mean and std (weight 4 alpha); only
//                                        with fast_residual=1, instead of the fast level
// Each raw feature r is ranked against its own past values (a histogram over
// log10 r, 8 bins per decade): calibrated = -log10 P(past >= r), plus
// record_weight * log2(r / max past r) when r beats every past value. The score
// is the largest calibrated feature plus novelty_weight * (distance beyond the
// range of all past values, in range widths). With likelihood=1 (default) the
// score is the larger of that and an HTM-style anomaly likelihood: -log10 of the
// upper normal tail of the mean of the last `likelihood_window` u = score / (score
// + 5) against an EWMA fit of that mean's past (catches runs of moderate points).
// A score >= alarm flags an anomaly and zeroes the scores of the next `rest`
// points (one alarm per event).
#include "anomaly/factory.hpp"
#include "anomaly/internal.hpp"

#include <iotblocks/anomaly/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace iotblocks::anomaly::detail {
namespace {

constexpr int bins = 96;     // log10 r from -6 to +6, 8 bins per decade
constexpr int features = 4;  // without the fast level
constexpr std::size_t cal_bytes = 24 + 8 * (bins / 8) + 4 * bins;  // one encoded calibrator
constexpr int slots = 48;                                          // half-hour slots of the day
constexpr std::int64_t day_ms = 86'400'000;
constexpr double max_raw = 1e6;

struct ensemble_params {
  double alpha = 0.012;
  double level_alpha = 0.03;
  double season_alpha = 0.015;
  std::uint32_t training = 100;
  double novelty_weight = 20;
  double record_weight = 8;
  double alarm = 3.5;
  std::uint32_t rest = 50;
  double half_life = 200000;  // points; 0: calibration and range never forget
  std::uint32_t season = 1;
  double max_abs_value = 1e150;
  std::uint32_t likelihood = 1;  // 0: off
  std::uint32_t likelihood_window = 20;
  double likelihood_alpha = 0.001;
  double likelihood_min_std = 0.02;
  std::uint32_t fast_level = 0;     // 1: a second level feature at 2 level_alpha
  std::uint32_t fast_residual = 0;  // 1: a residual against a baseline at 4 alpha
};

constexpr std::uint32_t max_window = 32;
// HTM-style anomaly likelihood (Ahmad et al. 2017) over the ensemble's own score
// u = raw / (raw + 5): the mean of the last `likelihood_window` u against a long-run
// normal fit (EWMA, weight likelihood_alpha) of that mean, before this point.
struct likelihood_state {
  double ring[max_window];
  double sum;
  double mean, var;
  double n;
  std::uint32_t pos, filled;
};

// Ranks raw values against the past: decayed counts in log10 bins. Counts are
// stored scaled by `scale` (lazy exponential decay: new points weigh more), with
// per-group sums so a tail sum costs at most groups + group_size additions.
struct calibrator {
  static constexpr int group_size = 8;
  static constexpr int groups = bins / group_size;
  double total;  // scaled
  double max;    // largest past raw value (decays toward 0 with half_life)
  double scale;  // weight of a new point
  double group_total[groups];
  float count[bins];

  static double position(double raw) noexcept {
    // log10 as log2 * log10(2): glibc's log2 is several times cheaper than its log10.
    return std::clamp((std::log2(std::max(raw, 1e-6)) * 0.30102999566398119521 + 6) * 8, 0.0,
                      bins - 0.001);
  }
  // P(past >= raw), the calibrated score being -log10 of it (plus the record bonus).
  double tail(double pos) const noexcept {
    const int b = static_cast<int>(pos);
    double above = count[b] * (1 - (pos - b));
    const int g = b / group_size;
    for (int i = b + 1; i < (g + 1) * group_size; ++i) above += count[i];
    for (int i = g + 1; i < groups; ++i) above += group_total[i];
    return (above + scale) / (total + scale);
  }
  bool record(double raw) const noexcept { return raw > max && max > 0; }
  void add(double raw, double pos, double decay) noexcept {
    if (decay > 0) {
      scale /= 1 - decay;
      max *= 1 - decay;
      if (scale > 1e30) {
        for (float& c : count) c = static_cast<float>(c / scale);
        for (double& t : group_total) t /= scale;
        total /= scale;
        scale = 1;
      }
    }
    const int b = static_cast<int>(pos);
    count[b] += static_cast<float>(scale);
    group_total[b / group_size] += scale;
    total += scale;
    max = std::max(max, raw);
  }
};

struct ewma {
  double mean, var;
  void add(double x, double w) noexcept {
    const double d = x - mean;
    mean += w * d;
    var = (1 - w) * (var + w * d * d);
  }
};

double ratio(double d, double sd) noexcept {
  d = std::fabs(d);
  if (sd > 0) return std::min(d / sd, max_raw);
  return d == 0 ? 0.0 : max_raw;
}

struct ensemble_state {
  std::uint64_t count;
  std::uint64_t since_alarm;
  double low, high;  // range of past values
  ewma base, level;
  ewma season[slots];
  float season_count[slots];
  calibrator cal[features];
  likelihood_state lik;
};

// After ensemble_state when fast_level=1: a shorter mean and its own ranking.
struct fast_level_state {
  double mean;
  calibrator cal;
};

// After ensemble_state when fast_residual=1: a faster baseline and its own ranking.
struct fast_residual_state {
  ewma base;
  calibrator cal;
};
constexpr double fast_residual_speed = 4;  // its weight, in units of alpha

class ensemble final : public detector {
 public:
  explicit ensemble(const ensemble_params& p) : p_(p) {
    decay_ = p.half_life > 0 ? 1 - std::exp2(-1 / p.half_life) : 0.0;
  }

  std::string_view name() const noexcept override { return "ensemble"; }
  std::string parameters() const override {
    return "alpha=" + format_double(p_.alpha) + ",level_alpha=" + format_double(p_.level_alpha) +
           ",season_alpha=" + format_double(p_.season_alpha) +
           ",training=" + std::to_string(p_.training) +
           ",novelty_weight=" + format_double(p_.novelty_weight) +
           ",record_weight=" + format_double(p_.record_weight) +
           ",alarm=" + format_double(p_.alarm) + ",rest=" + std::to_string(p_.rest) +
           ",half_life=" + format_double(p_.half_life) + ",season=" + std::to_string(p_.season) +
           ",max_abs_value=" + format_double(p_.max_abs_value) +
           ",likelihood=" + std::to_string(p_.likelihood) +
           ",likelihood_window=" + std::to_string(p_.likelihood_window) +
           ",likelihood_alpha=" + format_double(p_.likelihood_alpha) +
           ",likelihood_min_std=" + format_double(p_.likelihood_min_std) +
           ",fast_level=" + std::to_string(p_.fast_level) +
           (p_.fast_residual ? ",fast_residual=1" : "");
  }
  std::size_t state_size() const noexcept override {
    return sizeof(ensemble_state) + (p_.fast_level ? sizeof(fast_level_state) : 0) +
           (p_.fast_residual ? sizeof(fast_residual_state) : 0);
  }
  void init(mutable_bytes_view s) const noexcept override {
    auto* st = new (s.data()) ensemble_state{};
    st->since_alarm = ~std::uint64_t{0};
    st->low = HUGE_VAL;
    st->high = -HUGE_VAL;
    for (auto& c : st->cal) c.scale = 1;
    if (p_.fast_level) {
      auto* f = new (s.data() + sizeof(ensemble_state)) fast_level_state{};
      f->cal.scale = 1;
    }
    if (p_.fast_residual) {
      auto* f = new (s.data() + sizeof(ensemble_state)) fast_residual_state{};
      f->cal.scale = 1;
    }
  }

  std::error_code update(mutable_bytes_view state, double x, std::int64_t time_ms,
                         point_result& out) const noexcept override {
    if (!std::isfinite(x)) return error::non_finite_value;
    if (std::fabs(x) > p_.max_abs_value) return error::value_out_of_range;
    auto& s = state_as<ensemble_state>(state);
    fast_level_state* fast =
        p_.fast_level ? &state_as<fast_level_state>(state.subspan(sizeof(ensemble_state)))
                      : nullptr;
    fast_residual_state* resid =
        p_.fast_residual ? &state_as<fast_residual_state>(state.subspan(sizeof(ensemble_state)))
                         : nullptr;
    out = point_result{};
    out.value = x;
    const double n = static_cast<double>(++s.count);
    const double sd = std::sqrt(s.base.var);
    const int slot =
        p_.season ? static_cast<int>((time_ms % day_ms + day_ms) % day_ms / (day_ms / slots)) : 0;
    double raw[features + 1] = {0, 0, 0, 0, 0};
    double novelty = 0;
    if (s.count > 1) {
      raw[0] = ratio(x - s.base.mean, sd);
      raw[1] = ratio(s.level.mean - s.base.mean, sd);
      if (fast) raw[features] = ratio(fast->mean - s.base.mean, sd);
      if (resid) raw[features] = ratio(x - resid->base.mean, std::sqrt(resid->base.var));
      if (s.base.var > 0) {
        raw[2] = std::min(std::fabs(std::log((s.level.var + 1e-300) / s.base.var)), max_raw);
      }
      if (p_.season && s.season_count[slot] > 3) {
        raw[3] = ratio(x - s.season[slot].mean, std::sqrt(s.season[slot].var));
      }
      const double range = s.high - s.low;
      if (s.count > 2 && range > 0) {
        novelty = std::max({0.0, (x - s.high) / range, (s.low - x) / range});
      }
      out.mean = s.base.mean;
      out.stddev = sd;
      out.z = sd > 0 ? (x - s.base.mean) / sd
                     : (x == s.base.mean ? 0.0 : std::copysign(HUGE_VAL, x - s.base.mean));
    } else {
      out.mean = x;
      out.stddev = out.z = 0;
    }
    // Learn.
    s.base.add(x, std::max(1 / n, p_.alpha));
    s.level.add(x, std::max(1 / n, p_.level_alpha));
    if (fast) fast->mean += std::max(1 / n, std::min(1.0, 2 * p_.level_alpha)) * (x - fast->mean);
    if (resid) resid->base.add(x, std::max(1 / n, std::min(1.0, fast_residual_speed * p_.alpha)));
    if (p_.season) {
      s.season[slot].add(x, std::max(1.0 / (s.season_count[slot] + 1), p_.season_alpha));
      s.season_count[slot] = std::min(s.season_count[slot] + 1, 1e9f);
    }
    if (decay_ > 0 && s.count > 1) {  // the range forgets too
      s.high -= decay_ * (s.high - s.base.mean);
      s.low += decay_ * (s.base.mean - s.low);
    }
    s.low = std::min(s.low, x);
    s.high = std::max(s.high, x);
    double score = 0;
    out.warming_up = s.count <= p_.training;
    calibrator* cal[features + 1] = {&s.cal[0], &s.cal[1], &s.cal[2], &s.cal[3],
                                     fast    ? &fast->cal
                                     : resid ? &resid->cal
                                             : nullptr};
    const int used = cal[features] ? features + 1 : features;
    double pos[features + 1];
    for (int i = 0; i < used; ++i) pos[i] = calibrator::position(raw[i]);
    if (!out.warming_up) {
      // max_i -log10 tail_i (+ record bonus): one logarithm for the features without a
      // record (the smallest tail), two for each feature with one (rare).
      double least_tail = 1;
      for (int i = 0; i < used; ++i) {
        if (i == 3 && !p_.season) continue;
        const double t = cal[i]->tail(pos[i]);
        if (cal[i]->record(raw[i])) {
          score =
              std::max(score, -std::log10(t) + p_.record_weight * std::log2(raw[i] / cal[i]->max));
        } else {
          least_tail = std::min(least_tail, t);
        }
      }
      score = std::max(score, -std::log2(least_tail) * 0.30102999566398119521);
      score += p_.novelty_weight * novelty;
    }
    if (s.count >= 3) {
      for (int i = 0; i < used; ++i) cal[i]->add(raw[i], pos[i], decay_);
    }
    if (p_.likelihood && !out.warming_up) {
      auto& l = s.lik;
      const double u = score_of_log10_tail(score);
      const auto w = p_.likelihood_window;
      if (l.filled == w) l.sum -= l.ring[l.pos];
      l.ring[l.pos] = u;
      l.sum += u;
      l.pos = l.pos + 1 == w ? 0 : l.pos + 1;
      if (l.filled < w) ++l.filled;
      if (l.pos == 0) {  // exact sum once per turn: no drift
        l.sum = 0;
        for (std::uint32_t i = 0; i < l.filled; ++i) l.sum += l.ring[i];
      }
      const double avg = l.sum / l.filled;
      double lik = 0;
      if (l.n >= 2) {
        const double lsd = std::max(std::sqrt(l.var), p_.likelihood_min_std);
        const double z = (avg - l.mean) / lsd;
        // one-sided upper tail: the two-sided -log10 tail plus log10 2
        if (z > 0) lik = std::max(0.0, log10_normal_tail(z) + 0.30102999566398119521);
      }
      l.n += 1;
      const double a = std::max(1 / l.n, p_.likelihood_alpha);
      const double d = avg - l.mean;
      l.mean += a * d;
      l.var = (1 - a) * (l.var + a * d * d);
      score = std::max(score, lik);
    }
    if (s.since_alarm < p_.rest) score = 0;
    if (s.since_alarm != ~std::uint64_t{0}) ++s.since_alarm;
    if (score >= p_.alarm) s.since_alarm = 0;
    out.raw = score;
    out.score = score_of_log10_tail(score);  // score is -log10 of a tail probability
    out.anomaly = score >= p_.alarm;
    return {};
  }

  std::size_t encoded_size() const noexcept override {
    return 8 + 8 + 8 * 2 + 8 * 4 + slots * (16 + 4) +
           features * (24 + 8 * calibrator::groups + 4 * bins) + 8 * (max_window + 4) + 8 +
           (p_.fast_level ? 8 + cal_bytes : 0) + (p_.fast_residual ? 16 + cal_bytes : 0);
  }
  void encode(bytes_view state, byte_buffer& out) const override {
    const auto& s = state_as<ensemble_state>(state);
    put_u64(out, s.count);
    put_u64(out, s.since_alarm);
    put_f64(out, s.low);
    put_f64(out, s.high);
    for (const ewma* e : {&s.base, &s.level}) put_f64(out, e->mean), put_f64(out, e->var);
    for (const auto& e : s.season) put_f64(out, e.mean), put_f64(out, e.var);
    for (float c : s.season_count) put_u32(out, std::bit_cast<std::uint32_t>(c));
    const auto put_cal = [&](const calibrator& c) {
      put_f64(out, c.total);
      put_f64(out, c.max);
      put_f64(out, c.scale);
      for (double t : c.group_total) put_f64(out, t);
      for (float b : c.count) put_u32(out, std::bit_cast<std::uint32_t>(b));
    };
    for (const auto& c : s.cal) put_cal(c);
    for (double v : s.lik.ring) put_f64(out, v);
    put_f64(out, s.lik.sum);
    put_f64(out, s.lik.mean);
    put_f64(out, s.lik.var);
    put_f64(out, s.lik.n);
    put_u32(out, s.lik.pos);
    put_u32(out, s.lik.filled);
    if (p_.fast_level) {
      const auto& f = state_as<fast_level_state>(state.subspan(sizeof(ensemble_state)));
      put_f64(out, f.mean);
      put_cal(f.cal);
    }
    if (p_.fast_residual) {
      const auto& f = state_as<fast_residual_state>(state.subspan(sizeof(ensemble_state)));
      put_f64(out, f.base.mean);
      put_f64(out, f.base.var);
      put_cal(f.cal);
    }
  }
  std::error_code decode(bytes_view in, mutable_bytes_view state) const noexcept override {
    reader r{in};
    ensemble_state s{};
    bool ok = true;
    auto f64 = [&](double& v, bool nonneg) {
      v = r.f64();
      ok &= std::isfinite(v) && (!nonneg || v >= 0);
    };
    auto f32 = [&](float& v) {
      v = std::bit_cast<float>(r.u32());
      ok &= std::isfinite(v) && v >= 0;
    };
    s.count = r.u64();
    s.since_alarm = r.u64();
    s.low = r.f64();
    s.high = r.f64();
    ok &= s.count == 0 ? (s.low == HUGE_VAL && s.high == -HUGE_VAL)
                       : (std::isfinite(s.low) && std::isfinite(s.high) && s.low <= s.high);
    for (ewma* e : {&s.base, &s.level}) f64(e->mean, false), f64(e->var, true);
    for (auto& e : s.season) f64(e.mean, false), f64(e.var, true);
    for (float& c : s.season_count) f32(c);
    const auto get_cal = [&](calibrator& c) {
      f64(c.total, true);
      f64(c.max, true);
      f64(c.scale, true);
      ok &= c.scale >= 1 && c.scale <= 1e30;
      for (double& t : c.group_total) f64(t, true);
      for (float& b : c.count) f32(b);
    };
    for (auto& c : s.cal) get_cal(c);
    // A state from before the likelihood ends here: that layer starts afresh. (The
    // fast level and the fast residual came after it: their states always have one.)
    if (r.remaining() != 0 || p_.fast_level || p_.fast_residual) {
      for (double& v : s.lik.ring) f64(v, true), ok &= v <= 1;
      f64(s.lik.sum, true);
      f64(s.lik.mean, false);
      f64(s.lik.var, true);
      f64(s.lik.n, true);
      s.lik.pos = r.u32();
      s.lik.filled = r.u32();
      ok &= s.lik.pos < p_.likelihood_window && s.lik.filled <= p_.likelihood_window;
    }
    fast_level_state f{};
    if (p_.fast_level) {
      f64(f.mean, false);
      get_cal(f.cal);
    }
    fast_residual_state fr{};
    if (p_.fast_residual) {
      f64(fr.base.mean, false);
      f64(fr.base.var, true);
      get_cal(fr.cal);
    }
    if (!ok || !r.ok() || r.remaining() != 0) return error::invalid_snapshot;
    new (state.data()) ensemble_state{s};
    if (p_.fast_level) new (state.data() + sizeof(ensemble_state)) fast_level_state{f};
    if (p_.fast_residual) new (state.data() + sizeof(ensemble_state)) fast_residual_state{fr};
    return {};
  }

 private:
  ensemble_params p_;
  double decay_;
};

}  // namespace

result<std::shared_ptr<const detector>> make_ensemble(std::string_view text) {
  ensemble_params p;
  auto r = parse_parameters(text, [&](std::string_view k, std::string_view v) -> result<void> {
    const real_parameter reals[] = {{"alpha", &p.alpha, 1e-9, 1},
                                    {"level_alpha", &p.level_alpha, 1e-9, 1},
                                    {"season_alpha", &p.season_alpha, 1e-9, 1},
                                    {"novelty_weight", &p.novelty_weight, 0, 1e6},
                                    {"record_weight", &p.record_weight, 0, 1e6},
                                    {"alarm", &p.alarm, 0, 1e6},
                                    {"half_life", &p.half_life, 0, 1e15},
                                    {"max_abs_value", &p.max_abs_value, 1e-300, 1e150},
                                    {"likelihood_alpha", &p.likelihood_alpha, 1e-9, 1},
                                    {"likelihood_min_std", &p.likelihood_min_std, 1e-6, 1}};
    const whole_parameter wholes[] = {{"training", &p.training, 3, 1'000'000'000},
                                      {"rest", &p.rest, 0, 1'000'000'000},
                                      {"season", &p.season, 0, 1},
                                      {"likelihood", &p.likelihood, 0, 1},
                                      {"likelihood_window", &p.likelihood_window, 1, max_window},
                                      {"fast_level", &p.fast_level, 0, 1},
                                      {"fast_residual", &p.fast_residual, 0, 1}};
    return set_parameter(k, v, reals, wholes, "ensemble");
  });
  if (!r) return std::move(r).take_failure();
  if (p.fast_level && p.fast_residual) {  // one fifth feature: the state stays under 4 KiB
    return failure{error::invalid_parameter,
                   "fast_residual: excludes fast_level (one fifth feature, state under 4 KiB)",
                   {}};
  }
  return std::shared_ptr<const detector>(std::make_shared<ensemble>(p));
}

}  // namespace iotblocks::anomaly::detail
