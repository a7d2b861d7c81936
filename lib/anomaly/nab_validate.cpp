// Leave-one-category-out validation over a NAB corpus (see nab.hpp).
#include <iotblocks/anomaly/nab.hpp>

#include <algorithm>
#include <span>

namespace iotblocks::anomaly::nab {
namespace {

struct choice {
  std::size_t candidate = 0;
  profile_score score;
};

// The candidate with the best normalised score over `sets[k]` (the first on ties).
result<choice> best_of(const std::vector<std::span<const scored_file>>& sets,
                       const cost_profile& profile, const scoring_options& options) {
  choice best;
  bool have = false;
  for (std::size_t k = 0; k < sets.size(); ++k) {
    auto s = score(sets[k], profile, options);
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
  // Each candidate's scored files, grouped by category (stable). A fold rotates its
  // category to the end, so train and test are a prefix and a suffix: no copies.
  std::vector<std::vector<scored_file>> runs;
  const auto by_category = [](const scored_file& x, const scored_file& y) {
    return category_of(x.name) < category_of(y.name);
  };
  for (const auto& text : candidates) {
    auto model = make_detector(detector_name, text);
    if (!model) return std::move(model).take_failure();
    runs.push_back(run(**model, c));
    std::stable_sort(runs.back().begin(), runs.back().end(), by_category);
  }
  struct range {
    std::string name;
    std::size_t begin, end;
  };
  std::vector<range> categories;
  for (std::size_t i = 0; i < runs.front().size(); ++i) {
    std::string cat = category_of(runs.front()[i].name);
    if (categories.empty() || categories.back().name != cat) {
      categories.push_back({std::move(cat), i, i});
    }
    categories.back().end = i + 1;
  }
  const auto to_end = [](std::vector<scored_file>& files, const range& r) {
    std::rotate(files.begin() + static_cast<std::ptrdiff_t>(r.begin),
                files.begin() + static_cast<std::ptrdiff_t>(r.end), files.end());
  };
  const auto back = [](std::vector<scored_file>& files, const range& r) {
    std::rotate(files.begin() + static_cast<std::ptrdiff_t>(r.begin),
                files.end() - static_cast<std::ptrdiff_t>(r.end - r.begin), files.end());
  };
  struct split_view {
    std::span<const scored_file> train, test;
  };
  const auto view = [](const std::vector<scored_file>& files, const range& r) {
    const std::span<const scored_file> all{files};
    const std::size_t n = r.end - r.begin;
    return split_view{all.first(all.size() - n), all.last(n)};
  };
  std::vector<validation> out;
  for (const auto& profile : c.profiles) {
    validation v;
    v.profile = profile.name;
    std::vector<std::span<const scored_file>> all;
    for (const auto& r : runs) all.emplace_back(r);
    auto whole = best_of(all, profile, options);
    if (!whole) return std::move(whole).take_failure();
    v.parameters = candidates[whole->candidate];
    v.threshold = whole->score.threshold;
    v.in_sample = whole->score.normalized;
    double raw = 0, null = 0, perfect = 0;
    for (const auto& cat : categories) {
      for (auto& r : runs) to_end(r, cat);
      std::vector<std::span<const scored_file>> train;
      for (const auto& r : runs) train.push_back(view(r, cat).train);
      auto chosen = best_of(train, profile, options);
      if (chosen) {
        auto held = score_at(view(runs[chosen->candidate], cat).test, profile,
                             chosen->score.threshold, options);
        auto in = score_at(view(runs[whole->candidate], cat).test, profile, v.threshold, options);
        if (held && in) {
          fold f;
          f.held_out = cat.name;
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
        } else {
          chosen = held ? std::move(in).take_failure() : std::move(held).take_failure();
        }
      }
      for (auto& r : runs) back(r, cat);
      if (!chosen) return std::move(chosen).take_failure();
    }
    v.held_out = perfect == null ? 0.0 : 100.0 * (raw - null) / (perfect - null);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace iotblocks::anomaly::nab
