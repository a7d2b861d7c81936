// Rollouts, abort criteria and retries: AWS IoT Jobs' job configurations as pure functions.
#include <iotblocks/jobs/model.hpp>

#include <algorithm>
#include <cmath>

namespace iotblocks::jobs {

namespace {

constexpr std::int64_t window_seconds = 60;
constexpr std::int64_t max_rate = 1000;       // RolloutRatePerMinute, maximumPerMinute (AWS)
constexpr std::int64_t max_retries = 10;      // NumberOfRetries
constexpr double min_increment_factor = 1.1;  // IncrementFactor
constexpr double max_increment_factor = 5;

/// Whether `v` has at most `digits` decimals (1 or 2).
bool decimals_at_most(double v, int digits) {
  const double scaled = v * (digits == 1 ? 10.0 : 100.0);
  return std::abs(scaled - std::round(scaled)) < 1e-6;
}

template <class T>
bool duplicate_types(const std::vector<T>& criteria) {
  for (std::size_t i = 0; i < criteria.size(); ++i) {
    for (std::size_t k = i + 1; k < criteria.size(); ++k) {
      if (criteria[i].type == criteria[k].type) return true;
    }
  }
  return false;
}

// The rate increases a new window starts with (exponentialRate).
void raise_rate(rollout_progress& p, const rollout_config& c, std::size_t succeeded) {
  if (!c.exponential()) return;
  const auto cap = static_cast<double>(c.maximum_per_minute);
  const auto step = [&](std::size_t count, std::int64_t every, std::size_t& mark) {
    if (every <= 0) return;
    const auto n = static_cast<std::size_t>(every);
    while (p.rate < cap && count >= mark + n) {
      p.rate = std::min(cap, p.rate * c.increment_factor);
      mark += n;
    }
  };
  step(p.released, c.notified_things, p.notified_mark);
  step(succeeded, c.succeeded_things, p.succeeded_mark);
}

}  // namespace

std::string_view to_string(failure_type t) noexcept {
  switch (t) {
    case failure_type::failed: return "FAILED";
    case failure_type::rejected: return "REJECTED";
    case failure_type::timed_out: return "TIMED_OUT";
    case failure_type::all: return "ALL";
  }
  return "ALL";
}

std::optional<failure_type> parse_failure_type(std::string_view s) noexcept {
  for (auto t :
       {failure_type::failed, failure_type::rejected, failure_type::timed_out, failure_type::all}) {
    if (to_string(t) == s) return t;
  }
  return std::nullopt;
}

std::string check_rollout(const rollout_config& c) {
  if (c.maximum_per_minute < 1 || c.maximum_per_minute > max_rate) {
    return "maximumPerMinute must be 1-1000";
  }
  if (!c.exponential()) {
    if (c.base_rate_per_minute != 0 || c.increment_factor != 0 || c.notified_things != 0 ||
        c.succeeded_things != 0) {
      return "exponentialRate: baseRatePerMinute is required";
    }
    return {};
  }
  if (c.base_rate_per_minute > max_rate) return "exponentialRate.baseRatePerMinute must be 1-1000";
  if (!(c.increment_factor >= min_increment_factor && c.increment_factor <= max_increment_factor) ||
      !decimals_at_most(c.increment_factor, 1)) {
    return "exponentialRate.incrementFactor must be 1.1-5 with at most one decimal";
  }
  if ((c.notified_things > 0) == (c.succeeded_things > 0) || c.notified_things < 0 ||
      c.succeeded_things < 0) {
    return "exponentialRate.rateIncreaseCriteria: set one of numberOfNotifiedThings and "
           "numberOfSucceededThings (at least 1)";
  }
  return {};
}

std::string check_abort(const std::vector<abort_criterion>& criteria) {
  if (criteria.empty()) return "abortConfig.criteriaList is empty";
  for (const auto& c : criteria) {
    if (!(c.threshold_percentage >= 0 && c.threshold_percentage <= 100) ||
        !decimals_at_most(c.threshold_percentage, 2)) {
      return "abortConfig: thresholdPercentage must be 0-100 with at most two decimals";
    }
    if (c.min_executed_things < 1) return "abortConfig: minNumberOfExecutedThings must be >= 1";
  }
  if (duplicate_types(criteria)) return "abortConfig: a failureType appears twice";
  return {};
}

std::string check_retry(const std::vector<retry_criterion>& criteria) {
  if (criteria.empty()) return "jobExecutionsRetryConfig.criteriaList is empty";
  for (const auto& c : criteria) {
    if (c.type == failure_type::rejected) {
      return "jobExecutionsRetryConfig: failureType must be FAILED, TIMED_OUT or ALL";
    }
    if (c.retries < 0 || c.retries > max_retries) {
      return "jobExecutionsRetryConfig: numberOfRetries must be 0-10";
    }
  }
  if (duplicate_types(criteria)) return "jobExecutionsRetryConfig: a failureType appears twice";
  return {};
}

rollout_progress start_rollout(const rollout_config& c, std::size_t targets, std::int64_t now) {
  rollout_progress p;
  p.targets = targets;
  p.window_start = now;
  p.rate =
      static_cast<double>(c.exponential() ? std::min(c.base_rate_per_minute, c.maximum_per_minute)
                                          : c.maximum_per_minute);
  return p;
}

std::size_t release(rollout_progress& p, const rollout_config& c, std::size_t succeeded,
                    std::int64_t now) {
  if (!c.enabled() || p.done()) return 0;
  if (now >= p.window_start + window_seconds) {
    p.window_start += (now - p.window_start) / window_seconds * window_seconds;
    p.window_released = 0;
    raise_rate(p, c, succeeded);
  }
  const auto per_window = static_cast<std::size_t>(std::max(1.0, std::floor(p.rate)));
  std::size_t n = per_window > p.window_released ? per_window - p.window_released : 0;
  n = std::min(n, p.targets - p.released);
  p.released += n;
  p.window_released += n;
  return n;
}

std::optional<abort_criterion> abort_due(const std::vector<abort_criterion>& criteria,
                                         const ended_counts& ended) {
  using enum execution_status;
  const std::size_t failed_n = count_of(ended, failed);
  const std::size_t rejected_n = count_of(ended, rejected);
  const std::size_t timed_out_n = count_of(ended, timed_out);
  const std::size_t executed = count_of(ended, succeeded) + failed_n + rejected_n + timed_out_n;
  for (const auto& c : criteria) {
    std::size_t failures = 0;
    switch (c.type) {
      case failure_type::failed: failures = failed_n; break;
      case failure_type::rejected: failures = rejected_n; break;
      case failure_type::timed_out: failures = timed_out_n; break;
      case failure_type::all: failures = failed_n + rejected_n + timed_out_n; break;
    }
    if (failures == 0 || executed < static_cast<std::size_t>(c.min_executed_things)) continue;
    // In hundredths of a percent, so that 33.33 compares exactly.
    const auto threshold = static_cast<std::uint64_t>(std::llround(c.threshold_percentage * 100));
    if (static_cast<std::uint64_t>(failures) * 10000 >= threshold * executed) return c;
  }
  return std::nullopt;
}

std::int64_t retries_allowed(const std::vector<retry_criterion>& criteria,
                             execution_status s) noexcept {
  if (s != execution_status::failed && s != execution_status::timed_out) return 0;
  const auto type = s == execution_status::failed ? failure_type::failed : failure_type::timed_out;
  for (const auto& c : criteria) {
    if (c.type == type) return c.retries;
  }
  for (const auto& c : criteria) {
    if (c.type == failure_type::all) return c.retries;
  }
  return 0;
}

execution retry(const execution& ended, std::uint64_t sequence, std::int64_t now) {
  execution e = queue(ended.job_id, ended.thing, sequence, now, ended.in_progress_timeout_minutes);
  e.execution_number = ended.execution_number + 1;
  e.retry_attempt = ended.retry_attempt + 1;
  return e;
}

}  // namespace iotblocks::jobs
