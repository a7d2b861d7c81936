// Coordinate search over parameter axes, and its nested leave-one-category-out
// validation (see nab.hpp).
#include <iotblocks/anomaly/nab.hpp>

#include <iotblocks/anomaly/error.hpp>

#include "anomaly/nab_folds.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace iotblocks::anomaly::nab {
namespace {

std::string text_of(const std::string& base, std::span<const axis> axes,
                    const std::vector<std::size_t>& at) {
  std::string out = base;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    if (!out.empty() && out.back() != ',') out += ',';
    out += axes[i].key + "=" + axes[i].values[at[i]];
  }
  return out;
}

// The files of `c` in (keep) or not in (!keep) category `cat`.
corpus subset(const corpus& c, const std::string& cat, bool keep) {
  corpus out;
  out.profiles = c.profiles;
  for (const auto& f : c.files) {
    if ((category_of(f.name) == cat) == keep) out.files.push_back(f);
  }
  return out;
}

}  // namespace

result<search_result> search(std::string_view detector_name, std::span<const axis> axes,
                             const corpus& c, const cost_profile& profile,
                             const search_options& options) {
  for (const auto& a : axes) {
    if (a.key.empty() || a.values.empty()) {
      return {error::invalid_parameter, "search: every axis needs a key and a value"};
    }
  }
  corpus one = c;
  one.profiles = {profile};
  std::map<std::string, double> seen;
  // The merit of a parameter text on `c` by the rule: its pooled score, or the
  // pooled score of c's own leave-one-category-out folds (threshold chosen on the
  // rest each time).
  const auto merit = [&](const std::string& text) -> result<double> {
    if (auto it = seen.find(text); it != seen.end()) return it->second;
    const std::string candidates[] = {text};
    validation_options inner;
    inner.scoring = options.scoring;
    inner.what = options.what;
    auto v = cross_validate(detector_name, candidates, one, inner);
    if (!v) return std::move(v).take_failure();
    double m = v->front().in_sample;
    if (options.rule == selection::inner_folds) m = v->front().held_out;
    if (options.rule == selection::worst_fold) {
      m = HUGE_VAL;  // the worst inner category with label windows
      for (const auto& f : v->front().folds) {
        if (f.windows > 0) m = std::min(m, f.held_out_score);
      }
    }
    seen.emplace(text, m);
    return m;
  };
  std::vector<std::size_t> at(axes.size(), 0);
  auto best = merit(text_of(options.base, axes, at));
  if (!best) return std::move(best).take_failure();
  double best_merit = *best;
  for (std::size_t pass = 0; pass < options.passes; ++pass) {
    bool moved = false;
    for (std::size_t i = 0; i < axes.size(); ++i) {
      std::size_t pick = at[i];
      const double kept = best_merit;
      for (std::size_t v = 0; v < axes[i].values.size(); ++v) {
        if (v == at[i]) continue;
        auto trial = at;
        trial[i] = v;
        auto m = merit(text_of(options.base, axes, trial));
        if (!m) return std::move(m).take_failure();
        // A change must gain more than `margin` over the current value (ties keep it).
        if (*m > kept + options.margin && *m > best_merit) best_merit = *m, pick = v;
      }
      moved |= pick != at[i];
      at[i] = pick;
    }
    if (!moved) break;
  }
  search_result out;
  out.parameters = text_of(options.base, axes, at);
  out.merit = best_merit;
  out.evaluated = seen.size();
  auto model = make_detector(detector_name, out.parameters);
  if (!model) return std::move(model).take_failure();
  const auto files = run(**model, c, options.what);
  auto s = score(files, profile, options.scoring);
  if (!s) return std::move(s).take_failure();
  out.threshold = s->threshold;
  out.score = s->normalized;
  return out;
}

result<search_validation> validate_search(std::string_view detector_name,
                                          std::span<const axis> axes, const corpus& c,
                                          const cost_profile& profile,
                                          const search_options& options) {
  search_validation out;
  out.profile = profile.name;
  auto whole = search(detector_name, axes, c, profile, options);
  if (!whole) return std::move(whole).take_failure();
  out.whole = *whole;
  auto whole_model = make_detector(detector_name, whole->parameters);
  if (!whole_model) return std::move(whole_model).take_failure();
  std::vector<std::string> categories;
  for (const auto& f : c.files) {
    const auto cat = category_of(f.name);
    if (std::find(categories.begin(), categories.end(), cat) == categories.end()) {
      categories.push_back(cat);
    }
  }
  std::sort(categories.begin(), categories.end());
  detail::pooled pooled;
  for (const auto& cat : categories) {
    // The search sees the other categories only; `test` is read after it returns.
    auto chosen = search(detector_name, axes, subset(c, cat, false), profile, options);
    if (!chosen) return std::move(chosen).take_failure();
    const corpus test = subset(c, cat, true);
    auto model = make_detector(detector_name, chosen->parameters);
    if (!model) return std::move(model).take_failure();
    auto held =
        score_at(run(**model, test, options.what), profile, chosen->threshold, options.scoring);
    if (!held) return std::move(held).take_failure();
    auto in = score_at(run(**whole_model, test, options.what), profile, whole->threshold,
                       options.scoring);
    if (!in) return std::move(in).take_failure();
    pooled.add(*held);
    out.folds.push_back(detail::make_fold(cat, chosen->parameters, chosen->threshold, chosen->score,
                                          chosen->merit, *held, *in));
  }
  out.held_out = pooled.normalized();
  return out;
}

}  // namespace iotblocks::anomaly::nab
