// Rollout windows and exponential rates, abort criteria and retry counts: the pure functions
// behind jobExecutionsRolloutConfig, abortConfig and jobExecutionsRetryConfig.
#include <iotblocks/jobs/model.hpp>

#include <gtest/gtest.h>

#include "jobs/clock.hpp"

namespace {

using namespace iotblocks::jobs;

using iotblocks::jobs::testing::t0;

TEST(JobsRollout, ConstantRateReleasesOneShareAMinute) {
  rollout_config c{.maximum_per_minute = 3};
  auto p = start_rollout(c, 8, t0);
  EXPECT_EQ(release(p, c, 0, t0), 3u);
  EXPECT_EQ(release(p, c, 0, t0), 0u);       // the window's share is out
  EXPECT_EQ(release(p, c, 0, t0 + 59), 0u);  // same window
  EXPECT_EQ(release(p, c, 0, t0 + 60), 3u);  // next window
  EXPECT_EQ(p.window_start, t0 + 60);
  EXPECT_EQ(release(p, c, 0, t0 + 250), 2u);  // windows skipped while idle are not made up
  EXPECT_EQ(p.window_start, t0 + 240);
  EXPECT_TRUE(p.done());
  EXPECT_EQ(release(p, c, 0, t0 + 1000), 0u);
  EXPECT_EQ(p.released, 8u);
}

TEST(JobsRollout, NoConfigReleasesNothing) {
  rollout_config none;
  rollout_progress p;
  p.targets = 5;
  EXPECT_FALSE(none.enabled());
  EXPECT_EQ(release(p, none, 0, t0), 0u);
}

TEST(JobsRollout, ExponentialRateGrowsOnNotifiedThingsUpToTheMaximum) {
  rollout_config c{.maximum_per_minute = 10,
                   .base_rate_per_minute = 2,
                   .increment_factor = 2,
                   .notified_things = 4};
  auto p = start_rollout(c, 100, t0);
  EXPECT_EQ(release(p, c, 0, t0), 2u);         // base rate
  EXPECT_EQ(release(p, c, 0, t0 + 60), 2u);    // 2 notified < 4: still 2
  EXPECT_EQ(release(p, c, 0, t0 + 120), 4u);   // 4 notified: ×2
  EXPECT_EQ(release(p, c, 0, t0 + 180), 8u);   // 8 notified: ×2
  EXPECT_EQ(release(p, c, 0, t0 + 240), 10u);  // 16 → capped at maximumPerMinute
  EXPECT_EQ(release(p, c, 0, t0 + 300), 10u);
  EXPECT_DOUBLE_EQ(p.rate, 10);
}

TEST(JobsRollout, ExponentialRateGrowsOnSucceededThingsOnly) {
  rollout_config c{.maximum_per_minute = 100,
                   .base_rate_per_minute = 5,
                   .increment_factor = 1.5,
                   .succeeded_things = 3};
  auto p = start_rollout(c, 100, t0);
  EXPECT_EQ(release(p, c, 0, t0), 5u);
  EXPECT_EQ(release(p, c, 2, t0 + 60), 5u);    // 2 succeeded: no increase
  EXPECT_EQ(release(p, c, 3, t0 + 120), 7u);   // 3 succeeded: 7.5 → 7 a minute
  EXPECT_EQ(release(p, c, 9, t0 + 180), 16u);  // 9 succeeded: two more steps, 16.875
}

TEST(JobsRollout, BaseAboveMaximumStartsAtTheMaximum) {
  rollout_config c{.maximum_per_minute = 2,
                   .base_rate_per_minute = 50,
                   .increment_factor = 2,
                   .notified_things = 1};
  auto p = start_rollout(c, 10, t0);
  EXPECT_EQ(release(p, c, 0, t0), 2u);
}

TEST(JobsRollout, ConfigurationRanges) {
  EXPECT_EQ(check_rollout({.maximum_per_minute = 1}), "");
  EXPECT_EQ(check_rollout({.maximum_per_minute = 1000}), "");
  EXPECT_NE(check_rollout({.maximum_per_minute = 1001}), "");
  EXPECT_NE(check_rollout({.maximum_per_minute = -1}), "");
  rollout_config e{.maximum_per_minute = 100,
                   .base_rate_per_minute = 10,
                   .increment_factor = 1.1,
                   .notified_things = 5};
  EXPECT_EQ(check_rollout(e), "");
  auto bad = e;
  bad.increment_factor = 1.05;  // below 1.1
  EXPECT_NE(check_rollout(bad), "");
  bad.increment_factor = 1.25;  // two decimals
  EXPECT_NE(check_rollout(bad), "");
  bad.increment_factor = 5.1;
  EXPECT_NE(check_rollout(bad), "");
  bad = e;
  bad.succeeded_things = 5;  // both criteria
  EXPECT_NE(check_rollout(bad), "");
  bad.notified_things = bad.succeeded_things = 0;  // neither
  EXPECT_NE(check_rollout(bad), "");
  bad = e;
  bad.base_rate_per_minute = 1001;
  EXPECT_NE(check_rollout(bad), "");
}

ended_counts counts(std::size_t succeeded, std::size_t failed, std::size_t rejected = 0,
                    std::size_t timed_out = 0, std::size_t canceled = 0) {
  ended_counts c{};
  count_of(c, execution_status::succeeded) = succeeded;
  count_of(c, execution_status::failed) = failed;
  count_of(c, execution_status::rejected) = rejected;
  count_of(c, execution_status::timed_out) = timed_out;
  count_of(c, execution_status::canceled) = canceled;
  return c;
}

TEST(JobsAbort, ThresholdAfterTheMinimumOfExecutedThings) {
  std::vector<abort_criterion> c{{failure_type::failed, 50, 4}};
  EXPECT_FALSE(abort_due(c, counts(0, 3)));  // 3 executed < 4
  EXPECT_FALSE(abort_due(c, counts(3, 1)));  // 1 of 4 = 25%
  EXPECT_TRUE(abort_due(c, counts(2, 2)));   // 2 of 4 = 50%
  EXPECT_TRUE(abort_due(c, counts(1, 3)));
  // Other failure types and canceled executions are not FAILED, nor executed.
  EXPECT_FALSE(abort_due(c, counts(2, 0, 2, 0, 10)));
}

TEST(JobsAbort, FailureTypesAndAll) {
  EXPECT_TRUE(abort_due({{failure_type::rejected, 50, 2}}, counts(1, 0, 1)));
  EXPECT_FALSE(abort_due({{failure_type::rejected, 50, 2}}, counts(1, 1, 0)));
  EXPECT_TRUE(abort_due({{failure_type::timed_out, 10, 1}}, counts(9, 0, 0, 1)));
  EXPECT_TRUE(abort_due({{failure_type::all, 75, 4}}, counts(1, 1, 1, 1)));
  EXPECT_FALSE(abort_due({{failure_type::all, 75.01, 4}}, counts(1, 1, 1, 1)));
}

TEST(JobsAbort, TwoDecimalThresholdsCompareExactly) {
  // 1 of 3 is 33.333…%: at or above 33.33, below 33.34.
  EXPECT_TRUE(abort_due({{failure_type::failed, 33.33, 3}}, counts(2, 1)));
  EXPECT_FALSE(abort_due({{failure_type::failed, 33.34, 3}}, counts(2, 1)));
  // A zero threshold still needs one failure.
  EXPECT_FALSE(abort_due({{failure_type::failed, 0, 1}}, counts(5, 0)));
  EXPECT_TRUE(abort_due({{failure_type::failed, 0, 1}}, counts(5, 1)));
}

TEST(JobsAbort, ConfigurationRanges) {
  EXPECT_EQ(check_abort({{failure_type::failed, 100, 1}}), "");
  EXPECT_NE(check_abort({}), "");
  EXPECT_NE(check_abort({{failure_type::failed, 100.5, 1}}), "");
  EXPECT_NE(check_abort({{failure_type::failed, -1, 1}}), "");
  EXPECT_NE(check_abort({{failure_type::failed, 10.999, 1}}), "");
  EXPECT_NE(check_abort({{failure_type::failed, 10, 0}}), "");
  EXPECT_NE(check_abort({{failure_type::failed, 10, 1}, {failure_type::failed, 20, 1}}), "");
}

TEST(JobsRetry, RetriesByFailureType) {
  std::vector<retry_criterion> c{{failure_type::failed, 2}, {failure_type::all, 5}};
  EXPECT_EQ(retries_allowed(c, execution_status::failed), 2);  // the specific one wins
  EXPECT_EQ(retries_allowed(c, execution_status::timed_out), 5);
  EXPECT_EQ(retries_allowed(c, execution_status::rejected), 0);  // never retried
  EXPECT_EQ(retries_allowed(c, execution_status::canceled), 0);
  EXPECT_EQ(retries_allowed(c, execution_status::succeeded), 0);
  EXPECT_EQ(retries_allowed({{failure_type::timed_out, 1}}, execution_status::failed), 0);
  EXPECT_EQ(retries_allowed({}, execution_status::failed), 0);
}

TEST(JobsRetry, ConfigurationRanges) {
  EXPECT_EQ(check_retry({{failure_type::all, 10}}), "");
  EXPECT_EQ(check_retry({{failure_type::failed, 0}, {failure_type::timed_out, 3}}), "");
  EXPECT_NE(check_retry({}), "");
  EXPECT_NE(check_retry({{failure_type::failed, 11}}), "");
  EXPECT_NE(check_retry({{failure_type::failed, -1}}), "");
  EXPECT_NE(check_retry({{failure_type::rejected, 1}}), "");
  EXPECT_NE(check_retry({{failure_type::all, 1}, {failure_type::all, 2}}), "");
}

TEST(JobsRetry, NextAttemptIsQueuedWithTheNextNumber) {
  execution e = queue("fw", "lamp", 4, t0, 30);
  update_request u;
  u.status = execution_status::in_progress;
  u.step_timeout_minutes = 5;
  ASSERT_FALSE(apply_update(e, u, t0 + 1));
  u.status = execution_status::failed;
  u.details = status_details{{"why", "disk"}};
  ASSERT_FALSE(apply_update(e, u, t0 + 2));
  const execution next = retry(e, 9, t0 + 3);
  EXPECT_EQ(next.status, execution_status::queued);
  EXPECT_EQ(next.execution_number, 2);
  EXPECT_EQ(next.retry_attempt, 1);
  EXPECT_EQ(next.version, 1);
  EXPECT_TRUE(next.details.empty());
  EXPECT_EQ(next.sequence, 9u);
  EXPECT_EQ(next.queued_at, t0 + 3);
  EXPECT_EQ(next.started_at, 0);
  EXPECT_EQ(next.deadline(), 0);
  EXPECT_EQ(next.in_progress_timeout_minutes, 30);
  EXPECT_EQ(retry(next, 10, t0 + 4).execution_number, 3);
}

}  // namespace
