// The ensemble's anomaly likelihood (likelihood=1, the default): what it adds to
// the ensemble's per-point statistic, its state, and the NAB figures it is
// chosen by (leave-one-category-out on the bundled corpus).
#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/nab.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace iotblocks::anomaly {
namespace {

constexpr std::int64_t five_minutes = 300'000;

// Gaussian noise (sd 2) with a change at point 2000 that no single point makes
// extreme: the level moves by 1.2 sd for 60 points, the spread doubles for 100
// points, or a ramp climbs 0.025 sd a point.
std::vector<double> with_change(int kind, unsigned seed) {
  std::mt19937_64 rng{seed};
  std::normal_distribution<double> g{50, 2};
  std::vector<double> v(3000);
  for (auto& x : v) x = g(rng);
  for (std::size_t i = 2000; i < 2100; ++i) {
    const double k = static_cast<double>(i - 2000);
    if (kind == 0 && i < 2060) v[i] += 2.4;
    if (kind == 1) v[i] = 50 + (v[i] - 50) * 2;
    if (kind == 2) v[i] += 0.05 * k;
  }
  return v;
}

// First flag in [2000, 2100), or 2100 when none.
std::size_t first_flag(const char* parameters, const std::vector<double>& data) {
  series s{make_detector("ensemble", parameters).value()};
  std::size_t first = 2100;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto r = s.update(data[i], static_cast<std::int64_t>(i) * five_minutes).value();
    if (r.anomaly && i >= 2000 && i < first) first = i;
  }
  return first;
}

// The likelihood of the mean score over ten points rises while a change is still
// too small for any one point: the default flags such changes earlier than the
// ensemble's per-point statistic alone (likelihood=0), never later.
TEST(EnsembleLikelihood, FlagsGradualChangesEarlierThanThePerPointStatistic) {
  int earlier = 0, later = 0, missed_alone = 0, missed_with = 0;
  for (int kind = 0; kind < 3; ++kind) {
    for (unsigned seed = 1; seed <= 10; ++seed) {
      const auto data = with_change(kind, seed);
      const std::size_t alone = first_flag("likelihood=0", data);
      const std::size_t with = first_flag("", data);
      earlier += with < alone;
      later += with > alone;
      missed_alone += alone == 2100;
      missed_with += with == 2100;
    }
  }
  EXPECT_EQ(later, 0);
  EXPECT_GE(earlier, 5) << "of 30 series";
  EXPECT_LE(missed_with, missed_alone);
}

TEST(EnsembleLikelihood, StateStaysUnder4KiBAndDecodeChecksTheWindow) {
  const auto d = make_detector("ensemble").value();
  EXPECT_LE(d->state_size(), 4096u);
  EXPECT_NE(d->parameters().find("likelihood=1,likelihood_window=20"), std::string::npos);
  EXPECT_EQ(make_detector("ensemble", "likelihood_window=33").error(), error::invalid_parameter);
  EXPECT_EQ(make_detector("ensemble", "likelihood=2").error(), error::invalid_parameter);
  EXPECT_EQ(make_detector("ensemble", "likelihood_min_std=0").error(), error::invalid_parameter);
  // A snapshot taken with a 30-point window does not decode into a 20-point one
  // (its ring position may lie beyond the window).
  const auto wide = make_detector("ensemble", "likelihood_window=30").value();
  series s{wide};
  for (int i = 0; i < 400; ++i) s.update(i % 7, i * five_minutes).value();
  byte_buffer e;
  wide->encode(s.state(), e);
  series narrow{d};
  EXPECT_EQ(d->decode(e, narrow.state()), error::invalid_snapshot);
  EXPECT_FALSE(wide->decode(e, narrow.state()));
}

// States written before the likelihood existed (without its ring and fit) still
// restore: the detector keeps what it learnt and the likelihood starts afresh.
TEST(EnsembleLikelihood, AStateFromBeforeTheLikelihoodRestores) {
  const auto d = make_detector("ensemble").value();
  series learnt{d};
  for (int i = 0; i < 600; ++i) learnt.update(50 + i % 5, i * five_minutes).value();
  byte_buffer e;
  d->encode(learnt.state(), e);
  constexpr std::size_t likelihood_bytes = 8 * (32 + 4) + 8;  // ring, fit, position
  const bytes_view old_layout{e.data(), e.size() - likelihood_bytes};
  series restored{d};
  ASSERT_FALSE(d->decode(old_layout, restored.state()));
  // Same history as the series it came from, so a spike is flagged and a usual value is not.
  EXPECT_FALSE(restored.update(52, 600 * five_minutes).value().anomaly);
  EXPECT_TRUE(restored.update(500, 601 * five_minutes).value().anomaly);
  // Truncated anywhere else it is refused.
  EXPECT_EQ(d->decode(bytes_view{e.data(), e.size() - 8}, restored.state()),
            error::invalid_snapshot);
}

// The shipped defaults on the bundled NAB subset, only the threshold chosen without
// the held-out category (standard profile; the other two cost 13 s more under ASan
// and are in docs/anomaly.md): pooled held-out score at least 77.5, within 2 points
// of the in-sample score, and every fold within 5 points of its in-sample score.
// The defaults themselves are the whole-corpus pick of a nested search whose own
// held-out score is lower (docs/anomaly.md, "Choosing the defaults"); this test
// guards the defaults, it does not validate how they were chosen.
TEST(EnsembleLikelihood, HoldsUpOnNabCategoriesLeftOut) {
  auto corpus = nab::load_corpus("data/nab").value();
  std::erase_if(corpus.profiles, [](const auto& p) { return p.name != "standard"; });
  ASSERT_EQ(corpus.profiles.size(), 1u);
  const auto v = nab::cross_validate("ensemble", {}, corpus).value();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_GE(v[0].held_out, 77.5);
  EXPECT_GE(v[0].held_out, v[0].in_sample - 2);
  ASSERT_EQ(v[0].folds.size(), 5u);
  for (const auto& f : v[0].folds) {
    if (f.windows == 0) continue;
    EXPECT_LE(f.in_sample - f.held_out_score, 5.0) << f.held_out;
  }
}

}  // namespace
}  // namespace iotblocks::anomaly
