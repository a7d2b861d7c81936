#include <iotblocks/anomaly/detail/pewma_reference.hpp>
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/pewma.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "anomaly/internal.hpp"

namespace {
#define IOTBLOCKS_ANOMALY_FMA 0
using iotblocks::anomaly::pewma_params;
using iotblocks::anomaly::pewma_state;
using iotblocks::anomaly::point_result;
using iotblocks::anomaly::detail::pewma_constants;
#include "anomaly/pewma_kernel.hpp"
#undef IOTBLOCKS_ANOMALY_FMA
namespace with_fma {  // the FMA build's arithmetic (std::fma in software here)
#define IOTBLOCKS_ANOMALY_FMA 1
using iotblocks::anomaly::pewma_params;
using iotblocks::anomaly::pewma_state;
using iotblocks::anomaly::point_result;
using iotblocks::anomaly::detail::pewma_constants;
#include "anomaly/pewma_kernel.hpp"
#undef IOTBLOCKS_ANOMALY_FMA
}  // namespace with_fma
}  // namespace

namespace iotblocks::anomaly {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// Sensor-like data: a slow sine, noise, and a spike every 97 points.
std::vector<double> wind(std::size_t n, double offset, double scale, unsigned seed = 7) {
  std::mt19937_64 rng{seed};
  std::normal_distribution<double> noise{0.0, 1.0};
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    double x = 3 * std::sin(static_cast<double>(i) / 50) + noise(rng);
    if (i % 97 == 96) x += 12;
    v[i] = offset + scale * x;
  }
  return v;
}

// |a - b| relative to the data scale (the published form's own rounding is ~1e-14 there).
void expect_close(double a, double b, double scale, const char* what, std::size_t i) {
  if (std::isinf(a) || std::isinf(b)) {
    EXPECT_EQ(a, b) << what << " at " << i;
  } else {
    EXPECT_LE(std::fabs(a - b), 1e-9 * scale) << what << " at " << i << ": " << a << " vs " << b;
  }
}

TEST(Pewma, DefaultsAreThePublishedOnes) {
  const pewma_params p;
  EXPECT_EQ(p.alpha0, 0.95);
  EXPECT_EQ(p.beta, 0.5);
  EXPECT_EQ(p.training, 30u);
  EXPECT_EQ(p.threshold, 0.002);
  auto m = pewma::create().value();
  EXPECT_NEAR(m.z_threshold(), 3.2545, 1e-4);  // the walk-through's "3.3 standard deviations"
  EXPECT_EQ(m.parameters(),
            "alpha0=0.95,beta=0.5,training=30,threshold=0.002,max_abs_value=1e+150");
}

TEST(Pewma, EqualsThePublishedEquationsOnWellConditionedData) {
  for (const pewma_params& p :
       {pewma_params{}, pewma_params{.alpha0 = 0.8, .beta = 0.9, .training = 5, .threshold = 0.01},
        pewma_params{.alpha0 = 0.99, .beta = 0.0, .training = 1, .threshold = 0.05}}) {
    const auto model = pewma::create(p).value();
    detail::pewma_reference ref{p.alpha0, p.beta, p.training, p.threshold};
    pewma_state s;
    const auto data = wind(20000, 10.0, 1.0);
    std::size_t anomalies = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
      point_result r;
      ASSERT_FALSE(model.update(s, data[i], r));
      const auto e = ref.update(data[i]);
      expect_close(r.mean, e.mean, 10, "mean", i);
      expect_close(r.stddev, e.stddev, 10, "std", i);
      expect_close(r.z, e.z, 10, "z", i);
      expect_close(r.p, e.p, 1, "p", i);
      EXPECT_EQ(r.anomaly, e.anomaly) << i;
      EXPECT_EQ(r.raw, std::fabs(r.z));
      // score: L / (L + 5), L = -log10 of the two-sided normal tail of Z.
      const double tail = std::erfc(std::fabs(r.z) / std::sqrt(2.0));
      if (tail > 1e-300) {
        const double l = -std::log10(tail);
        EXPECT_NEAR(r.score, l / (l + 5), 1e-9) << i;
      }
      anomalies += r.anomaly;
    }
    EXPECT_GT(anomalies, 100u);  // the spikes
    EXPECT_EQ(s.count, data.size());
  }
}

// The same recursion in extended precision (x86: 64-bit mantissa) as the yardstick:
// the production update stays within 1e-12 of it in Z while the plain transcription
// drifts with the offset (its s2 - s1^2 cancels). Needs a long double wider than
// double (x86-64 64 bits, aarch64 113); on 32-bit Arm long double is double, and
// there is no yardstick to build.
#if LDBL_MANT_DIG >= 64
TEST(Pewma, AgreesWithExtendedPrecision) {
  {
    for (double offset : {0.0, 1000.0}) {
      const auto model = pewma::create().value();
      pewma_state s;
      long double m = 0, v = 0;
      double worst = 0;
      const auto data = wind(200000, offset, 1.0);
      for (std::size_t i = 0; i < data.size(); ++i) {
        point_result r;
        ASSERT_FALSE(model.update(s, data[i], r));
        const long double x = data[i], t = static_cast<long double>(i + 1);
        if (i == 0) {
          m = x;
          continue;
        }
        const long double sd = sqrtl(v), d = x - m, z = sd > 0 ? d / sd : 0;
        const long double p = expl(-z * z / 2) / sqrtl(2 * 3.14159265358979323846264L);
        const long double a = t < 30 ? 1 - 1 / t : (1 - 0.5L * p) * 0.95L;
        m = a * m + (1 - a) * x;
        v = a * (v + (1 - a) * d * d);
        if (i >= 2) worst = std::max(worst, static_cast<double>(fabsl(r.z - z)));
      }
      EXPECT_LT(worst, 1e-11) << "offset " << offset;
    }
  }
}
#endif

TEST(Pewma, StaysFiniteWhereTheTextbookVarianceFails) {
  // 1e8 +- 0.01: s2 - s1^2 cancels all digits (it is ~1e16 with a ~1e-4 difference).
  const auto model = pewma::create().value();
  detail::pewma_reference ref;
  pewma_state s;
  bool reference_failed = false;
  double max_abs_z = 0;
  const auto data = wind(5000, 1e8, 0.01 / 3);
  for (std::size_t i = 0; i < data.size(); ++i) {
    point_result r;
    ASSERT_FALSE(model.update(s, data[i], r));
    const auto e = ref.update(data[i]);
    if (!std::isfinite(e.stddev) || !std::isfinite(e.z)) reference_failed = true;
    // Point 2 sees the variance of one point (0): Z = +-inf by definition.
    if (i >= 2) {
      ASSERT_TRUE(std::isfinite(r.mean) && std::isfinite(r.stddev) && std::isfinite(r.z)) << i;
    }
    ASSERT_GE(s.variance, 0.0);
    if (i > 100) {
      EXPECT_NEAR(r.mean, 1e8, 0.02) << i;
      EXPECT_GT(r.stddev, 1e-4) << i;
      EXPECT_LT(r.stddev, 0.05) << i;
      max_abs_z = std::max(max_abs_z, std::fabs(r.z));
    }
  }
  EXPECT_TRUE(reference_failed);
  EXPECT_LT(max_abs_z, 30);  // spikes are ~12 noise units, so large but sane
  // The same series shifted to 0 gives the same z scores: the variance is offset-free.
  // (Up to the inputs' own rounding: 1e8 has an ulp of 1.5e-8 against deviations of ~3e-3.)
  pewma_state a, b;
  for (std::size_t i = 0; i < 2000; ++i) {
    point_result ra, rb;
    ASSERT_FALSE(model.update(a, data[i], ra));
    ASSERT_FALSE(model.update(b, data[i] - 1e8, rb));
    if (i > 30) {
      EXPECT_NEAR(ra.z, rb.z, 1e-4 * std::max(1.0, std::fabs(rb.z))) << i;
    }
  }
}

TEST(Pewma, FirstPointAndZeroVariance) {
  const auto model = pewma::create({.training = 3}).value();
  pewma_state s;
  point_result r;
  ASSERT_FALSE(model.update(s, 5.0, r));
  EXPECT_EQ(r.mean, 5.0);
  EXPECT_EQ(r.stddev, 0.0);
  EXPECT_EQ(r.z, 0.0);
  EXPECT_EQ(r.score, 0.0);
  EXPECT_FALSE(r.anomaly);
  EXPECT_TRUE(r.warming_up);
  EXPECT_EQ(s.mean, 5.0);
  EXPECT_EQ(s.variance, 0.0);
  // Same value, zero variance: Z = 0.
  ASSERT_FALSE(model.update(s, 5.0, r));
  EXPECT_EQ(r.z, 0.0);
  ASSERT_FALSE(model.update(s, 5.0, r));  // t = 3 = T: out of training
  EXPECT_FALSE(r.warming_up);
  EXPECT_FALSE(r.anomaly);
  // Different value on zero variance: Z = +-inf, P = 0, flagged.
  ASSERT_FALSE(model.update(s, 4.0, r));
  EXPECT_EQ(r.z, -inf);
  EXPECT_EQ(r.raw, inf);
  EXPECT_EQ(r.score, 1.0);
  EXPECT_EQ(r.p, 0.0);
  EXPECT_TRUE(r.anomaly);
  EXPECT_EQ(r.lower, 5.0);
  EXPECT_EQ(r.upper, 5.0);
  // It moved the state by 1 - alpha0 = 5% and the variance became positive.
  EXPECT_NEAR(s.mean, 5.0 - 0.05, 1e-15);
  EXPECT_GT(s.variance, 0.0);
}

TEST(Pewma, TrainingPointsAreAveragedAndNeverFlagged) {
  const auto model = pewma::create({.training = 4}).value();
  pewma_state s;
  point_result r;
  for (double x : {1.0, 2.0, 3.0}) {
    ASSERT_FALSE(model.update(s, x, r));
    EXPECT_FALSE(r.anomaly);
    EXPECT_TRUE(r.warming_up);
  }
  EXPECT_DOUBLE_EQ(s.mean, 2.0);            // plain average
  EXPECT_DOUBLE_EQ(s.variance, 2.0 / 3);    // population variance
  ASSERT_FALSE(model.update(s, 100.0, r));  // t = T: judged
  EXPECT_FALSE(r.warming_up);
  EXPECT_TRUE(r.anomaly);
  EXPECT_NEAR(r.z, 98 / std::sqrt(2.0 / 3), 1e-9);
}

TEST(Pewma, RejectsNonFiniteAndHugeValuesWithoutTouchingState) {
  const auto model = pewma::create().value();
  pewma_state s;
  point_result r;
  for (double x : {1.0, 2.0, 1.5}) ASSERT_FALSE(model.update(s, x, r));
  const pewma_state before = s;
  for (double bad : {std::nan(""), inf, -inf}) {
    EXPECT_EQ(model.update(s, bad, r), error::non_finite_value);
  }
  EXPECT_EQ(model.update(s, 1e151, r), error::value_out_of_range);
  EXPECT_EQ(s.mean, before.mean);
  EXPECT_EQ(s.variance, before.variance);
  EXPECT_EQ(s.count, before.count);
  // The span form stops before the bad value.
  std::vector<double> xs{1.0, 2.0, std::nan(""), 4.0}, scores(4);
  std::error_code ec;
  EXPECT_EQ(model.update(s, xs, scores, ec), 2u);
  EXPECT_EQ(ec, error::non_finite_value);
  EXPECT_EQ(s.count, 5u);
}

TEST(Pewma, ParametersAreValidated) {
  EXPECT_EQ(pewma::create({.alpha0 = 1.5}).error(), error::invalid_parameter);
  EXPECT_EQ(pewma::create({.beta = -0.1}).error(), error::invalid_parameter);
  EXPECT_EQ(pewma::create({.training = 0}).error(), error::invalid_parameter);
  EXPECT_EQ(pewma::create({.threshold = 0.4}).error(), error::invalid_parameter);
  EXPECT_EQ(pewma::create({.threshold = std::nan("")}).error(), error::invalid_parameter);
  EXPECT_TRUE(pewma::create({.alpha0 = 0, .beta = 1, .training = 1}));
}

TEST(Pewma, SpanAndBatchAgreeWithPerPointUpdates) {
  const auto model = pewma::create({.training = 10}).value();
  constexpr std::size_t series = 37;  // not a multiple of the SIMD width
  constexpr std::size_t steps = 400;
  std::vector<std::vector<double>> data;
  for (unsigned k = 0; k < series; ++k) data.push_back(wind(steps, 5.0 * k, 1.0 + k, 11 + k));
  pewma_batch batch{model, series};
  std::vector<pewma_state> one(series), spans(series);
  std::vector<double> values(series), scores(series);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t k = 0; k < series; ++k) values[k] = data[k][t];
    ASSERT_FALSE(batch.update(values, scores));
    for (std::size_t k = 0; k < series; ++k) {
      point_result r;
      ASSERT_FALSE(model.update(one[k], values[k], r));
      double span_score = 0;
      std::error_code ec;
      ASSERT_EQ(model.update(spans[k], std::span{&values[k], 1}, std::span{&span_score, 1}, ec),
                1u);
      if (std::isinf(r.raw)) {  // the span and batch forms output |Z|, point_result::raw
        ASSERT_EQ(scores[k], r.raw);
        ASSERT_EQ(span_score, r.raw);
      } else {
        ASSERT_NEAR(scores[k], r.raw, 1e-9 * std::max(1.0, r.raw)) << k << " " << t;
        ASSERT_NEAR(span_score, r.raw, 1e-9 * std::max(1.0, r.raw)) << k << " " << t;
      }
      const auto b = batch.state(k);
      ASSERT_NEAR(b.mean, one[k].mean, 1e-12 * (1 + std::fabs(one[k].mean)));
      ASSERT_NEAR(b.variance, one[k].variance, 1e-12 * (1 + one[k].variance));
      ASSERT_EQ(b.count, one[k].count);
    }
  }
  // All or nothing.
  values[5] = std::nan("");
  const auto before = batch.state(0);
  EXPECT_EQ(batch.update(values, scores), error::non_finite_value);
  EXPECT_EQ(batch.state(0).mean, before.mean);
  EXPECT_EQ(batch.update(std::span{values}.first(3), scores), error::size_mismatch);
}

// Relative errors against glibc's exp (itself < 1 ulp) over the whole range used.
TEST(PewmaKernel, FastExpsAreWithinThreeUlps) {
  double worst_table = 0, worst_poly = 0;
  for (double q = 0; q <= q_cutoff; q += 0.000731) {
    const double want = std::exp(-0.5 * q);
    worst_table = std::max(worst_table, std::fabs(exp_neg_half(q) - want) / want);
    worst_poly = std::max(worst_poly, std::fabs(exp_poly(-0.5 * q) - want) / want);
    worst_table = std::max(worst_table, std::fabs(with_fma::exp_neg_half(q) - want) / want);
    worst_poly = std::max(worst_poly, std::fabs(with_fma::exp_poly(-0.5 * q) - want) / want);
  }
  EXPECT_LT(worst_table, 6.7e-16);
  EXPECT_LT(worst_poly, 6.7e-16);
  EXPECT_EQ(exp_neg_half(0.0), 1.0);
  EXPECT_EQ(exp_poly(0.0), 1.0);
  RecordProperty("worst_table", std::to_string(worst_table));
  RecordProperty("worst_poly", std::to_string(worst_poly));
  std::printf("exp_neg_half max rel error %.3g, exp_poly %.3g\n", worst_table, worst_poly);
}

}  // namespace
}  // namespace iotblocks::anomaly

namespace iotblocks::anomaly {
namespace {

// The constant table is the formula's at run time, bit for bit, with this C library
// (x86-64 glibc, where the table was generated: scripts/normal_tail_table.py).
TEST(NormalTailTable, IsTheComputedOne) {
  const auto computed = detail::compute_tail_table();
  for (int i = 0; i < detail::tail_table::intervals; ++i) {
    for (int k = 0; k < 4; ++k) {
      ASSERT_EQ(detail::the_tail_table.c[i][k], computed.c[i][k]) << "interval " << i << " " << k;
    }
  }
}

// The [0, 1] score of |Z|: exact where erfc is representable, asymptotic beyond
// Z = 30, continuous there, strictly increasing (no ties among extreme points), 1
// only at infinity.
TEST(ScoreOfZ, IsStrictlyIncreasingAndContinuous) {
  EXPECT_EQ(detail::score_of_z(0), 0.0);
  EXPECT_NEAR(detail::score_of_z(3.2905267314918945), 3.0 / 8.0, 1e-9);  // p = 1e-3
  EXPECT_NEAR(detail::log10_normal_tail(31.999999), detail::log10_normal_tail(32.000001), 1e-4);
  EXPECT_NEAR(detail::log10_normal_tail(30.0), 197.00817926599692, 1e-8);  // erfc(30/sqrt2)
  for (double z = 0; z < 37; z += 0.0137) {  // the table against erfc itself
    const double exact = -std::log10(std::erfc(z / std::sqrt(2.0)));
    ASSERT_NEAR(detail::log10_normal_tail(z), exact, 1e-8 * std::max(1.0, exact)) << z;
  }
  double prev = -1;
  for (double z = 0; z < 1e4; z = z * 1.01 + 0.01) {
    const double s = detail::score_of_z(z);
    ASSERT_GT(s, prev) << z;
    ASSERT_LT(s, 1.0) << z;
    prev = s;
  }
  EXPECT_EQ(detail::score_of_z(HUGE_VAL), 1.0);
  EXPECT_EQ(detail::score_of_z(std::nan("")), 0.0);
}

}  // namespace
}  // namespace iotblocks::anomaly
