// Private: what nab_validate.cpp and nab_search.cpp share: held-out scores pooled over
// folds, and one fold's record.
#pragma once

#include <iotblocks/anomaly/nab.hpp>

#include <string>
#include <utility>

namespace iotblocks::anomaly::nab::detail {

/// Sums S, S_null and S_perfect over folds; normalized() is the pooled score.
struct pooled {
  double raw = 0, null = 0, perfect = 0;
  void add(const profile_score& s) {
    raw += s.raw;
    null += s.null_score;
    perfect += s.perfect_score;
  }
  double normalized() const {
    return perfect == null ? 0.0 : 100.0 * (raw - null) / (perfect - null);
  }
};

/// The fold of category `held_out`: the choice made without it (`parameters`, `threshold`,
/// its `train` and `inner` scores), `held` its score there, `in` its score at the
/// whole-corpus choice.
inline fold make_fold(std::string held_out, std::string parameters, double threshold, double train,
                      double inner, const profile_score& held, const profile_score& in) {
  fold f;
  f.held_out = std::move(held_out);
  f.parameters = std::move(parameters);
  f.threshold = threshold;
  f.train = train;
  f.inner = inner;
  f.held_out_score = held.normalized;
  f.in_sample = in.normalized;
  f.held_out_raw = held.raw;
  f.windows = held.windows;
  f.detected = held.detected_windows;
  f.false_positives = held.false_positives;
  return f;
}

}  // namespace iotblocks::anomaly::nab::detail
