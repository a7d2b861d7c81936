// NAB scoring (see nab.hpp for the method).
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/nab.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace iotblocks::anomaly::nab {
namespace {

double scaled_sigmoid(double y) noexcept {
  if (y >= 3.0) return -1.0;
  return 2.0 / (1.0 + std::exp(5.0 * y)) - 1.0;
}

struct scored_row {
  std::size_t file;
  double score;
  double weight;          // contribution if detected (TP weight in a window, FP cost outside)
  std::ptrdiff_t window;  // global window index, -1 outside windows
};

struct prepared {
  std::vector<scored_row> rows;       // non-probationary rows, all files
  std::vector<bool> window_scorable;  // global window index -> has a scored row
  std::size_t windows = 0;
};

result<void> prepare(std::span<const scored_file> files, const cost_profile& profile,
                     const scoring_options& options, prepared& out) {
  const double max_tp = scaled_sigmoid(-1.0);
  for (std::size_t file = 0; file < files.size(); ++file) {
    const auto& f = files[file];
    const std::size_t n = f.time_ms.size();
    if (f.scores.size() != n) {
      return failure{
          error::invalid_corpus, f.name + ": scores and timestamps differ in length", {}};
    }
    if (!std::is_sorted(f.time_ms.begin(), f.time_ms.end())) {
      return failure{error::invalid_corpus, f.name + ": timestamps are not ascending", {}};
    }
    // Row ranges of the windows.
    struct range {
      std::size_t left, right;
      std::size_t global;
    };
    std::vector<range> ranges;
    for (std::size_t w = 0; w < f.windows.size(); ++w) {
      const auto& win = f.windows[w];
      if (win.end_ms < win.begin_ms || (w > 0 && win.begin_ms <= f.windows[w - 1].end_ms)) {
        return failure{error::invalid_corpus, f.name + ": windows unsorted or overlapping", {}};
      }
      const std::size_t global = out.windows++;
      out.window_scorable.push_back(false);
      const auto lo = std::lower_bound(f.time_ms.begin(), f.time_ms.end(), win.begin_ms);
      const auto hi = std::upper_bound(f.time_ms.begin(), f.time_ms.end(), win.end_ms);
      if (lo >= hi) continue;  // no rows inside: cannot be detected, costs nothing
      ranges.push_back({static_cast<std::size_t>(lo - f.time_ms.begin()),
                        static_cast<std::size_t>(hi - f.time_ms.begin()) - 1, global});
    }
    const auto probation = std::min(static_cast<std::size_t>(std::floor(
                                        options.probationary_fraction * static_cast<double>(n))),
                                    options.max_probationary_rows);
    std::size_t next = 0;  // next window in `ranges`
    const range* prev = nullptr;
    for (std::size_t i = 0; i < n; ++i) {
      if (std::isnan(f.scores[i])) {
        return failure{
            error::invalid_corpus, f.name + ": NaN score at row " + std::to_string(i), {}};
      }
      while (next < ranges.size() && ranges[next].right < i) prev = &ranges[next++];
      const range* in = (next < ranges.size() && ranges[next].left <= i) ? &ranges[next] : nullptr;
      scored_row row{file, f.scores[i], 0.0, -1};
      if (in != nullptr) {
        const double width = static_cast<double>(in->right - in->left + 1);
        const double y = -static_cast<double>(in->right - i + 1) / width;
        row.weight = scaled_sigmoid(y) * profile.tp_weight / max_tp;
        row.window = static_cast<std::ptrdiff_t>(in->global);
      } else {
        double y = 3.0;
        if (prev != nullptr && prev->right > prev->left) {
          y = static_cast<double>(i - prev->right) / static_cast<double>(prev->right - prev->left);
        }
        row.weight = scaled_sigmoid(y) * profile.fp_weight;
      }
      if (i < probation) continue;
      if (row.window >= 0) out.window_scorable[static_cast<std::size_t>(row.window)] = true;
      out.rows.push_back(row);
    }
  }
  return {};
}

struct sweep_result {
  double threshold, total;
  std::size_t detected_windows, false_positives;
};

// Lowers the threshold through every distinct score, keeping the best total.
sweep_result sweep(std::vector<scored_row> rows, const prepared& p, const cost_profile& profile) {
  std::sort(rows.begin(), rows.end(),
            [](const scored_row& a, const scored_row& b) { return a.score > b.score; });
  std::vector<double> window_part(p.windows, 0.0);
  double total = 0;
  for (std::size_t w = 0; w < p.windows; ++w) {
    if (p.window_scorable[w]) {
      window_part[w] = -profile.fn_weight;
      total -= profile.fn_weight;
    }
  }
  sweep_result best{std::numeric_limits<double>::infinity(), total, 0, 0};
  std::size_t detected = 0, fps = 0;
  for (std::size_t i = 0; i < rows.size();) {
    const double threshold = rows[i].score;
    for (; i < rows.size() && rows[i].score == threshold; ++i) {
      const auto& r = rows[i];
      if (r.window < 0) {
        total += r.weight;
        ++fps;
        continue;
      }
      double& part = window_part[static_cast<std::size_t>(r.window)];
      if (part == -profile.fn_weight && r.weight > part) ++detected;
      if (r.weight > part) {
        total += r.weight - part;
        part = r.weight;
      }
    }
    if (total > best.total) best = {threshold, total, detected, fps};
  }
  return best;
}

}  // namespace

result<std::vector<file_score>> score_files(std::span<const scored_file> files,
                                            const cost_profile& profile, double threshold,
                                            const scoring_options& options) {
  prepared p;
  if (auto r = prepare(files, profile, options, p); !r) return std::move(r).take_failure();
  std::vector<file_score> out(files.size());
  std::vector<double> best(p.windows, -profile.fn_weight);
  std::vector<std::size_t> window_file(p.windows, files.size());
  for (std::size_t i = 0; i < files.size(); ++i) out[i].name = files[i].name;
  for (const auto& r : p.rows) {
    if (r.window >= 0) {
      const auto w = static_cast<std::size_t>(r.window);
      window_file[w] = r.file;
      if (r.score >= threshold) best[w] = std::max(best[w], r.weight);
    } else if (r.score >= threshold) {
      out[r.file].raw += r.weight;
      ++out[r.file].false_positives;
    }
  }
  for (std::size_t w = 0; w < p.windows; ++w) {
    if (!p.window_scorable[w]) continue;
    auto& f = out[window_file[w]];
    ++f.windows;
    f.raw += best[w];
    if (best[w] > -profile.fn_weight) ++f.detected_windows;
  }
  return out;
}

result<profile_score> score_at(std::span<const scored_file> files, const cost_profile& profile,
                               double threshold, const scoring_options& options) {
  prepared p;
  if (auto r = prepare(files, profile, options, p); !r) return std::move(r).take_failure();
  std::vector<double> best(p.windows, -profile.fn_weight);
  profile_score s;
  s.profile = profile.name;
  s.threshold = threshold;
  s.windows = p.windows;
  for (const auto& r : p.rows) {
    if (r.score < threshold) continue;
    if (r.window < 0) {
      s.raw += r.weight;
      ++s.false_positives;
    } else {
      auto& b = best[static_cast<std::size_t>(r.window)];
      b = std::max(b, r.weight);
    }
  }
  for (std::size_t w = 0; w < p.windows; ++w) {
    if (!p.window_scorable[w]) continue;
    s.raw += best[w];
    if (best[w] > -profile.fn_weight) ++s.detected_windows;
  }
  std::vector<scored_row> null_rows = std::move(p.rows);
  for (auto& r : null_rows) r.score = 0.0;
  s.null_score = sweep(std::move(null_rows), p, profile).total;
  s.perfect_score = static_cast<double>(p.windows) * profile.tp_weight;
  s.normalized = s.perfect_score == s.null_score
                     ? 0.0
                     : 100.0 * (s.raw - s.null_score) / (s.perfect_score - s.null_score);
  return s;
}

std::vector<cost_profile> standard_profiles() {
  return {{"standard", 1.0, 0.11, 1.0},
          {"reward_low_FP_rate", 1.0, 0.22, 1.0},
          {"reward_low_FN_rate", 1.0, 0.11, 2.0}};
}

result<profile_score> score(std::span<const scored_file> files, const cost_profile& profile,
                            const scoring_options& options) {
  prepared p;
  if (auto r = prepare(files, profile, options, p); !r) return std::move(r).take_failure();
  std::vector<scored_row> null_rows = p.rows;
  for (auto& r : null_rows) r.score = 0.0;
  const sweep_result best = sweep(std::move(p.rows), p, profile);
  const sweep_result null = sweep(std::move(null_rows), p, profile);
  profile_score s;
  s.profile = profile.name;
  s.threshold = best.threshold;
  s.raw = best.total;
  s.null_score = null.total;
  s.windows = p.windows;
  s.perfect_score = static_cast<double>(p.windows) * profile.tp_weight;
  s.normalized = s.perfect_score == s.null_score
                     ? 0.0
                     : 100.0 * (s.raw - s.null_score) / (s.perfect_score - s.null_score);
  s.detected_windows = best.detected_windows;
  s.false_positives = best.false_positives;
  return s;
}

}  // namespace iotblocks::anomaly::nab
