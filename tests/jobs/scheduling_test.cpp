// schedulingConfig: the date-time format, AWS's rules at their boundaries, the JSON shape, and
// scheduled jobs through the service on every store: SCHEDULED with no execution until a
// tick at startTime (also after a restart), then executions and pushes; at endTime CANCEL,
// FORCE_CANCEL and STOP_ROLLOUT; maintenance windows gating the rollout.
#include <iotblocks/core/error.hpp>
#include <iotblocks/jobs/scheduling.hpp>
#include <iotblocks/jobs/service.hpp>

#include <gtest/gtest.h>

#include "jobs/clock.hpp"

#include "jobs/store_kinds.hpp"

#include <memory>
#include <string>

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;
using namespace std::chrono_literals;

using iotblocks::jobs::testing::t0;
constexpr std::int64_t minute = 60;

TEST(Scheduling, DateTimesParseAndFormatInUtc) {
  EXPECT_EQ(parse_date_time("2023-11-14T22:13"), t0 - 20);
  EXPECT_EQ(parse_date_time("2023-11-14T22:13:20"), t0);
  EXPECT_EQ(parse_date_time("2023-11-14T22:13:20Z"), t0);
  EXPECT_EQ(parse_date_time("1970-01-01T00:00"), 0);
  EXPECT_EQ(parse_date_time("2024-02-29T00:00"), 1'709'164'800);
  for (auto bad : {"2023-02-29T00:00", "2023-11-14 22:13", "2023-11-14T24:00", "2023-11-14T22:60",
                   "2023-13-01T00:00", "2023-11-14", "2023-11-14T22:13:2", "x023-11-14T22:13",
                   "2023-11-14T22:13:20ZZ", ""}) {
    EXPECT_FALSE(parse_date_time(bad)) << bad;
  }
  EXPECT_EQ(format_date_time(t0 - 20), "2023-11-14T22:13");
  EXPECT_EQ(format_date_time(t0), "2023-11-14T22:13:20");
  EXPECT_EQ(format_date_time(1'709'164'800), "2024-02-29T00:00");
}

TEST(Scheduling, AwssRulesAtTheirBoundaries) {
  const std::int64_t now = t0;
  auto check = [&](std::int64_t start, std::int64_t end) {
    return check_scheduling({start, end, end_behavior::none}, now);
  };
  EXPECT_EQ(check(now + 30 * minute, 0), "");
  EXPECT_NE(check(now + 30 * minute - 1, 0), "");
  EXPECT_EQ(check(now + max_start_ahead, 0), "");
  EXPECT_NE(check(now + max_start_ahead + 1, 0), "");
  EXPECT_EQ(check(0, now + 30 * minute), "");
  EXPECT_NE(check(0, now + 30 * minute - 1), "");
  EXPECT_EQ(check(now + 60 * minute, now + 90 * minute), "");
  EXPECT_NE(check(now + 60 * minute, now + 90 * minute - 1), "")
      << "endTime within 30 minutes of startTime";
  EXPECT_EQ(check(now + 60 * minute, now + max_end_ahead), "");
  EXPECT_NE(check(now + 60 * minute, now + max_end_ahead + 1), "");
  EXPECT_NE(check(now + 60 * minute, now + 30 * minute), "") << "endTime before startTime";
}

TEST(Scheduling, TheJsonShape) {
  auto c = parse_scheduling_config(
      R"({"startTime":"2023-11-14T23:00","endTime":"2023-11-15T01:00","endBehavior":"CANCEL"})");
  ASSERT_TRUE(c) << c.describe();
  EXPECT_EQ(c->start_time, *parse_date_time("2023-11-14T23:00"));
  EXPECT_EQ(c->end_time, *parse_date_time("2023-11-15T01:00"));
  EXPECT_EQ(c->behavior, end_behavior::cancel);
  EXPECT_EQ(parse_scheduling_config(to_json(*c)).value(), *c);
  for (auto bad : {R"({"startTime":"tomorrow"})", R"({"startTime":5})", R"({"endBehavior":"STOP"})",
                   R"({"other":"x"})", R"([1])"}) {
    auto r = parse_scheduling_config(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), error::invalid_request) << bad;
  }
  EXPECT_EQ(parse_scheduling_config("{").error(), core::error::invalid_json);
}

struct ScheduledJobs : ::testing::TestWithParam<test_stores::store_kind> {
  manual_clock clock{from_unix_ms(t0 * 1000)};
  test_stores::test_store holder{GetParam()};
  std::unique_ptr<service> svc = std::make_unique<service>(holder.get(), clock);
  std::unique_ptr<router> r = std::make_unique<router>(*svc);

  void restart() {
    r.reset();
    svc.reset();
    if (GetParam() == test_stores::store_kind::sqlite) holder.reopen();
    svc = std::make_unique<service>(holder.get(), clock);
    r = std::make_unique<router>(*svc);
  }
  std::vector<message> tick_at(std::int64_t t) {
    clock.set(from_unix_ms(t * 1000));
    auto out = svc->tick(clock.now());
    EXPECT_TRUE(out) << out.describe();
    return out ? *out : std::vector<message>{};
  }
  job_spec scheduled(std::string id, std::vector<std::string> things, std::int64_t start,
                     std::int64_t end = 0, end_behavior b = end_behavior::none) {
    job_spec s{std::move(id), R"({"op":"x"})", std::move(things)};
    s.scheduling = {start, end, b};
    return s;
  }
  void update(std::string_view thing, std::string_view job, std::string_view payload) {
    auto out = r->route(
        "$aws/things/" + std::string(thing) + "/jobs/" + std::string(job) + "/update", payload);
    ASSERT_TRUE(out && !out->empty());
    ASSERT_TRUE(out->at(0).topic.ends_with("/accepted")) << out->at(0).payload;
  }
};

TEST_P(ScheduledJobs, ScheduledUntilStartTimeThenQueued) {
  const std::int64_t start = t0 + 40 * minute;
  auto made = svc->create_job(scheduled("s", {"a", "b"}, start));
  ASSERT_TRUE(made) << made.describe();
  EXPECT_TRUE(made->empty()) << "no push before the start";
  EXPECT_EQ(svc->describe_job("s")->status, job_status::scheduled);
  EXPECT_FALSE(svc->describe_execution("s", "a"));
  EXPECT_TRUE(tick_at(start - 1).empty());
  EXPECT_FALSE(svc->describe_execution("s", "a"));
  EXPECT_EQ(svc->describe_job("s")->last_updated_at, t0)
      << "a tick before the start writes nothing";
  restart();  // the schedule is durable
  EXPECT_EQ(svc->describe_job("s")->status, job_status::scheduled);
  auto out = tick_at(start);
  EXPECT_EQ(svc->describe_job("s")->status, job_status::in_progress);
  for (const char* thing : {"a", "b"}) {
    auto e = svc->describe_execution("s", thing);
    ASSERT_TRUE(e) << thing;
    EXPECT_EQ(e->status, execution_status::queued);
    EXPECT_EQ(e->queued_at, start);
  }
  EXPECT_EQ(out.size(), 4u) << "notify and notify-next for each thing";
  EXPECT_TRUE(tick_at(start + 1).empty()) << "started once";
  update("a", "s", R"({"status":"SUCCEEDED"})");
  update("b", "s", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(svc->describe_job("s")->status, job_status::completed);
}

TEST_P(ScheduledJobs, EndTimeCancelsOrForceCancels) {
  const std::int64_t start = t0 + 40 * minute, end = start + 30 * minute;
  ASSERT_TRUE(svc->create_job(scheduled("c", {"a", "b"}, start, end, end_behavior::cancel)));
  ASSERT_TRUE(svc->create_job(scheduled("f", {"a", "b"}, start, end, end_behavior::force_cancel)));
  tick_at(start);
  update("a", "c", R"({"status":"IN_PROGRESS"})");
  restart();
  tick_at(end - 1);
  EXPECT_EQ(svc->describe_job("c")->status, job_status::in_progress);
  update("b", "f", R"({"status":"IN_PROGRESS"})");  // a's next is c; f on b
  tick_at(end);
  auto c = svc->describe_job("c").value();
  EXPECT_EQ(c.status, job_status::canceled);
  EXPECT_FALSE(c.force_canceled);
  EXPECT_EQ(svc->describe_execution("c", "a")->status, execution_status::in_progress);
  EXPECT_EQ(svc->describe_execution("c", "b")->status, execution_status::canceled);
  auto f = svc->describe_job("f").value();
  EXPECT_EQ(f.status, job_status::canceled);
  EXPECT_TRUE(f.force_canceled);
  EXPECT_EQ(svc->describe_execution("f", "a")->status, execution_status::canceled);
  EXPECT_EQ(svc->describe_execution("f", "b")->status, execution_status::canceled);
}

TEST_P(ScheduledJobs, StopRolloutLeavesTheRestWithoutExecutions) {
  const std::int64_t start = t0 + 40 * minute, end = start + 30 * minute;
  auto spec = scheduled("r", {"a", "b", "c"}, start, end, end_behavior::stop_rollout);
  spec.rollout.maximum_per_minute = 1;
  ASSERT_TRUE(svc->create_job(spec));
  tick_at(start);
  EXPECT_TRUE(svc->describe_execution("r", "a"));
  EXPECT_FALSE(svc->describe_execution("r", "b")) << "one a minute";
  tick_at(start + minute);
  EXPECT_TRUE(svc->describe_execution("r", "b"));
  update("a", "r", R"({"status":"SUCCEEDED"})");
  update("b", "r", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(svc->describe_job("r")->status, job_status::in_progress) << "c is still to come";
  tick_at(end);  // c's minute came long ago, but the rollout stops at endTime
  EXPECT_FALSE(svc->describe_execution("r", "c"));
  EXPECT_EQ(svc->describe_job("r")->status, job_status::completed);
  tick_at(end + minute);
  EXPECT_FALSE(svc->describe_execution("r", "c"));
}

TEST_P(ScheduledJobs, AScheduledJobIsCanceledAndRefusedAsAws) {
  ASSERT_TRUE(svc->create_job(scheduled("x", {"a"}, t0 + 40 * minute)));
  ASSERT_TRUE(svc->cancel_job("x"));
  EXPECT_EQ(svc->describe_job("x")->status, job_status::canceled);
  tick_at(t0 + 50 * minute);
  EXPECT_FALSE(svc->describe_execution("x", "a"));
  EXPECT_EQ(svc->create_job(scheduled("y", {"a"}, t0 + 10 * minute)).error(),
            error::invalid_request);
  EXPECT_EQ(svc->create_job(scheduled("y", {"a"}, t0 + 40 * minute, t0 + 50 * minute)).error(),
            error::invalid_request);
  EXPECT_FALSE(svc->describe_job("y"));
}

TEST_P(ScheduledJobs, AContinuousScheduledJobTakesThingsAddedBeforeItsStart) {
  auto spec = scheduled("g", {"a"}, t0 + 40 * minute);
  spec.continuous = true;
  ASSERT_TRUE(svc->create_job(spec));
  ASSERT_TRUE(svc->add_target("g", "b"));
  EXPECT_FALSE(svc->describe_execution("g", "b"));
  tick_at(t0 + 40 * minute);
  EXPECT_TRUE(svc->describe_execution("g", "a"));
  EXPECT_TRUE(svc->describe_execution("g", "b"));
}

// Maintenance windows: daily at 00:00 for 2 minutes, one thing a minute. The job starts
// (IN_PROGRESS) at its startTime outside a window, releases only inside windows, pauses
// when one closes mid-rollout and resumes in the next; the windows survive a restart.
TEST_P(ScheduledJobs, AWindowOpensClosesMidRolloutAndResumesInTheNext) {
  const std::int64_t start = t0 + 40 * minute;  // 22:53:20
  const std::int64_t w1 = *parse_date_time("2023-11-15T00:00"), w2 = w1 + 24 * 3600;
  auto spec = scheduled("w", {"a", "b", "c", "d"}, start);
  spec.scheduling.maintenance_windows = {{"cron(0 0 * * ? *)", 2}};
  spec.rollout.maximum_per_minute = 1;
  ASSERT_TRUE(svc->create_job(spec));
  EXPECT_TRUE(tick_at(start).empty());
  EXPECT_EQ(svc->describe_job("w")->status, job_status::in_progress) << "started, paused";
  EXPECT_FALSE(svc->describe_execution("w", "a"));
  EXPECT_TRUE(tick_at(w1 - 1).empty());
  EXPECT_EQ(svc->describe_job("w")->last_updated_at, start) << "a paused tick writes nothing";
  restart();
  EXPECT_EQ(tick_at(w1).size(), 2u) << "a's notify and notify-next";
  EXPECT_TRUE(svc->describe_execution("w", "a"));
  EXPECT_FALSE(svc->describe_execution("w", "b")) << "one a minute";
  tick_at(w1 + minute);
  EXPECT_TRUE(svc->describe_execution("w", "b"));
  EXPECT_TRUE(tick_at(w1 + 2 * minute).empty()) << "the window closed mid-rollout";
  EXPECT_FALSE(svc->describe_execution("w", "c"));
  restart();
  EXPECT_TRUE(tick_at(w1 + 3 * 3600).empty());
  EXPECT_FALSE(svc->describe_execution("w", "c"));
  EXPECT_EQ(svc->describe_job("w")->status, job_status::in_progress);
  tick_at(w2);
  auto c = svc->describe_execution("w", "c");
  ASSERT_TRUE(c) << "resumed in the next window";
  EXPECT_EQ(c->queued_at, w2);
  EXPECT_FALSE(svc->describe_execution("w", "d"));
  tick_at(w2 + minute);
  EXPECT_TRUE(svc->describe_execution("w", "d"));
  for (const char* thing : {"a", "b", "c", "d"}) update(thing, "w", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(svc->describe_job("w")->status, job_status::completed);
}

// Without startTime or a rollout: created inside a window, every thing is released at once;
// outside, at the next window's first tick.
TEST_P(ScheduledJobs, WithoutStartTimeOrRolloutAWindowReleasesEveryThing) {
  auto now_open = scheduled("open", {"a"}, 0);
  now_open.scheduling.maintenance_windows = {{"cron(0 22 * * ? *)", 60}};  // t0 is 22:13:20
  auto made = svc->create_job(now_open);
  ASSERT_TRUE(made) << made.describe();
  EXPECT_EQ(made->size(), 2u);
  EXPECT_TRUE(svc->describe_execution("open", "a"));
  auto later = scheduled("later", {"b", "c"}, 0);
  later.scheduling.maintenance_windows = {{"cron(0 23 * * ? *)", 30}};
  made = svc->create_job(later);
  ASSERT_TRUE(made) << made.describe();
  EXPECT_TRUE(made->empty());
  EXPECT_EQ(svc->describe_job("later")->status, job_status::in_progress);
  EXPECT_FALSE(svc->describe_execution("later", "b"));
  restart();
  const std::int64_t w = *parse_date_time("2023-11-14T23:00");
  EXPECT_TRUE(tick_at(w - 1).empty());
  EXPECT_EQ(tick_at(w).size(), 4u) << "b and c, notify and notify-next each";
  EXPECT_TRUE(svc->describe_execution("later", "b"));
  EXPECT_TRUE(svc->describe_execution("later", "c"));
  update("b", "later", R"({"status":"SUCCEEDED"})");
  update("c", "later", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(svc->describe_job("later")->status, job_status::completed);
}

// endTime acts whether a window is open or not: CANCEL inside one, STOP_ROLLOUT outside.
TEST_P(ScheduledJobs, EndTimeAppliesInsideAndOutsideAWindow) {
  const std::int64_t start = t0 + 40 * minute;  // 22:53:20: rollout minutes start at :20
  const std::int64_t w1 = *parse_date_time("2023-11-15T00:00");
  auto in = scheduled("in", {"a", "b", "c"}, start, w1 + 90, end_behavior::cancel);
  auto out =
      scheduled("out", {"a", "b", "c", "d"}, start, w1 + 3 * 3600, end_behavior::stop_rollout);
  for (auto* s : {&in, &out}) {
    s->scheduling.maintenance_windows = {{"cron(0 0 * * ? *)", 2}};
    s->rollout.maximum_per_minute = 1;
    ASSERT_TRUE(svc->create_job(*s));
  }
  tick_at(start);
  tick_at(w1);
  tick_at(w1 + minute);
  EXPECT_TRUE(svc->describe_execution("in", "b"));
  tick_at(w1 + 90);  // in's endTime, inside the window (and out's next rollout minute)
  EXPECT_EQ(svc->describe_job("in")->status, job_status::canceled);
  EXPECT_EQ(svc->describe_execution("in", "a")->status, execution_status::canceled);
  EXPECT_EQ(svc->describe_execution("in", "b")->status, execution_status::canceled);
  EXPECT_FALSE(svc->describe_execution("in", "c"));
  EXPECT_EQ(svc->describe_job("out")->status, job_status::in_progress);
  EXPECT_TRUE(svc->describe_execution("out", "c"));
  tick_at(w1 + 2 * minute + 20);
  EXPECT_FALSE(svc->describe_execution("out", "d")) << "the window closed";
  for (const char* thing : {"a", "b", "c"}) update(thing, "out", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(svc->describe_job("out")->status, job_status::in_progress) << "d is still to come";
  tick_at(w1 + 3 * 3600);  // out's endTime, outside a window: the rollout stops
  EXPECT_EQ(svc->describe_job("out")->status, job_status::completed);
  tick_at(w1 + 24 * 3600);
  EXPECT_FALSE(svc->describe_execution("out", "d"));
  EXPECT_FALSE(svc->describe_execution("in", "c"));
}

TEST_P(ScheduledJobs, ABadWindowIsRefused) {
  auto spec = scheduled("bad", {"a"}, 0);
  spec.scheduling.maintenance_windows = {{"cron(0 0 * * * *)", 60}};
  auto made = svc->create_job(spec);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error(), error::invalid_request);
  EXPECT_NE(std::string(made.fail().message.view()).find("exactly one of"), std::string::npos);
  EXPECT_FALSE(svc->describe_job("bad"));
}

// CreateJobTemplate's maintenanceWindows: stored with the template, given to a job made
// from it without its own, and checked as a job's are.
TEST_P(ScheduledJobs, ATemplatesWindowsGoToItsJobs) {
  job_template t;
  t.id = "tpl";
  t.description = "nightly";
  t.document = R"({"op":"x"})";
  t.maintenance_windows = {{"cron(0 23 * * ? *)", 30}};
  ASSERT_TRUE(svc->create_template(t));
  restart();
  EXPECT_EQ(svc->describe_template("tpl")->maintenance_windows, t.maintenance_windows);
  auto spec = svc->from_template("tpl", job_spec{"j", "", {"a"}});
  ASSERT_TRUE(spec) << spec.describe();
  EXPECT_EQ(spec->scheduling.maintenance_windows, t.maintenance_windows);
  ASSERT_TRUE(svc->create_job(*spec));
  EXPECT_FALSE(svc->describe_execution("j", "a")) << "22:13: outside the 23:00 window";
  tick_at(*parse_date_time("2023-11-14T23:00"));
  EXPECT_TRUE(svc->describe_execution("j", "a"));
  t.id = "bad";
  t.maintenance_windows = {{"cron(0 0 * * ? *)", 1431}};
  EXPECT_EQ(svc->create_template(t).error(), error::invalid_request);
}

IOTBLOCKS_JOBS_ON_EVERY_STORE(ScheduledJobs);

}  // namespace
