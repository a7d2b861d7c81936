// Leave-one-category-out validation over a NAB corpus (see nab.hpp).
#include <iotblocks/anomaly/nab.hpp>

#include "anomaly/nab_folds.hpp"

#include <algorithm>
#include <cmath>
#include <span>

namespace iotblocks::anomaly::nab {
namespace {

// Runs of every candidate over the same files, grouped by category (stable). A fold
// rotates a category's files to the end of a prefix, so the files chosen from and
// the files scored are a prefix and a suffix of it: no copies, and the same order
// for every candidate.
using runs_t = std::vector<std::vector<scored_file>>;

struct range {
  std::string name;
  std::size_t begin, end;
};

// Contiguous categories of the first `n` files.
std::vector<range> categories_of(const std::vector<scored_file>& files, std::size_t n) {
  std::vector<range> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string cat = category_of(files[i].name);
    if (out.empty() || out.back().name != cat) out.push_back({std::move(cat), i, i});
    out.back().end = i + 1;
  }
  return out;
}

// Moves files [r.begin, r.end) to the end of the first `n` (and back).
void to_end(runs_t& runs, const range& r, std::size_t n) {
  for (auto& files : runs) {
    std::rotate(files.begin() + static_cast<std::ptrdiff_t>(r.begin),
                files.begin() + static_cast<std::ptrdiff_t>(r.end),
                files.begin() + static_cast<std::ptrdiff_t>(n));
  }
}
void back(runs_t& runs, const range& r, std::size_t n) {
  for (auto& files : runs) {
    std::rotate(files.begin() + static_cast<std::ptrdiff_t>(r.begin),
                files.begin() + static_cast<std::ptrdiff_t>(n - (r.end - r.begin)),
                files.begin() + static_cast<std::ptrdiff_t>(n));
  }
}

struct choice {
  std::size_t candidate = 0;
  profile_score score;  ///< of the chosen candidate over the files chosen from (swept)
  double inner = 0;     ///< selection::inner_folds: its pooled inner held-out score
};

// The candidate chosen from the first `n` files of every run, by `rule`; only those
// files are read. The threshold is always the chosen candidate's best over them.
result<choice> choose(runs_t& runs, std::size_t n, const cost_profile& profile,
                      const validation_options& options) {
  const auto first = [&](std::size_t k) { return std::span<const scored_file>(runs[k]).first(n); };
  std::vector<double> merit(runs.size(), 0.0);
  if (options.rule == selection::best_pooled) {
    for (std::size_t k = 0; k < runs.size(); ++k) {
      auto s = score(first(k), profile, options.scoring);
      if (!s) return std::move(s).take_failure();
      merit[k] = s->normalized;
    }
  } else {  // inner_folds, worst_fold: leave one of these categories out at a time
    std::vector<detail::pooled> inner(runs.size());
    std::vector<double> worst(runs.size(), HUGE_VAL);
    for (const auto& cat : categories_of(runs.front(), n)) {
      to_end(runs, cat, n);
      const std::size_t m = n - (cat.end - cat.begin);
      result<void> status;
      for (std::size_t k = 0; k < runs.size() && status; ++k) {
        const auto files = first(k);
        auto fit = score(files.first(m), profile, options.scoring);
        if (!fit) {
          status = std::move(fit).take_failure();
          break;
        }
        auto held = score_at(files.subspan(m), profile, fit->threshold, options.scoring);
        if (!held) {
          status = std::move(held).take_failure();
          break;
        }
        inner[k].add(*held);
        if (held->perfect_score != held->null_score) {
          worst[k] = std::min(worst[k], held->normalized);
        }
      }
      back(runs, cat, n);
      if (!status) return std::move(status).take_failure();
    }
    for (std::size_t k = 0; k < runs.size(); ++k) {
      merit[k] = options.rule == selection::worst_fold ? worst[k] : inner[k].normalized();
    }
  }
  choice best;
  best.candidate = static_cast<std::size_t>(std::max_element(merit.begin(), merit.end()) -
                                            merit.begin());  // first on ties
  best.inner = options.rule != selection::best_pooled ? merit[best.candidate] : 0.0;
  auto s = score(first(best.candidate), profile, options.scoring);
  if (!s) return std::move(s).take_failure();
  best.score = std::move(*s);
  return best;
}

}  // namespace

result<std::vector<validation>> cross_validate(std::string_view detector_name,
                                               std::span<const std::string> candidates,
                                               const corpus& c, const scoring_options& options) {
  validation_options o;
  o.scoring = options;
  return cross_validate(detector_name, candidates, c, o);
}

result<std::vector<validation>> cross_validate(std::string_view detector_name,
                                               std::span<const std::string> candidates,
                                               const corpus& c, const validation_options& options) {
  const std::vector<std::string> defaults{""};
  if (candidates.empty()) candidates = defaults;
  runs_t runs;
  const auto by_category = [](const scored_file& x, const scored_file& y) {
    return category_of(x.name) < category_of(y.name);
  };
  for (const auto& text : candidates) {
    auto model = make_detector(detector_name, text);
    if (!model) return std::move(model).take_failure();
    runs.push_back(run(**model, c, options.what));
    std::stable_sort(runs.back().begin(), runs.back().end(), by_category);
  }
  const std::size_t all = runs.front().size();
  const auto categories = categories_of(runs.front(), all);
  std::vector<validation> out;
  for (const auto& profile : c.profiles) {
    validation v;
    v.profile = profile.name;
    auto whole = choose(runs, all, profile, options);
    if (!whole) return std::move(whole).take_failure();
    v.parameters = candidates[whole->candidate];
    v.threshold = whole->score.threshold;
    v.in_sample = whole->score.normalized;
    v.inner = whole->inner;
    detail::pooled held_out;
    for (const auto& cat : categories) {
      to_end(runs, cat, all);
      const std::size_t n = all - (cat.end - cat.begin);
      auto chosen = choose(runs, n, profile, options);
      if (chosen) {
        const auto test = [&](std::size_t k) {
          return std::span<const scored_file>(runs[k]).subspan(n);
        };
        auto held =
            score_at(test(chosen->candidate), profile, chosen->score.threshold, options.scoring);
        auto in = score_at(test(whole->candidate), profile, v.threshold, options.scoring);
        if (held && in) {
          held_out.add(*held);
          v.folds.push_back(detail::make_fold(cat.name, candidates[chosen->candidate],
                                              chosen->score.threshold, chosen->score.normalized,
                                              chosen->inner, *held, *in));
        } else {
          chosen = held ? std::move(in).take_failure() : std::move(held).take_failure();
        }
      }
      back(runs, cat, all);
      if (!chosen) return std::move(chosen).take_failure();
    }
    v.held_out = held_out.normalized();
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace iotblocks::anomaly::nab
