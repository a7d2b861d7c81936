// Rollouts, abort criteria and retries through the service and the device API, on every
// store: what is released when, what an abort cancels, what a retry queues, what the
// devices are told, and that a rollout resumes from the file after a restart.
#include <iotblocks/jobs/service.hpp>

#include <gtest/gtest.h>

#include "jobs/clock.hpp"

#include "jobs/store_kinds.hpp"

#include <rapidjson/document.h>

#include <memory>
#include <string>

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;
using namespace std::chrono_literals;

using iotblocks::jobs::testing::t0;

struct JobConfigs : ::testing::TestWithParam<test_stores::store_kind> {
  manual_clock clock{from_unix_ms(t0 * 1000)};
  test_stores::test_store holder{GetParam()};
  std::unique_ptr<service> svc = std::make_unique<service>(holder.get(), clock);
  std::unique_ptr<router> r = std::make_unique<router>(*svc);

  /// Closes and opens the store (sqlite: from the file) with a new service on it.
  void restart() {
    r.reset();
    svc.reset();
    if (GetParam() == test_stores::store_kind::sqlite) holder.reopen();
    svc = std::make_unique<service>(holder.get(), clock);
    r = std::make_unique<router>(*svc);
  }
  std::vector<message> tick() {
    auto out = svc->tick(clock.now());
    EXPECT_TRUE(out) << out.describe();
    return out ? *out : std::vector<message>{};
  }
  std::optional<execution> exec(std::string_view job, std::string_view thing) {
    return svc->describe_execution(job, thing);
  }
  std::vector<message> route(std::string_view thing, std::string_view rest,
                             std::string_view payload) {
    auto out =
        r->route("$aws/things/" + std::string{thing} + "/jobs/" + std::string{rest}, payload);
    EXPECT_TRUE(out);
    return out ? *out : std::vector<message>{};
  }
  void update(std::string_view thing, std::string_view job, std::string_view payload) {
    auto out = route(thing, std::string{job} + "/update", payload);
    ASSERT_FALSE(out.empty());
    ASSERT_TRUE(out[0].topic.ends_with("/accepted")) << out[0].payload;
  }
  static std::size_t count_topic(const std::vector<message>& out, std::string_view topic) {
    std::size_t n = 0;
    for (const auto& m : out) n += m.topic == topic ? 1 : 0;
    return n;
  }
};

job_spec rolled(std::string id, std::vector<std::string> things, std::int64_t per_minute) {
  job_spec s{std::move(id), "{}", std::move(things)};
  s.rollout.maximum_per_minute = per_minute;
  return s;
}

TEST_P(JobConfigs, RolloutQueuesAShareAMinuteOnTick) {
  auto out = svc->create_job(rolled("fw", {"a", "b", "c", "d", "e"}, 2));
  ASSERT_TRUE(out) << out.describe();
  EXPECT_TRUE(exec("fw", "a"));
  EXPECT_TRUE(exec("fw", "b"));
  EXPECT_FALSE(exec("fw", "c"));  // not reached yet: no execution at all
  EXPECT_EQ(count_topic(*out, "$aws/things/c/jobs/notify"), 0u);
  EXPECT_EQ(count_topic(*out, "$aws/things/b/jobs/notify"), 1u);
  EXPECT_EQ(holder.size(), 2u);
  clock.advance(59s);
  EXPECT_TRUE(tick().empty());
  EXPECT_EQ(holder.size(), 2u);
  clock.advance(1s);
  auto pushed = tick();
  EXPECT_EQ(count_topic(pushed, "$aws/things/c/jobs/notify"), 1u);
  EXPECT_EQ(count_topic(pushed, "$aws/things/d/jobs/notify-next"), 1u);
  EXPECT_EQ(exec("fw", "c")->queued_at, t0 + 60);
  EXPECT_FALSE(exec("fw", "e"));
  // Finished executions do not complete a job whose rollout has things left.
  for (auto t : {"a", "b", "c", "d"}) update(t, "fw", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(svc->describe_job("fw")->status, job_status::in_progress);
  clock.advance(60s);
  tick();
  update("e", "fw", R"({"status":"SUCCEEDED"})");
  auto j = svc->describe_job("fw").value();
  EXPECT_EQ(j.status, job_status::completed);
  EXPECT_EQ(j.progress.released, 5u);
  EXPECT_EQ(count_of(j.ended, execution_status::succeeded), 5u);
}

TEST_P(JobConfigs, RolloutResumesAfterRestartWithNothingTwice) {
  ASSERT_TRUE(svc->create_job(rolled("fw", {"a", "b", "c", "d", "e", "f", "g"}, 3)));
  update("a", "fw", R"({"status":"IN_PROGRESS"})");
  restart();
  EXPECT_EQ(holder.size(), 3u);
  EXPECT_EQ(svc->describe_job("fw")->progress.released, 3u);
  EXPECT_EQ(exec("fw", "a")->status, execution_status::in_progress);
  EXPECT_TRUE(tick().empty());  // same window: nothing more
  clock.advance(60s);
  tick();
  restart();
  EXPECT_EQ(holder.size(), 6u);
  clock.advance(60s);
  tick();
  EXPECT_EQ(holder.size(), 7u);
  // One execution per thing, each queued once, in release order.
  std::vector<std::uint64_t> seq;
  for (auto t : {"a", "b", "c", "d", "e", "f", "g"}) seq.push_back(exec("fw", t)->sequence);
  EXPECT_TRUE(std::is_sorted(seq.begin(), seq.end()));
  EXPECT_EQ(std::adjacent_find(seq.begin(), seq.end()), seq.end());
  EXPECT_EQ(svc->describe_job("fw")->open_executions, 7u);
  EXPECT_TRUE(holder.get().rolling_out().empty());
}

TEST_P(JobConfigs, ExponentialRolloutThroughTheService) {
  job_spec s{"fw", "{}", {}};
  for (int i = 0; i < 20; ++i) s.targets.push_back("t" + std::to_string(i));
  s.rollout = {.maximum_per_minute = 8,
               .base_rate_per_minute = 2,
               .increment_factor = 2,
               .succeeded_things = 2};
  ASSERT_TRUE(svc->create_job(s));
  EXPECT_EQ(holder.size(), 2u);
  update("t0", "fw", R"({"status":"SUCCEEDED"})");
  update("t1", "fw", R"({"status":"SUCCEEDED"})");
  clock.advance(60s);
  tick();
  EXPECT_EQ(holder.size(), 6u);  // 2 succeeded: the rate doubled to 4
  restart();
  clock.advance(60s);
  tick();
  EXPECT_EQ(holder.size(), 10u);  // no more successes: still 4
}

TEST_P(JobConfigs, CancelStopsARollout) {
  ASSERT_TRUE(svc->create_job(rolled("fw", {"a", "b", "c"}, 1)));
  ASSERT_TRUE(svc->cancel_job("fw", false, "OPERATOR", "bad build"));
  auto j = svc->describe_job("fw").value();
  EXPECT_EQ(j.reason_code, "OPERATOR");
  EXPECT_EQ(j.comment, "bad build");
  clock.advance(10min);
  EXPECT_TRUE(tick().empty());
  EXPECT_EQ(holder.size(), 1u);
  EXPECT_EQ(exec("fw", "a")->status, execution_status::canceled);
  ASSERT_TRUE(svc->delete_job("fw"));
  EXPECT_TRUE(holder.get().rollout_targets("fw", 0, 10).empty());
}

TEST_P(JobConfigs, RolloutAndConfigurationValidation) {
  auto bad = rolled("fw", {"a"}, 1001);
  EXPECT_EQ(svc->create_job(bad).error(), error::invalid_request);
  job_spec s{"fw", "{}", {"a"}};
  s.abort_criteria = {{failure_type::failed, 101, 1}};
  EXPECT_EQ(svc->create_job(s).error(), error::invalid_request);
  s.abort_criteria.clear();
  s.retry_criteria = {{failure_type::rejected, 1}};
  EXPECT_EQ(svc->create_job(s).error(), error::invalid_request);
  EXPECT_EQ(holder.size(), 0u);
  EXPECT_FALSE(svc->describe_job("fw"));
}

TEST_P(JobConfigs, AContinuousJobsNewThingsJoinItsRollout) {
  job_spec s{"fw", "{}", {"a"}};
  s.continuous = true;
  s.rollout.maximum_per_minute = 1;
  ASSERT_TRUE(svc->create_job(s));
  auto out = svc->add_target("fw", "b");
  ASSERT_TRUE(out) << out.describe();
  EXPECT_TRUE(out->empty());  // b waits for its minute: no execution, no push
  EXPECT_FALSE(exec("fw", "b"));
  ASSERT_TRUE(svc->add_target("fw", "c"));
  ASSERT_TRUE(svc->add_target("fw", "c"));  // twice before its release: one execution
  restart();
  clock.advance(60s);
  auto pushed = tick();
  EXPECT_EQ(count_topic(pushed, "$aws/things/b/jobs/notify-next"), 1u);
  EXPECT_FALSE(exec("fw", "c"));
  clock.advance(60s);
  tick();
  clock.advance(60s);
  tick();
  EXPECT_EQ(exec("fw", "c")->status, execution_status::queued);
  EXPECT_TRUE(svc->add_target("fw", "c")->empty());  // it has one: nothing new
  auto j = svc->describe_job("fw").value();
  EXPECT_EQ(j.progress.targets, 4u);
  EXPECT_TRUE(j.progress.done());
  EXPECT_EQ(j.open_executions, 3u);
  EXPECT_EQ(holder.size(), 3u);
  EXPECT_EQ(j.status, job_status::in_progress);  // continuous
}

job_spec aborting(std::vector<std::string> things, failure_type type, double percent,
                  std::int64_t min) {
  job_spec s{"fw", "{}", std::move(things)};
  s.abort_criteria = {{type, percent, min}};
  return s;
}

TEST_P(JobConfigs, AbortCancelsTheJobAndItsQueuedExecutions) {
  ASSERT_TRUE(svc->create_job(aborting({"a", "b", "c", "d"}, failure_type::failed, 50, 2)));
  update("c", "fw", R"({"status":"IN_PROGRESS"})");
  update("a", "fw", R"({"status":"FAILED"})");  // 1 executed < 2: not yet
  EXPECT_EQ(svc->describe_job("fw")->status, job_status::in_progress);
  auto out = route("b", "fw/update", R"({"status":"SUCCEEDED"})");  // 1 of 2 failed: 50%
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(out[0].topic.ends_with("/accepted"));
  auto j = svc->describe_job("fw").value();
  EXPECT_EQ(j.status, job_status::canceled);
  EXPECT_EQ(j.reason_code, "ABORT_CRITERIA_MET");
  EXPECT_NE(j.comment.find("FAILED"), std::string::npos);
  EXPECT_FALSE(j.force_canceled);
  EXPECT_EQ(exec("fw", "d")->status, execution_status::canceled);
  EXPECT_EQ(exec("fw", "c")->status, execution_status::in_progress);  // not forced
  // d's device is told its list emptied; the device may still finish c.
  EXPECT_EQ(count_topic(out, "$aws/things/d/jobs/notify"), 1u);
  EXPECT_EQ(count_topic(out, "$aws/things/d/jobs/notify-next"), 1u);
  out = route("d", "fw/update", R"({"status":"IN_PROGRESS"})");
  EXPECT_NE(out.at(0).payload.find("TerminalStateReached"), std::string::npos);
  update("c", "fw", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(svc->describe_job("fw")->status, job_status::canceled);
  EXPECT_EQ(svc->describe_job("fw")->open_executions, 0u);
}

// Several queued executions canceled from the store while the triggering update is in
// the batch (a heap-use-after-free before, seen under ASan).
TEST_P(JobConfigs, AbortCancelsManyQueuedExecutions) {
  ASSERT_TRUE(
      svc->create_job(aborting({"a", "b", "c", "d", "e", "f"}, failure_type::failed, 50, 2)));
  update("a", "fw", R"({"status":"FAILED"})");
  update("b", "fw", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(svc->describe_job("fw")->status, job_status::canceled);
  for (auto t : {"c", "d", "e", "f"})
    EXPECT_EQ(exec("fw", t)->status, execution_status::canceled) << t;
  EXPECT_EQ(svc->describe_job("fw")->open_executions, 0u);
}

TEST_P(JobConfigs, AbortOnTimeoutsAndBeforeARolloutEnds) {
  auto s = aborting({"a", "b", "c", "d", "e"}, failure_type::timed_out, 100, 1);
  s.rollout.maximum_per_minute = 2;
  s.in_progress_timeout_minutes = 1;
  ASSERT_TRUE(svc->create_job(s));
  update("a", "fw", R"({"status":"IN_PROGRESS"})");
  clock.advance(61s);
  tick();  // a times out: 1 of 1 executed; c and d were released in this tick, then canceled
  auto j = svc->describe_job("fw").value();
  EXPECT_EQ(j.status, job_status::canceled);
  EXPECT_EQ(exec("fw", "a")->status, execution_status::timed_out);
  EXPECT_EQ(exec("fw", "b")->status, execution_status::canceled);
  for (auto t : {"c", "d"}) {
    if (auto e = exec("fw", t)) {
      EXPECT_EQ(e->status, execution_status::canceled) << t;
    }
  }
  clock.advance(10min);
  tick();
  EXPECT_FALSE(exec("fw", "e"));  // never reached
  EXPECT_EQ(svc->describe_job("fw")->open_executions, 0u);
}

TEST_P(JobConfigs, RetryQueuesTheNextAttemptAndTheDeviceIsTold) {
  job_spec s{"fw", "{}", {"a"}};
  s.retry_criteria = {{failure_type::failed, 1}};
  ASSERT_TRUE(svc->create_job(s));
  route("a", "start-next", "{}");
  clock.advance(5s);
  auto out =
      route("a", "fw/update",
            R"({"status":"FAILED","statusDetails":{"e":"disk"},"includeJobExecutionState":true})");
  ASSERT_FALSE(out.empty());
  ASSERT_TRUE(out[0].topic.ends_with("/accepted")) << out[0].payload;
  EXPECT_NE(out[0].payload.find(R"("status":"FAILED")"), std::string::npos);
  // The thing's pending list now holds attempt 2: notify and notify-next say so.
  ASSERT_EQ(count_topic(out, "$aws/things/a/jobs/notify-next"), 1u);
  for (const auto& m : out) {
    if (m.topic != "$aws/things/a/jobs/notify-next") continue;
    rapidjson::Document d;
    d.Parse(m.payload.c_str());
    EXPECT_EQ(d["execution"]["executionNumber"].GetInt64(), 2);
    EXPECT_STREQ(d["execution"]["status"].GetString(), "QUEUED");
  }
  auto e = exec("fw", "a").value();
  EXPECT_EQ(e.status, execution_status::queued);
  EXPECT_EQ(e.execution_number, 2);
  EXPECT_EQ(e.retry_attempt, 1);
  EXPECT_EQ(e.version, 1);
  EXPECT_EQ(svc->describe_job("fw")->status, job_status::in_progress);
  // The ended attempt cannot be updated any more: naming it is ResourceNotFound.
  out = route("a", "fw/update", R"({"status":"IN_PROGRESS","executionNumber":1})");
  EXPECT_NE(out.at(0).payload.find("ResourceNotFound"), std::string::npos);
  // It is kept: DescribeJobExecution with its executionNumber finds it as it ended.
  auto check_first = [&] {
    auto first = svc->describe_execution("fw", "a", 1);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, execution_status::failed);
    EXPECT_EQ(first->execution_number, 1);
    EXPECT_EQ(first->retry_attempt, 0);
    EXPECT_EQ(first->version, 3);  // start-next, then FAILED
    EXPECT_EQ(first->details, (status_details{{"e", "disk"}}));
    EXPECT_EQ(svc->describe_execution("fw", "a", 2)->status, execution_status::queued);
    EXPECT_FALSE(svc->describe_execution("fw", "a", 3));
    auto got = route("a", "fw/get", R"({"executionNumber":1,"includeJobDocument":false})");
    ASSERT_FALSE(got.empty());
    rapidjson::Document d;
    d.Parse(got[0].payload.c_str());
    ASSERT_TRUE(got[0].topic.ends_with("/get/accepted")) << got[0].payload;
    EXPECT_STREQ(d["execution"]["status"].GetString(), "FAILED");
    EXPECT_EQ(d["execution"]["executionNumber"].GetInt64(), 1);
    EXPECT_STREQ(d["execution"]["statusDetails"]["e"].GetString(), "disk");
  };
  check_first();
  restart();
  check_first();
  EXPECT_EQ(exec("fw", "a")->retry_attempt, 1);
  update("a", "fw", R"({"status":"IN_PROGRESS","executionNumber":2})");
  update("a", "fw", R"({"status":"FAILED"})");  // no retries left
  EXPECT_EQ(exec("fw", "a")->status, execution_status::failed);
  auto j = svc->describe_job("fw").value();
  EXPECT_EQ(j.status, job_status::completed);
  EXPECT_EQ(count_of(j.ended, execution_status::failed), 1u);  // attempts count once
  EXPECT_EQ(holder.get().attempts("a", "fw").size(), 1u);
  ASSERT_TRUE(svc->delete_job("fw"));
  EXPECT_TRUE(holder.get().attempts("a", "fw").empty()) << "erased with the job";
  restart();
  EXPECT_TRUE(holder.get().attempts("a", "fw").empty());
}

TEST_P(JobConfigs, RetryOnTimeoutButNeverOnRejected) {
  job_spec s{"fw", "{}", {"a", "b"}, 1};
  s.retry_criteria = {{failure_type::all, 2}};
  ASSERT_TRUE(svc->create_job(s));
  update("a", "fw", R"({"status":"IN_PROGRESS"})");
  update("b", "fw", R"({"status":"REJECTED"})");
  EXPECT_EQ(exec("fw", "b")->status, execution_status::rejected);
  clock.advance(61s);
  auto out = tick();
  EXPECT_EQ(count_topic(out, "$aws/things/a/jobs/notify"), 1u);
  auto e = exec("fw", "a").value();
  EXPECT_EQ(e.status, execution_status::queued);
  EXPECT_EQ(e.execution_number, 2);
  EXPECT_EQ(e.deadline(), 0);  // the timer starts again when the attempt starts
  update("a", "fw", R"({"status":"IN_PROGRESS"})");
  clock.advance(61s);
  tick();
  EXPECT_EQ(exec("fw", "a")->execution_number, 3);
  update("a", "fw", R"({"status":"IN_PROGRESS"})");
  clock.advance(61s);
  tick();
  EXPECT_EQ(exec("fw", "a")->status, execution_status::timed_out);  // 2 retries used
  EXPECT_EQ(svc->describe_job("fw")->status, job_status::completed);
}

TEST_P(JobConfigs, NoRetryOnceTheJobIsCanceled) {
  job_spec s{"fw", "{}", {"a"}};
  s.retry_criteria = {{failure_type::failed, 3}};
  ASSERT_TRUE(svc->create_job(s));
  update("a", "fw", R"({"status":"IN_PROGRESS"})");
  ASSERT_TRUE(svc->cancel_job("fw"));
  update("a", "fw", R"({"status":"FAILED"})");
  EXPECT_EQ(exec("fw", "a")->status, execution_status::failed);
  EXPECT_EQ(svc->describe_job("fw")->open_executions, 0u);
}

job_template firmware_template() {
  job_template t;
  t.id = "fw-template";
  t.description = "firmware update";
  t.document = R"({ "op" : "update" })";
  t.in_progress_timeout_minutes = 15;
  t.rollout.maximum_per_minute = 1;
  t.abort_criteria = {{failure_type::all, 20, 5}};
  t.retry_criteria = {{failure_type::failed, 2}};
  return t;
}

TEST_P(JobConfigs, TemplatesAreStoredAndRefusedAsAws) {
  ASSERT_TRUE(svc->create_template(firmware_template()));
  EXPECT_EQ(svc->create_template(firmware_template()).error(), error::conflict);
  auto bad = firmware_template();
  bad.id = "other";
  bad.description.clear();
  EXPECT_EQ(svc->create_template(bad).error(), error::invalid_request);
  bad = firmware_template();
  bad.id = "bad id";
  EXPECT_EQ(svc->create_template(bad).error(), error::invalid_request);
  bad = firmware_template();
  bad.id = "other";
  bad.document = "[]";
  EXPECT_EQ(svc->create_template(bad).error(), error::invalid_request);
  bad.document = "{}";
  bad.retry_criteria = {{failure_type::failed, 11}};
  EXPECT_EQ(svc->create_template(bad).error(), error::invalid_request);
  EXPECT_FALSE(svc->describe_template("other"));
  restart();
  auto t = svc->describe_template("fw-template").value();
  auto want = firmware_template();
  want.document = R"({"op":"update"})";  // compact
  want.created_at = t0;
  EXPECT_EQ(t, want);
  EXPECT_EQ(holder.get().template_ids(), std::vector<std::string>{"fw-template"});
  ASSERT_TRUE(svc->delete_template("fw-template"));
  EXPECT_EQ(svc->delete_template("fw-template").error(), error::resource_not_found);
  restart();
  EXPECT_FALSE(svc->describe_template("fw-template"));
}

TEST_P(JobConfigs, JobFromATemplateTakesWhatItLeavesUnset) {
  ASSERT_TRUE(svc->create_template(firmware_template()));
  auto spec = svc->from_template("fw-template", job_spec{"fw", "", {"a", "b"}});
  ASSERT_TRUE(spec) << spec.describe();
  ASSERT_TRUE(svc->create_job(*spec));
  auto j = svc->describe_job("fw").value();
  EXPECT_EQ(j.document, R"({"op":"update"})");
  EXPECT_EQ(j.in_progress_timeout_minutes, 15);
  EXPECT_EQ(j.rollout.maximum_per_minute, 1);
  EXPECT_EQ(j.abort_criteria, firmware_template().abort_criteria);
  EXPECT_EQ(j.retry_criteria, firmware_template().retry_criteria);
  EXPECT_EQ(j.template_id, "fw-template");
  EXPECT_EQ(holder.size(), 1u);  // the template's rollout: one a minute
  // What the request sets wins.
  job_spec own{"fw2", R"({"op":"reboot"})", {"a"}, 3};
  own.rollout.maximum_per_minute = 50;
  own.retry_criteria = {{failure_type::timed_out, 1}};
  auto merged = svc->from_template("fw-template", own).value();
  EXPECT_EQ(merged.document, R"({"op":"reboot"})");
  EXPECT_EQ(merged.in_progress_timeout_minutes, 3);
  EXPECT_EQ(merged.rollout.maximum_per_minute, 50);
  EXPECT_EQ(merged.retry_criteria, own.retry_criteria);
  EXPECT_EQ(merged.abort_criteria, firmware_template().abort_criteria);
  EXPECT_EQ(svc->from_template("nope", own).error(), error::resource_not_found);
  restart();
  EXPECT_EQ(svc->describe_job("fw")->template_id, "fw-template");
}

IOTBLOCKS_JOBS_ON_EVERY_STORE(JobConfigs);

}  // namespace
