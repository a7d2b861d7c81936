// Leave-one-category-out validation over a NAB corpus (see nab.hpp).
#include <iotblocks/anomaly/nab.hpp>

#include <algorithm>
#include <set>

namespace iotblocks::anomaly::nab {
namespace {

struct split {
  std::vector<scored_file> train, test;
};

struct choice {
  std::size_t candidate = 0;
  profile_score score;
};

// The candidate with the best normalised score over `sets[k]` (the first on ties).
result<choice> best_of(const std::vector<const std::vector<scored_file>*>& sets,
                       const cost_profile& profile, const scoring_options& options) {
  choice best;
  bool have = false;
  for (std::size_t k = 0; k < sets.size(); ++k) {
    auto s = score(*sets[k], profile, options);
    if (!s) return std::move(s).take_failure();
    if (!have || s->normalized > best.score.normalized) {
      best = {k, std::move(*s)};
      have = true;
    }
  }
  return best;
}

}  // namespace

result<std::vector<validation>> cross_validate(std::string_view detector_name,
                                               std::span<const std::string> candidates,
                                               const corpus& c, const scoring_options& options) {
  const std::vector<std::string> defaults{""};
  if (candidates.empty()) candidates = defaults;
  std::vector<std::vector<scored_file>> runs;
  for (const auto& text : candidates) {
    auto model = make_detector(detector_name, text);
    if (!model) return std::move(model).take_failure();
    runs.push_back(run(**model, c));
  }
  std::set<std::string> names;
  for (const auto& f : c.files) names.insert(category_of(f.name));
  const std::vector<std::string> categories(names.begin(), names.end());
  // splits[k][j]: candidate k's scores without / with only category j.
  std::vector<std::vector<split>> splits(runs.size(), std::vector<split>(categories.size()));
  for (std::size_t k = 0; k < runs.size(); ++k) {
    for (const auto& f : runs[k]) {
      const std::string cat = category_of(f.name);
      for (std::size_t j = 0; j < categories.size(); ++j) {
        (cat == categories[j] ? splits[k][j].test : splits[k][j].train).push_back(f);
      }
    }
  }
  std::vector<validation> out;
  for (const auto& profile : c.profiles) {
    validation v;
    v.profile = profile.name;
    std::vector<const std::vector<scored_file>*> all;
    for (const auto& r : runs) all.push_back(&r);
    auto whole = best_of(all, profile, options);
    if (!whole) return std::move(whole).take_failure();
    v.parameters = candidates[whole->candidate];
    v.threshold = whole->score.threshold;
    v.in_sample = whole->score.normalized;
    double raw = 0, null = 0, perfect = 0;
    for (std::size_t j = 0; j < categories.size(); ++j) {
      std::vector<const std::vector<scored_file>*> train;
      for (const auto& s : splits) train.push_back(&s[j].train);
      auto chosen = best_of(train, profile, options);
      if (!chosen) return std::move(chosen).take_failure();
      auto held =
          score_at(splits[chosen->candidate][j].test, profile, chosen->score.threshold, options);
      if (!held) return std::move(held).take_failure();
      auto in = score_at(splits[whole->candidate][j].test, profile, v.threshold, options);
      if (!in) return std::move(in).take_failure();
      fold f;
      f.held_out = categories[j];
      f.parameters = candidates[chosen->candidate];
      f.threshold = chosen->score.threshold;
      f.train = chosen->score.normalized;
      f.held_out_score = held->normalized;
      f.in_sample = in->normalized;
      f.held_out_raw = held->raw;
      f.windows = held->windows;
      f.detected = held->detected_windows;
      f.false_positives = held->false_positives;
      raw += held->raw;
      null += held->null_score;
      perfect += held->perfect_score;
      v.folds.push_back(std::move(f));
    }
    v.held_out = perfect == null ? 0.0 : 100.0 * (raw - null) / (perfect - null);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace iotblocks::anomaly::nab
