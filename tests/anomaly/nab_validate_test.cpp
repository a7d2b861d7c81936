// nab::cross_validate: leave-one-category-out. Every fold's parameters and
// threshold are the best on the other categories, and the held-out score is the
// held-out category's score at exactly that choice.
#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/nab.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace iotblocks::anomaly::nab {
namespace {

constexpr std::int64_t step = 300'000;

// Three categories of noisy files with a spike inside each label window; the
// spikes of category "b" are smaller and its noise heavier, so a threshold tuned
// without "b" is not the one "b" would choose for itself.
corpus make_corpus() {
  corpus c;
  c.profiles = standard_profiles();
  std::mt19937_64 rng{11};
  for (const char* cat : {"a", "b", "c"}) {
    for (int k = 0; k < 3; ++k) {
      data_file f;
      f.name = std::string(cat) + "/f" + std::to_string(k) + ".csv";
      const bool b = cat[0] == 'b';
      std::student_t_distribution<double> noise{b ? 3.0 : 30.0};
      for (int i = 0; i < 1200; ++i) {
        double x = 100 + noise(rng);
        if (i == 700 + 50 * k) x += b ? 7 : 20;
        f.points.push_back({i * step, x});
      }
      f.windows.push_back({(690 + 50 * k) * step, (720 + 50 * k) * step});
      c.files.push_back(std::move(f));
    }
  }
  return c;
}

std::vector<scored_file> only(const std::vector<scored_file>& all, const std::string& cat,
                              bool keep) {
  std::vector<scored_file> out;
  for (const auto& f : all) {
    if ((category_of(f.name) == cat) == keep) out.push_back(f);
  }
  return out;
}

TEST(NabValidate, EachFoldIsChosenWithoutItsCategory) {
  const corpus c = make_corpus();
  const std::vector<std::string> candidates{"alpha=0.005", "alpha=0.05", "alpha=0.3"};
  const auto v = cross_validate("ewma", candidates, c).value();
  ASSERT_EQ(v.size(), 3u);  // one per profile
  std::vector<std::vector<scored_file>> runs;
  for (const auto& p : candidates) runs.push_back(run(*make_detector("ewma", p).value(), c));
  for (std::size_t pi = 0; pi < v.size(); ++pi) {
    const auto& profile = c.profiles[pi];
    EXPECT_EQ(v[pi].profile, profile.name);
    ASSERT_EQ(v[pi].folds.size(), 3u);
    double raw = 0, null = 0, perfect = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      const auto& f = v[pi].folds[j];
      EXPECT_EQ(f.held_out, std::string(1, static_cast<char>('a' + j)));
      // The choice is the best train score over every candidate...
      double best = -1e300;
      std::size_t chosen = 0;
      for (std::size_t k = 0; k < candidates.size(); ++k) {
        const auto s = score(only(runs[k], f.held_out, false), profile).value();
        if (s.normalized > best) best = s.normalized, chosen = k;
        if (candidates[k] == f.parameters) {
          EXPECT_EQ(f.threshold, s.threshold);
          EXPECT_EQ(f.train, s.normalized);
        }
      }
      EXPECT_EQ(f.parameters, candidates[chosen]);
      // ...and the held-out category is scored at it, without a sweep.
      const auto held =
          score_at(only(runs[chosen], f.held_out, true), profile, f.threshold).value();
      EXPECT_EQ(f.held_out_score, held.normalized);
      EXPECT_EQ(f.held_out_raw, held.raw);
      EXPECT_EQ(f.windows, 3u);
      EXPECT_EQ(f.detected, held.detected_windows);
      EXPECT_LE(f.held_out_score, score(only(runs[chosen], f.held_out, true), profile)
                                      .value()
                                      .normalized);  // at most its own best threshold
      raw += held.raw, null += held.null_score, perfect += held.perfect_score;
    }
    EXPECT_NEAR(v[pi].held_out, 100 * (raw - null) / (perfect - null), 1e-9);
    // In-sample: the whole corpus' best candidate and threshold.
    double best = -1e300;
    for (const auto& r : runs) best = std::max(best, score(r, profile).value().normalized);
    EXPECT_EQ(v[pi].in_sample, best);
  }
}

TEST(NabValidate, UnknownDetectorOrParameterFails) {
  const corpus c = make_corpus();
  EXPECT_FALSE(cross_validate("nope", {}, c));
  const std::vector<std::string> bad{"alpha=7"};
  EXPECT_FALSE(cross_validate("ewma", bad, c));
}

}  // namespace
}  // namespace iotblocks::anomaly::nab
