// The NAB scorer on a hand-made corpus (tests/data/anomaly/nab): two files of 100
// rows at 5-minute steps, one label window each over rows 40..49 (width 10), a
// probationary period of floor(0.15 * 100) = 15 rows. Score files hold the
// detector outputs of each case; expected totals are worked out by hand from
//   s(y) = 2 / (1 + e^(5y)) - 1,  s(-1) = 0.986614,
//   in window:    y = -(49 - i + 1) / 10, weight s(y) / s(-1)
//   after window: y = (i - 49) / 9,       weight 0.11 s(y)
//   before any window: -0.11.
// Standard profile: S_null = -2 (both windows missed), S_perfect = 2.
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/nab.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

namespace iotblocks::anomaly::nab {
namespace {

const std::string dir = "tests/data/anomaly/nab";

std::vector<scored_file> with_scores(const corpus& c, const std::string& which) {
  std::vector<scored_file> out;
  for (const auto& f : c.files) {
    const std::string stem = f.name.substr(f.name.find('/') + 1, 1);  // "a" or "b"
    std::ifstream in(dir + "/scores/" + which + "_" + stem + ".csv");
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    const auto points = parse_series_csv(text).value();
    scored_file s{f.name, {}, {}, f.windows};
    for (const auto& p : points) {
      s.time_ms.push_back(p.time_ms);
      s.scores.push_back(p.value);
    }
    out.push_back(std::move(s));
  }
  return out;
}

struct Nab : ::testing::Test {
  corpus c = load_corpus(dir).value();
  profile_score run(const std::string& which, std::size_t profile = 0) {
    return score(with_scores(c, which), c.profiles.at(profile)).value();
  }
};

TEST_F(Nab, LoadsTheCorpus) {
  ASSERT_EQ(c.files.size(), 2u);
  EXPECT_EQ(c.files[0].name, "hand/a.csv");
  EXPECT_EQ(c.files[0].points.size(), 100u);
  ASSERT_EQ(c.files[0].windows.size(), 1u);
  EXPECT_EQ(c.files[0].windows[0].begin_ms, c.files[0].points[40].time_ms);
  EXPECT_EQ(c.files[0].windows[0].end_ms, c.files[0].points[49].time_ms);
  ASSERT_EQ(c.profiles.size(), 3u);
  EXPECT_EQ(c.profiles[2].name, "reward_low_FN_rate");
  EXPECT_EQ(c.profiles[2].fn_weight, 2.0);
}

TEST_F(Nab, DetectionAtWindowStartIsPerfect) {
  const auto s = run("start");
  EXPECT_DOUBLE_EQ(s.raw, 2.0);  // s(-1) / s(-1) per window
  EXPECT_DOUBLE_EQ(s.null_score, -2.0);
  EXPECT_DOUBLE_EQ(s.perfect_score, 2.0);
  EXPECT_DOUBLE_EQ(s.normalized, 100.0);
  EXPECT_EQ(s.threshold, 1.0);
  EXPECT_EQ(s.detected_windows, 2u);
  EXPECT_EQ(s.false_positives, 0u);
}

TEST_F(Nab, LateDetectionEarnsLess) {
  // Row 49: y = -0.1, weight 0.248242 per window.
  EXPECT_NEAR(run("end").normalized, 62.412077, 1e-5);
  // Row 45 of file a only: y = -0.5, weight 0.859793; file b missed (-1).
  const auto s = run("middle");
  EXPECT_NEAR(s.raw, 0.859793 - 1, 1e-6);
  EXPECT_NEAR(s.normalized, 46.494814, 1e-5);
  EXPECT_EQ(s.detected_windows, 1u);
}

TEST_F(Nab, FalsePositivesCostByDistanceFromThePreviousWindow) {
  // Only a detection before any window (-0.11): flagging nothing is better.
  auto s = run("fp_only");
  EXPECT_EQ(s.threshold, std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(s.normalized, 0.0);
  // Row 45 and row 52 (y = 3/9, weight 0.11 s(1/3) = -0.075049).
  s = run("fp_after");
  EXPECT_NEAR(s.raw, 0.859793 - 0.075049 - 1, 1e-6);
  EXPECT_NEAR(s.normalized, 44.618594, 1e-5);
  EXPECT_EQ(s.false_positives, 1u);
}

TEST_F(Nab, ProbationaryRowsAreNotScored) {
  const auto s = run("probation");  // detections only in rows 0..14
  EXPECT_DOUBLE_EQ(s.raw, -2.0);
  EXPECT_DOUBLE_EQ(s.normalized, 0.0);
}

TEST_F(Nab, ThresholdIsOptimisedOverTheCorpusPerProfile) {
  // a: window start at 0.5; b: window start at 0.8 and 10 early FPs at 0.6.
  // Thresholds: 0.8 -> 1 - 1 = 0; 0.6 -> -1.1; 0.5 -> 2 - 1.1 = 0.9.
  auto s = run("joint", 0);
  EXPECT_DOUBLE_EQ(s.threshold, 0.5);
  EXPECT_NEAR(s.raw, 0.9, 1e-12);
  EXPECT_NEAR(s.normalized, 72.5, 1e-9);
  // reward_low_FP_rate (FP 0.22): 0.5 gives 2 - 2.2 = -0.2, so 0.8 (S = 0) wins.
  s = run("joint", 1);
  EXPECT_DOUBLE_EQ(s.threshold, 0.8);
  EXPECT_NEAR(s.normalized, 50.0, 1e-9);
  // reward_low_FN_rate (FN 2): S_null = -4; 0.5 gives 0.9: 100 * 4.9 / 6.
  s = run("joint", 2);
  EXPECT_DOUBLE_EQ(s.threshold, 0.5);
  EXPECT_NEAR(s.normalized, 100 * 4.9 / 6, 1e-9);
}

TEST_F(Nab, ScoreAtAFixedThresholdDoesNotSweep) {
  // "joint" at 0.5 is the standard profile's best (S = 0.9); at 0.8, S = 0; at 0.6,
  // S = -1.1 (a's window missed, b's found, 10 FPs); above every score, S = S_null.
  const auto files = with_scores(c, "joint");
  const auto& standard = c.profiles[0];
  EXPECT_NEAR(score_at(files, standard, 0.5).value().normalized, 72.5, 1e-9);
  auto s = score_at(files, standard, 0.8).value();
  EXPECT_NEAR(s.raw, 0.0, 1e-12);
  EXPECT_NEAR(s.normalized, 50.0, 1e-9);
  EXPECT_EQ(s.detected_windows, 1u);
  s = score_at(files, standard, 0.6).value();
  EXPECT_NEAR(s.raw, -1.1, 1e-12);
  EXPECT_EQ(s.false_positives, 10u);
  s = score_at(files, standard, 2.0).value();
  EXPECT_DOUBLE_EQ(s.raw, s.null_score);
  EXPECT_DOUBLE_EQ(s.normalized, 0.0);
}

TEST_F(Nab, RejectsInconsistentInput) {
  auto files = with_scores(c, "start");
  files[0].scores.pop_back();
  EXPECT_EQ(score(files, c.profiles[0]).error(), error::invalid_corpus);
  files = with_scores(c, "start");
  files[1].scores[50] = std::nan("");
  EXPECT_EQ(score(files, c.profiles[0]).error(), error::invalid_corpus);
  EXPECT_EQ(load_corpus("tests/data/anomaly/no-such-dir").error(), error::invalid_corpus);
}

TEST(NabProbation, IsCappedAt750Rows) {
  // 10000 rows, window over rows 700..799, detection at row 740 (inside the
  // uncapped 15% = 1500 rows, outside the 750-row cap): it must count.
  scored_file f;
  f.name = "long";
  for (int i = 0; i < 10000; ++i) {
    f.time_ms.push_back(i * 1000);
    f.scores.push_back(i == 760 ? 1.0 : 0.0);
  }
  f.windows.push_back({700 * 1000, 799 * 1000});
  const auto s = score(std::span{&f, 1}, standard_profiles()[0]).value();
  EXPECT_EQ(s.detected_windows, 1u);
  EXPECT_GT(s.normalized, 50);
}

}  // namespace
}  // namespace iotblocks::anomaly::nab

namespace iotblocks::anomaly {
namespace {

TEST(NabLocate, EnvironmentThenFirstCandidateWithData) {
  ::unsetenv("IOTBLOCKS_NAB_DATA");
  const std::string candidates[] = {"no/such/dir", "tests/data/anomaly/nab"};
  EXPECT_EQ(nab::locate_corpus(candidates).value(), "tests/data/anomaly/nab");
  ::setenv("IOTBLOCKS_NAB_DATA", "/explicit/choice", 1);
  EXPECT_EQ(nab::locate_corpus(candidates).value(), "/explicit/choice");
  ::unsetenv("IOTBLOCKS_NAB_DATA");
}

TEST(NabLocate, ErrorNamesEveryPathTried) {
  ::unsetenv("IOTBLOCKS_NAB_DATA");
  const std::string candidates[] = {"no/such/dir", "/also/missing"};
  const auto r = nab::locate_corpus(candidates);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::invalid_corpus);
  for (const char* part : {"IOTBLOCKS_NAB_DATA", "no/such/dir", "/also/missing"}) {
    EXPECT_NE(r.describe().find(part), std::string::npos) << r.describe();
  }
}

}  // namespace
}  // namespace iotblocks::anomaly
