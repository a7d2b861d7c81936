// nab::cross_validate: leave-one-category-out. Every fold's parameters and
// threshold are the best on the other categories, and the held-out score is the
// held-out category's score at exactly that choice.
#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/nab.hpp>

#include <gtest/gtest.h>

#include <algorithm>
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

// Four categories; `shift` gives category "b" twice the files, each with a small
// spike in its label window, so a choice that read "b" would move.
corpus make_four(bool shift) {
  corpus c;
  c.profiles = standard_profiles();
  for (const char* cat : {"a", "b", "c", "d"}) {
    for (int k = 0; k < (shift && cat[0] == 'b' ? 6 : 3); ++k) {
      std::mt19937_64 rng{static_cast<std::uint64_t>(100 * cat[0] + k + 7)};  // per file
      data_file f;
      f.name = std::string(cat) + "/f" + std::to_string(k) + ".csv";
      const double dof = cat[0] == 'a' ? 30.0 : cat[0] == 'c' ? 4.0 : cat[0] == 'd' ? 2.5 : 8.0;
      std::student_t_distribution<double> noise{dof};
      const bool moved = shift && cat[0] == 'b';
      for (int i = 0; i < 600; ++i) {
        double x = 100 + noise(rng) + (i % 96 < 48 ? 0.5 : 0.0);
        if (i == 350 + 30 * k) x += moved ? 5 : 9 + 3 * k;
        if (i >= 150 + 40 * k && i < 180 + 40 * k) x += cat[0] == 'd' ? 4 : 2;
        f.points.push_back({i * step, x});
      }
      f.windows.push_back({(340 + 30 * k) * step, (370 + 30 * k) * step});
      c.files.push_back(std::move(f));
    }
  }
  return c;
}

const std::vector<std::string> four_candidates{"alpha=0.003", "alpha=0.02", "alpha=0.1",
                                               "alpha=0.4"};

// The nested rule, written out for one set of training categories: per candidate,
// each category left out in turn, threshold swept on the others, the one left out
// scored at it; the best pooled inner score wins (the first on ties). With `worst`,
// the best lowest score of one category left out wins.
struct hand_choice {
  std::size_t candidate = 0;
  double inner = 0;
};
hand_choice nested_by_hand(const std::vector<std::vector<scored_file>>& runs,
                           const std::vector<std::string>& train, const cost_profile& profile,
                           bool worst = false) {
  hand_choice best{0, -1e300};
  for (std::size_t k = 0; k < runs.size(); ++k) {
    double raw = 0, null = 0, perfect = 0, lowest = 1e300;
    for (const auto& inner : train) {
      std::vector<scored_file> fit, held;
      for (const auto& f : runs[k]) {
        const auto cat = category_of(f.name);
        if (cat == inner) {
          held.push_back(f);
        } else if (std::find(train.begin(), train.end(), cat) != train.end()) {
          fit.push_back(f);
        }
      }
      const auto t = score(fit, profile).value().threshold;
      const auto s = score_at(held, profile, t).value();
      raw += s.raw, null += s.null_score, perfect += s.perfect_score;
      lowest = std::min(lowest, s.normalized);
    }
    const double merit = worst ? lowest : 100 * (raw - null) / (perfect - null);
    if (merit > best.inner) best = {k, merit};
  }
  return best;
}

TEST(NabValidate, InnerFoldsChooseByTheirOwnHeldOutScores) {
  const corpus c = make_four(false);
  validation_options o;
  o.rule = selection::inner_folds;
  const auto v = cross_validate("ewma", four_candidates, c, o).value();
  ASSERT_EQ(v.size(), 3u);
  std::vector<std::vector<scored_file>> runs;
  for (const auto& p : four_candidates) runs.push_back(run(*make_detector("ewma", p).value(), c));
  const std::vector<std::string> cats{"a", "b", "c", "d"};
  bool differs_from_pooled = false;
  for (std::size_t pi = 0; pi < v.size(); ++pi) {
    const auto& profile = c.profiles[pi];
    const auto whole = nested_by_hand(runs, cats, profile);
    EXPECT_EQ(v[pi].parameters, four_candidates[whole.candidate]);
    EXPECT_NEAR(v[pi].inner, whole.inner, 1e-9);
    EXPECT_EQ(v[pi].threshold, score(runs[whole.candidate], profile).value().threshold);
    ASSERT_EQ(v[pi].folds.size(), 4u);
    for (const auto& f : v[pi].folds) {
      std::vector<std::string> train;
      for (const auto& cat : cats) {
        if (cat != f.held_out) train.push_back(cat);
      }
      const auto chosen = nested_by_hand(runs, train, profile);
      EXPECT_EQ(f.parameters, four_candidates[chosen.candidate]) << f.held_out;
      EXPECT_NEAR(f.inner, chosen.inner, 1e-9) << f.held_out;
      const auto rest = only(runs[chosen.candidate], f.held_out, false);
      EXPECT_EQ(f.threshold, score(rest, profile).value().threshold);
      EXPECT_EQ(f.train, score(rest, profile).value().normalized);
      const auto held =
          score_at(only(runs[chosen.candidate], f.held_out, true), profile, f.threshold).value();
      EXPECT_EQ(f.held_out_score, held.normalized);
      // The pooled rule on the same categories:
      double best = -1e300;
      std::size_t pooled = 0;
      for (std::size_t k = 0; k < runs.size(); ++k) {
        const double s = score(only(runs[k], f.held_out, false), profile).value().normalized;
        if (s > best) best = s, pooled = k;
      }
      differs_from_pooled |= pooled != chosen.candidate;
    }
  }
  EXPECT_TRUE(differs_from_pooled);  // the corpus tells the two rules apart
}

// worst_fold: the same inner folds, but the candidate whose weakest inner category
// scores best wins, which here is not always the one with the best pooled score.
TEST(NabValidate, WorstFoldChoosesByTheWeakestInnerCategory) {
  const corpus c = make_four(false);
  validation_options o;
  o.rule = selection::worst_fold;
  const auto v = cross_validate("ewma", four_candidates, c, o).value();
  ASSERT_EQ(v.size(), 3u);
  std::vector<std::vector<scored_file>> runs;
  for (const auto& p : four_candidates) runs.push_back(run(*make_detector("ewma", p).value(), c));
  const std::vector<std::string> cats{"a", "b", "c", "d"};
  bool differs_from_inner = false;
  for (std::size_t pi = 0; pi < v.size(); ++pi) {
    const auto& profile = c.profiles[pi];
    const auto whole = nested_by_hand(runs, cats, profile, true);
    EXPECT_EQ(v[pi].parameters, four_candidates[whole.candidate]);
    EXPECT_NEAR(v[pi].inner, whole.inner, 1e-9);
    ASSERT_EQ(v[pi].folds.size(), 4u);
    for (const auto& f : v[pi].folds) {
      std::vector<std::string> train;
      for (const auto& cat : cats) {
        if (cat != f.held_out) train.push_back(cat);
      }
      const auto chosen = nested_by_hand(runs, train, profile, true);
      EXPECT_EQ(f.parameters, four_candidates[chosen.candidate]) << f.held_out;
      EXPECT_NEAR(f.inner, chosen.inner, 1e-9) << f.held_out;
      differs_from_inner |= nested_by_hand(runs, train, profile).candidate != chosen.candidate;
    }
  }
  EXPECT_TRUE(differs_from_inner);  // the corpus tells the two rules apart
}

// A fold's choice is a function of the other categories only: changing the held-out
// category's data changes the whole-corpus choice but not that fold's.
TEST(NabValidate, AFoldsChoiceNeverReadsItsHeldOutCategory) {
  const corpus c = make_four(false), changed = make_four(true);
  for (const auto rule : {selection::best_pooled, selection::inner_folds}) {
    validation_options o;
    o.rule = rule;
    const auto v = cross_validate("ewma", four_candidates, c, o).value();
    const auto w = cross_validate("ewma", four_candidates, changed, o).value();
    ASSERT_EQ(v.size(), w.size());
    bool whole_moved = false;
    for (std::size_t pi = 0; pi < v.size(); ++pi) {
      whole_moved |= v[pi].parameters != w[pi].parameters || v[pi].threshold != w[pi].threshold;
      ASSERT_EQ(v[pi].folds.size(), 4u);
      const auto& fv = v[pi].folds[1];
      const auto& fw = w[pi].folds[1];
      ASSERT_EQ(fv.held_out, "b");
      EXPECT_EQ(fv.parameters, fw.parameters);
      EXPECT_EQ(fv.threshold, fw.threshold);
      EXPECT_EQ(fv.train, fw.train);
      EXPECT_EQ(fv.inner, fw.inner);
      EXPECT_NE(fv.held_out_raw, fw.held_out_raw);  // "b" itself did change
    }
    EXPECT_TRUE(whole_moved) << "the change would move a choice that read it";
  }
}

corpus without(const corpus& c, const std::string& cat) {
  corpus out;
  out.profiles = c.profiles;
  for (const auto& f : c.files) {
    if (category_of(f.name) != cat) out.files.push_back(f);
  }
  return out;
}

const std::vector<axis> two_axes{{"alpha", {"0.02", "0.003", "0.1", "0.4"}},
                                 {"training", {"30", "10", "100"}}};

// search(): each axis in turn takes its best value with the others fixed, the
// merit being exactly the pooled or inner held-out score of that one parameter set.
TEST(NabSearch, EachAxisTakesItsBestValueByTheRule) {
  const corpus c = make_four(false);
  const auto& profile = c.profiles[0];
  corpus one = c;
  one.profiles = {profile};
  for (const auto rule : {selection::best_pooled, selection::inner_folds, selection::worst_fold}) {
    search_options o;
    o.rule = rule;
    o.passes = 1;
    const auto r = search("ewma", two_axes, c, profile, o).value();
    const auto merit = [&](const std::string& text) {
      const std::string cands[] = {text};
      const auto v = cross_validate("ewma", cands, one).value();
      if (rule == selection::worst_fold) {
        double lowest = 1e300;
        for (const auto& f : v[0].folds) lowest = std::min(lowest, f.held_out_score);
        return lowest;
      }
      return rule == selection::inner_folds ? v[0].held_out : v[0].in_sample;
    };
    // Axis 1 from training=30, then axis 2 from the alpha chosen.
    std::string alpha = "0.02";
    double best = merit("alpha=0.02,training=30");
    for (const char* a : {"0.003", "0.1", "0.4"}) {
      const double m = merit(std::string("alpha=") + a + ",training=30");
      if (m > best) best = m, alpha = a;
    }
    std::string training = "30";
    for (const char* t : {"10", "100"}) {
      const double m = merit("alpha=" + alpha + ",training=" + t);
      if (m > best) best = m, training = t;
    }
    const std::string expected = "alpha=" + alpha + ",training=" + training;
    EXPECT_EQ(r.parameters, expected);
    EXPECT_EQ(r.merit, best);
    EXPECT_EQ(r.evaluated, 6u);
    const auto s = score(run(*make_detector("ewma", expected).value(), c), profile).value();
    EXPECT_EQ(r.threshold, s.threshold);
    EXPECT_EQ(r.score, s.normalized);
  }
}

// validate_search(): every fold's whole choice is search() on the other categories
// alone, and changing the held-out category's data changes nothing about that choice.
TEST(NabSearch, EveryFoldSearchesWithoutItsCategory) {
  const corpus c = make_four(false), changed = make_four(true);
  const auto& profile = c.profiles[0];
  search_options o;
  o.rule = selection::inner_folds;
  const auto v = validate_search("ewma", two_axes, c, profile, o).value();
  const auto w = validate_search("ewma", two_axes, changed, profile, o).value();
  EXPECT_EQ(v.whole.parameters, search("ewma", two_axes, c, profile, o).value().parameters);
  EXPECT_TRUE(v.whole.parameters != w.whole.parameters || v.whole.threshold != w.whole.threshold);
  ASSERT_EQ(v.folds.size(), 4u);
  double raw = 0, null = 0, perfect = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& f = v.folds[i];
    const auto alone = search("ewma", two_axes, without(c, f.held_out), profile, o).value();
    EXPECT_EQ(f.parameters, alone.parameters) << f.held_out;
    EXPECT_EQ(f.threshold, alone.threshold) << f.held_out;
    const auto files = only(run(*make_detector("ewma", f.parameters).value(), c), f.held_out, true);
    const auto held = score_at(files, profile, f.threshold).value();
    EXPECT_EQ(f.held_out_score, held.normalized);
    raw += held.raw, null += held.null_score, perfect += held.perfect_score;
    if (f.held_out == "b") {
      EXPECT_EQ(f.parameters, w.folds[i].parameters);
      EXPECT_EQ(f.threshold, w.folds[i].threshold);
      EXPECT_NE(f.held_out_raw, w.folds[i].held_out_raw);
    }
  }
  EXPECT_NEAR(v.held_out, 100 * (raw - null) / (perfect - null), 1e-9);
}

// A margin keeps an axis' current value unless another gains more than it.
TEST(NabSearch, AMarginKeepsValuesThatGainLess) {
  const corpus c = make_four(false);
  const auto& profile = c.profiles[0];
  search_options o;
  const auto free = search("ewma", two_axes, c, profile, o).value();
  ASSERT_NE(free.parameters, "alpha=0.02,training=30");  // something gains here
  corpus one = c;
  one.profiles = {profile};
  const std::string start[] = {"alpha=0.02,training=30"};
  const double at_start = cross_validate("ewma", start, one).value()[0].in_sample;
  o.margin = free.merit - at_start + 0.01;  // more than the whole gain
  const auto kept = search("ewma", two_axes, c, profile, o).value();
  EXPECT_EQ(kept.parameters, "alpha=0.02,training=30");
  EXPECT_EQ(kept.merit, at_start);
}

// output::flag: each row is the detector's own flag, so detections sit at its own
// threshold parameter. run() records 1 exactly where point_result::anomaly is set; a
// fold learns no threshold, so every held-out category scores what it scores in-sample.
TEST(NabValidate, FlagsAreTheDetectorsOwnDetections) {
  const corpus c = make_corpus();
  const auto model = make_detector("ewma", "threshold=4").value();
  const auto flags = run(*model, c, output::flag);
  ASSERT_EQ(flags.size(), c.files.size());
  std::size_t flagged = 0;
  for (std::size_t i = 0; i < c.files.size(); ++i) {
    series s{model};
    for (std::size_t j = 0; j < c.files[i].points.size(); ++j) {
      const bool anomaly = s.update(c.files[i].points[j].value).value().anomaly;
      EXPECT_EQ(flags[i].scores[j], anomaly ? 1.0 : 0.0) << i << ":" << j;
      flagged += anomaly;
    }
  }
  EXPECT_GT(flagged, 0u);
  validation_options o;
  o.what = output::flag;
  const std::vector<std::string> candidates{"threshold=4"};
  const auto v = cross_validate("ewma", candidates, c, o).value();
  const auto swept = cross_validate("ewma", candidates, c).value();
  for (std::size_t pi = 0; pi < v.size(); ++pi) {
    const auto& profile = c.profiles[pi];
    EXPECT_NEAR(v[pi].in_sample, score_at(flags, profile, 1.0).value().normalized, 1e-9);
    EXPECT_NE(v[pi].in_sample, swept[pi].in_sample);  // the sweep chose another threshold
    for (const auto& f : v[pi].folds) {
      EXPECT_EQ(f.held_out_score, f.in_sample) << profile.name << " " << f.held_out;
      EXPECT_EQ(f.held_out_score,
                score_at(only(flags, f.held_out, true), profile, 1.0).value().normalized);
    }
  }
}

TEST(NabSearch, AnEmptyAxisIsRefused) {
  const corpus c = make_four(false);
  const std::vector<axis> bad{{"alpha", {}}};
  EXPECT_EQ(search("ewma", bad, c, c.profiles[0]).error(), error::invalid_parameter);
}

TEST(NabValidate, UnknownDetectorOrParameterFails) {
  const corpus c = make_corpus();
  EXPECT_FALSE(cross_validate("nope", {}, c));
  const std::vector<std::string> bad{"alpha=7"};
  EXPECT_FALSE(cross_validate("ewma", bad, c));
}

}  // namespace
}  // namespace iotblocks::anomaly::nab
