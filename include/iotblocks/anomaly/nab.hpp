// The Numenta Anomaly Benchmark (NAB) scoring method, and a runner over a NAB
// corpus directory. Used by `iotblocks anomaly nab`, benchmarks/nab and the tests.
//
//   auto corpus = nab::load_corpus("/data/nab").value();
//   auto model = anomaly::make_detector("pewma").value();
//   auto files = nab::run(*model, corpus).value();
//   for (const auto& profile : corpus.profiles)
//     nab::score(files, profile).value().normalized;   // 0 = null detector, 100 = perfect
//
// Scoring, as NAB 1.x's sweeper does it: per file the first
// min(floor(0.15 N), 750) rows are a probationary period and not scored. A
// detection (score >= threshold) inside a label window at relative position
// y = -(right - i + 1) / width in [-1, 0) earns tp_weight * s(y) / s(-1), with the
// scaled sigmoid s(y) = 2 / (1 + e^(5y)) - 1; only the best (earliest) detection of
// a window counts, and a window without one costs fn_weight. A detection outside
// windows costs fp_weight * s(y) with y = (i - right_prev) / (width_prev - 1), the
// distance past the previous window (-fp_weight when there is none, or y >= 3).
// The threshold is the one maximising the corpus total, and the total is
// normalised as 100 (S - S_null) / (S_perfect - S_null), S_perfect = windows *
// tp_weight, S_null = the same optimisation over a detector that scores all rows 0.
#pragma once

#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/series_csv.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::anomaly::nab {

struct cost_profile {
  std::string name;
  double tp_weight = 1.0;
  double fp_weight = 0.11;
  double fn_weight = 1.0;
};

/// NAB's three profiles: standard, reward_low_FP_rate, reward_low_FN_rate.
std::vector<cost_profile> standard_profiles();

/// A label window, both ends inclusive.
struct window {
  std::int64_t begin_ms = 0;
  std::int64_t end_ms = 0;
};

/// One data file with a detector's score for each row.
struct scored_file {
  std::string name;
  std::vector<std::int64_t> time_ms;  ///< ascending
  std::vector<double> scores;         ///< same length; higher = more anomalous, no NaN
  std::vector<window> windows;        ///< sorted, not overlapping
};

struct scoring_options {
  double probationary_fraction = 0.15;
  std::size_t max_probationary_rows = 750;
};

struct profile_score {
  std::string profile;
  double threshold = 0;              ///< detections are scores >= threshold (+inf: none)
  double raw = 0;                    ///< S at that threshold
  double null_score = 0;             ///< S of the null detector
  double perfect_score = 0;          ///< windows * tp_weight
  double normalized = 0;             ///< 100 (S - S_null) / (S_perfect - S_null)
  std::size_t windows = 0;           ///< label windows in the corpus
  std::size_t detected_windows = 0;  ///< windows with a detection
  std::size_t false_positives = 0;   ///< scored rows detected outside windows
};

/// Scores a corpus for one profile. Errors: error::invalid_corpus (length mismatch,
/// NaN score, unsorted timestamps, overlapping windows).
result<profile_score> score(std::span<const scored_file> files, const cost_profile& profile,
                            const scoring_options& options = {});

/// One file's part of a corpus score at a given threshold.
struct file_score {
  std::string name;
  double raw = 0;  ///< this file's contribution to S
  std::size_t windows = 0, detected_windows = 0, false_positives = 0;
};

/// Per-file contributions at `threshold` (e.g. the one score() chose).
result<std::vector<file_score>> score_files(std::span<const scored_file> files,
                                            const cost_profile& profile, double threshold,
                                            const scoring_options& options = {});

/// A NAB data file with its label windows.
struct data_file {
  std::string name;  ///< relative path, e.g. "realTweets/Twitter_volume_AAPL.csv"
  std::vector<series_point> points;
  std::vector<window> windows;
};

struct corpus {
  std::vector<data_file> files;        ///< sorted by name
  std::vector<cost_profile> profiles;  ///< from profiles.json, else standard_profiles()
};

/// Loads `dir`/data/*/*.csv, `dir`/labels/combined_windows.json and, when present,
/// `dir`/profiles.json. Errors: error::invalid_corpus, error::invalid_csv (with the file
/// name in the message).
result<corpus> load_corpus(const std::string& dir);

/// Where the corpus is when the user names none: the directory in the environment
/// variable IOTBLOCKS_NAB_DATA when it is set (whether or not it exists: an explicit
/// setting is not second-guessed), else the first of `candidates` that holds a
/// `data` directory (relative paths are relative to the current directory). The
/// CLI passes "data/nab" and, in a build from source, <source>/data/nab (the corpus
/// subset shipped with the repository).
/// Errors: error::invalid_corpus naming every path tried.
result<std::string> locate_corpus(std::span<const std::string> candidates);

/// What run() records for a row.
enum class output {
  score,  ///< point_result::score, in [0, 1]
  /// 1 where the detector flagged the row (point_result::anomaly), else 0: detections
  /// are the detector's own, at its own threshold parameter (a sweep can only choose
  /// between them, every row and none).
  flag,
};

/// Runs `model` over every file (a fresh state per file), one score per row (`what`).
/// A value the detector rejects scores 0 and leaves its state as it was.
std::vector<scored_file> run(const detector& model, const corpus& c, output what = output::score);

/// Scores a corpus at a fixed `threshold` (no sweep): what a detector tuned elsewhere
/// earns here. `normalized` uses the same S_null and S_perfect as score().
result<profile_score> score_at(std::span<const scored_file> files, const cost_profile& profile,
                               double threshold, const scoring_options& options = {});

/// The category of a file: its name up to the first '/' ("realTweets").
std::string category_of(const std::string& file_name);

/// Writes `files` (scored by `detector_name`, rows as in `c`) in the layout of NAB's
/// results directory, which NAB's own scorer reads:
/// `dir`/<detector>/<category>/<detector>_<file>.csv, header
/// `timestamp,value,anomaly_score,label`, timestamps "YYYY-MM-DD HH:MM:SS" (UTC,
/// ".mmm" added when not whole seconds), label 1 inside a label window, else 0.
/// Creates directories as needed; overwrites existing files.
/// Errors: error::invalid_corpus (files not matching `c`, unwritable path).
result<void> export_results(const std::string& dir, std::string_view detector_name, const corpus& c,
                            std::span<const scored_file> files);

/// Leave-one-category-out validation. For each parameter set in `candidates` the
/// detector runs once over the corpus; then, per profile and per category C, the
/// parameter set and threshold with the best normalised score on the other
/// categories are chosen and C is scored with them at that fixed threshold.
struct fold {
  std::string held_out;       ///< category
  std::string parameters;     ///< the candidate chosen on the other categories
  double threshold = 0;       ///< chosen on the other categories
  double train = 0;           ///< normalised score on the other categories
  double inner = 0;           ///< inner_folds / worst_fold: the choice's inner merit
  double held_out_score = 0;  ///< normalised score of C at that choice
  double in_sample = 0;       ///< normalised score of C at the whole-corpus choice
  double held_out_raw = 0;    ///< S of C at that choice (the only figure when C has no windows)
  std::size_t windows = 0;    ///< label windows in C
  std::size_t detected = 0;   ///< of them, detected at the held-out choice
  std::size_t false_positives = 0;
};

struct validation {
  std::string profile;
  std::string parameters;  ///< chosen on the whole corpus
  double threshold = 0;    ///< chosen on the whole corpus
  double in_sample = 0;    ///< normalised score of the whole corpus at that choice
  double inner = 0;        ///< selection::inner_folds: that choice's inner held-out score
  /// All held-out folds pooled: sum of S, S_null and S_perfect over the folds, each
  /// fold at its own choice; the cross-validated counterpart of in_sample.
  double held_out = 0;
  std::vector<fold> folds;  ///< one per category, sorted by name
};

/// How a parameter set is chosen from a set of files (the whole corpus, or a fold's
/// training categories; the threshold is always the chosen set's best over them).
enum class selection {
  /// The best normalised score over those files, threshold swept on them.
  best_pooled,
  /// Nested: leave one of those categories out at a time, choose the threshold on the
  /// rest, score the one left out at it; the set with the best pooled score of those
  /// inner held-out categories wins. Inside an outer fold this never reads the
  /// outer held-out category.
  inner_folds,
  /// Nested like inner_folds, but the set whose worst inner held-out category (of
  /// those with label windows) scores best wins: a set that gains on most categories
  /// by losing on one loses to one that holds on all of them.
  worst_fold,
};

struct validation_options {
  scoring_options scoring;
  selection rule = selection::best_pooled;
  output what = output::score;  ///< output::flag: no threshold is learnt anywhere
};

/// `candidates`: parameter texts for make_detector(detector_name, ...), at least one
/// ("" = defaults); ties go to the first. Errors: those of make_detector and score().
result<std::vector<validation>> cross_validate(std::string_view detector_name,
                                               std::span<const std::string> candidates,
                                               const corpus& c,
                                               const scoring_options& options = {});
result<std::vector<validation>> cross_validate(std::string_view detector_name,
                                               std::span<const std::string> candidates,
                                               const corpus& c, const validation_options& options);

/// One parameter's candidate values for search(); values[0] is where the search starts.
struct axis {
  std::string key;
  std::vector<std::string> values;
};

struct search_options : validation_options {
  std::string base;        ///< fixed parameters ("k=v,..."), before the axes
  std::size_t passes = 2;  ///< sweeps over the axes (fewer when one changes nothing)
  /// Points of merit a value must gain over the axis' current value to replace it
  /// (0: any gain); fewer moves on small gains, i.e. fewer degrees of freedom used.
  double margin = 0;
};

struct search_result {
  std::string parameters;  ///< base plus one value per axis
  double threshold = 0;    ///< that set's best threshold on the corpus searched
  double score = 0;        ///< its normalised score there at that threshold
  double merit = 0;        ///< what the rule maximised (inner: inner held-out pooled)
  std::size_t evaluated = 0;
};

/// Coordinate search: from values[0] of every axis, each axis in turn takes the value
/// whose parameter set has the best merit on `c` by `options.rule` with the others
/// fixed, if it beats the current value by more than `margin` (ties keep the current
/// value), for `passes` sweeps. Reads `c` only: run on
/// a fold's training categories it is the whole choice made inside that fold.
/// Errors: error::invalid_parameter (empty axis), those of make_detector and score().
result<search_result> search(std::string_view detector_name, std::span<const axis> axes,
                             const corpus& c, const cost_profile& profile,
                             const search_options& options = {});

/// Fully nested validation of search(): per category C, search() on the other
/// categories, then C scored at that choice and its threshold. `whole` is search() on
/// the whole corpus: the parameter set the procedure ships, and the in-sample figures.
struct search_validation {
  std::string profile;
  search_result whole;
  double held_out = 0;      ///< the folds pooled, as validation::held_out
  std::vector<fold> folds;  ///< one per category, sorted; fold::inner is the fold's merit
};
result<search_validation> validate_search(std::string_view detector_name,
                                          std::span<const axis> axes, const corpus& c,
                                          const cost_profile& profile,
                                          const search_options& options = {});

}  // namespace iotblocks::anomaly::nab

IOTBLOCKS_API_END
