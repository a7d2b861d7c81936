// The Bayesian online change-point detector ("bocpd"): step changes found at the
// step and not before, bounded state, and a NAB file.
#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/keyed_store.hpp>
#include <iotblocks/anomaly/nab.hpp>

#include <gtest/gtest.h>

#include "anomaly/noise.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace iotblocks::anomaly {
namespace {

using testing::noise;

// A level step of 8 standard deviations at index 1000: the highest score so far is
// at the step, the first flag (alarm 4, score 0.444) is at 1000, the predictive
// mean follows the new level within a few points, and the new level is not flagged
// again and again.
TEST(Bocpd, FlagsAStepChangeAtTheStepAndNotBefore) {
  for (unsigned seed = 1; seed <= 5; ++seed) {
    auto data = noise(2000, 10, 1, seed);
    for (std::size_t i = 1000; i < data.size(); ++i) data[i] += 8;
    series s{make_detector("bocpd", "alarm=4").value()};
    std::vector<point_result> out;
    for (double x : data) out.push_back(s.update(x).value());
    std::size_t first = data.size();
    for (std::size_t i = 0; i < out.size() && first == data.size(); ++i) {
      if (out[i].anomaly) first = i;
    }
    EXPECT_EQ(first, 1000u) << "seed " << seed;
    for (std::size_t i = 0; i < 1000; ++i) EXPECT_LT(out[i].score, out[1000].score) << i;
    EXPECT_NEAR(out[1030].mean, 18, 0.75) << "seed " << seed;
    std::size_t later = 0;
    for (std::size_t i = 1001; i < out.size(); ++i) later += out[i].anomaly;
    EXPECT_LE(later, 3u) << "seed " << seed;
  }
}

// A change of spread with the mean unchanged (sd 1 -> 5): the most probable regime
// after it is a new one, whose predictive spread (stddev) is the new one.
TEST(Bocpd, FollowsAVarianceChangeWithANewRegime) {
  auto data = noise(1500, 0, 1, 11);
  const auto wide = noise(500, 0, 5, 12);
  std::copy(wide.begin(), wide.end(), data.begin() + 1000);
  series s{make_detector("bocpd").value()};
  std::vector<point_result> out;
  for (double x : data) out.push_back(s.update(x).value());
  EXPECT_NEAR(out[999].stddev, 1.0, 0.2);
  EXPECT_GT(out[1100].stddev, 3.5);
  EXPECT_LT(out[1100].stddev, 7.0);
  double top = 0;
  for (std::size_t i = 200; i < 1000; ++i) top = std::max(top, out[i].score);
  double after = 0;
  for (std::size_t i = 1000; i < 1050; ++i) after = std::max(after, out[i].score);
  EXPECT_GT(after, top);  // the wider points are more surprising than any before
}

// Gaussian noise with no change: the run-length posterior keeps one long regime
// and nothing is flagged.
TEST(Bocpd, StationaryNoiseIsNotFlagged) {
  const auto data = noise(20000, -3, 0.5, 21);
  series s{make_detector("bocpd").value()};
  std::size_t flags = 0;
  double top = 0;
  for (double x : data) {
    const auto r = s.update(x).value();
    flags += r.anomaly;
    top = std::max(top, r.score);
    ASSERT_GE(r.score, 0.0);
    ASSERT_LE(r.score, 1.0);
  }
  EXPECT_EQ(flags, 0u);
  EXPECT_LT(top, 0.5);
}

TEST(Bocpd, StateIsBoundedByMaxRuns) {
  const auto d = make_detector("bocpd").value();
  EXPECT_EQ(d->state_size(), 48u + 32u * 32u);  // 1,072 bytes by default
  const auto big = make_detector("bocpd", "max_runs=120").value();
  EXPECT_LE(big->state_size(), 4096u);
  EXPECT_EQ(make_detector("bocpd", "max_runs=121").error(), error::invalid_parameter);
  EXPECT_EQ(make_detector("bocpd", "max_runs=1").error(), error::invalid_parameter);
  EXPECT_EQ(make_detector("bocpd", "hazard=0").error(), error::invalid_parameter);
  // Truncation: with 4 run lengths the detector still finds the step.
  series s{make_detector("bocpd", "max_runs=4").value()};
  auto data = noise(1500, 100, 2, 31);
  for (std::size_t i = 800; i < data.size(); ++i) data[i] -= 40;
  std::size_t first = data.size();
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (s.update(data[i]).value().anomaly && first == data.size()) first = i;
  }
  EXPECT_EQ(first, 800u);
}

// A NAB file (realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv, one labelled
// window): after the probationary period the detector's first flag falls inside the
// label window, and nothing is flagged before it.
TEST(Bocpd, FindsTheLabelledAnomalyOfANabFile) {
  const auto corpus = nab::load_corpus("data/nab").value();
  const auto it = std::find_if(corpus.files.begin(), corpus.files.end(), [](const auto& f) {
    return f.name == "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
  });
  ASSERT_NE(it, corpus.files.end());
  ASSERT_EQ(it->windows.size(), 1u);
  const auto& w = it->windows[0];
  series s{make_detector("bocpd").value()};
  const std::size_t probation = std::min<std::size_t>(it->points.size() * 15 / 100, 750);
  std::int64_t first = -1;
  for (std::size_t i = 0; i < it->points.size(); ++i) {
    const auto& p = it->points[i];
    const auto r = s.update(p.value, p.time_ms).value();
    if (i >= probation && r.anomaly && first < 0) first = p.time_ms;
  }
  EXPECT_GE(first, w.begin_ms);
  EXPECT_LE(first, w.end_ms);
}

// Values at +-max_abs_value with nothing pruned: every state stays finite and
// encodable and scores stay in [0, 1]. (The state keeps beta / alpha, bounded by the
// data's spread, rather than beta, which would grow by about 5e299 a point here and
// overflow after some 3.6e8 points.)
TEST(Bocpd, ExtremeValuesKeepEveryHypothesisFinite) {
  const auto d = make_detector("bocpd", "min_weight=0,max_runs=4,hazard=1e-9").value();
  series s{d};
  for (int i = 0; i < 100'000; ++i) {
    const auto r = s.update(i % 2 ? -1e150 : 1e150).value();
    ASSERT_GE(r.score, 0.0) << i;
    ASSERT_LE(r.score, 1.0) << i;
    if (i % 10'000 == 9'999) {
      byte_buffer e;
      d->encode(s.state(), e);
      series copy{d};
      ASSERT_FALSE(d->decode(e, copy.state())) << i;
    }
  }
}

// In a keyed store: a snapshot taken mid-stream restores to a store that goes on
// scoring exactly as the original.
TEST(Bocpd, KeyedStoreSnapshotContinuesIdentically) {
  keyed_store store{make_detector("bocpd", "max_runs=16").value()};
  const auto a = noise(600, 5, 1, 41), b = noise(600, -50, 3, 42);
  for (std::size_t i = 0; i < 300; ++i) {
    store.score("dev-a", "t", a[i], 0).value();
    store.score("dev-b", "t", b[i], 0).value();
  }
  auto copy = keyed_store::restore(store.snapshot()).value();
  for (std::size_t i = 300; i < 600; ++i) {
    const double x = i == 450 ? a[i] + 30 : a[i];
    const auto r1 = store.score("dev-a", "t", x, 0).value();
    const auto r2 = copy.score("dev-a", "t", x, 0).value();
    EXPECT_EQ(r1.score, r2.score) << i;
    EXPECT_EQ(r1.anomaly, r2.anomaly) << i;
    EXPECT_EQ(store.score("dev-b", "t", b[i], 0).value().raw,
              copy.score("dev-b", "t", b[i], 0).value().raw);
  }
}

}  // namespace
}  // namespace iotblocks::anomaly
