// The control plane and the timers: create, cancel (with and without force), delete,
// thing removal, job completion, and timeouts driven by tick().
#include <iotblocks/jobs/service.hpp>

#include <gtest/gtest.h>

#include "jobs/clock.hpp"

#include "jobs/store_kinds.hpp"

#include <string>

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;
using namespace std::chrono_literals;

using iotblocks::jobs::testing::t0;

struct JobsService : ::testing::TestWithParam<test_stores::store_kind> {
  manual_clock clock{from_unix_ms(t0 * 1000)};
  test_stores::test_store holder{GetParam()};
  jobs::store& store = holder.get();
  service svc{store, clock};
  router r{svc};

  execution_status status(std::string_view job, std::string_view thing) {
    return svc.describe_execution(job, thing).value().status;
  }
  void update(std::string_view thing, std::string_view job, std::string_view payload) {
    auto out = r.route(
        "$aws/things/" + std::string{thing} + "/jobs/" + std::string{job} + "/update", payload);
    ASSERT_TRUE(out);
    ASSERT_TRUE(out->at(0).topic.ends_with("/accepted")) << out->at(0).payload;
  }
};

TEST_P(JobsService, CreateQueuesOnePerTargetAndNotifies) {
  auto out = svc.create_job({"fw", R"({ "url" : "x" })", {"a", "b", "a"}, 0});
  ASSERT_TRUE(out) << out.describe();
  EXPECT_EQ(holder.size(), 2u);  // duplicates count once
  ASSERT_EQ(out->size(), 4u);    // notify + notify-next for each
  EXPECT_EQ((*out)[0].topic, "$aws/things/a/jobs/notify");
  EXPECT_EQ((*out)[1].topic, "$aws/things/a/jobs/notify-next");
  EXPECT_EQ((*out)[2].topic, "$aws/things/b/jobs/notify");
  auto j = svc.describe_job("fw").value();
  EXPECT_EQ(j.status, job_status::in_progress);
  EXPECT_EQ(j.document, R"({"url":"x"})");
  EXPECT_EQ(j.created_at, t0);
  EXPECT_EQ(j.open_executions, 2u);
  auto e = svc.describe_execution("fw", "b").value();
  EXPECT_EQ(e.status, execution_status::queued);
  EXPECT_EQ(e.version, 1);
  EXPECT_EQ(e.execution_number, 1);
  EXPECT_EQ(e.queued_at, t0);
}

TEST_P(JobsService, CreateValidation) {
  EXPECT_EQ(svc.create_job({"bad id", "{}", {"a"}}).error(), error::invalid_request);
  EXPECT_EQ(svc.create_job({"j", "[1]", {"a"}}).error(), error::invalid_request);
  EXPECT_EQ(svc.create_job({"j", "{", {"a"}}).error(), error::invalid_request);
  EXPECT_EQ(svc.create_job({"j", "{}", {}}).error(), error::invalid_request);
  EXPECT_EQ(svc.create_job({"j", "{}", {"a/b"}}).error(), error::invalid_request);
  EXPECT_EQ(svc.create_job({"j", "{}", {"a"}, 10081}).error(), error::invalid_request);
  EXPECT_EQ(svc.create_job({"j", "{}", std::vector<std::string>(101, "a")}).error(),
            error::limit_exceeded);
  EXPECT_EQ(svc.create_job({"j", "{\"a\":\"" + std::string(33000, 'x') + "\"}", {"a"}}).error(),
            error::limit_exceeded);
  EXPECT_EQ(holder.size(), 0u);
  ASSERT_TRUE(svc.create_job({"j", "{}", {"a"}}));
  EXPECT_EQ(svc.create_job({"j", "{}", {"b"}}).error(), error::resource_already_exists);
}

TEST_P(JobsService, JobCompletesWhenEveryExecutionIsTerminal) {
  ASSERT_TRUE(svc.create_job({"fw", "{}", {"a", "b"}}));
  update("a", "fw", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(svc.describe_job("fw")->status, job_status::in_progress);
  clock.advance(10s);
  update("b", "fw", R"({"status":"REJECTED"})");
  auto j = svc.describe_job("fw").value();
  EXPECT_EQ(j.status, job_status::completed);
  EXPECT_EQ(j.completed_at, t0 + 10);
  EXPECT_EQ(svc.cancel_job("fw").error(), error::conflict);
}

TEST_P(JobsService, CancelWithoutForceLeavesInProgress) {
  ASSERT_TRUE(svc.create_job({"fw", "{}", {"a", "b"}}));
  update("a", "fw", R"({"status":"IN_PROGRESS"})");
  auto out = svc.cancel_job("fw");
  ASSERT_TRUE(out);
  EXPECT_EQ(status("fw", "a"), execution_status::in_progress);
  EXPECT_EQ(status("fw", "b"), execution_status::canceled);
  EXPECT_EQ(svc.describe_job("fw")->status, job_status::canceled);
  // b's list emptied: notify and notify-next for b only.
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].topic, "$aws/things/b/jobs/notify");
  // The device may still finish a; again without force is refused; with force cancels a.
  update("a", "fw", R"({"status":"IN_PROGRESS","statusDetails":{"p":"9"}})");
  EXPECT_EQ(svc.cancel_job("fw").error(), error::conflict);
  ASSERT_TRUE(svc.cancel_job("fw", true));
  EXPECT_EQ(status("fw", "a"), execution_status::canceled);
  EXPECT_TRUE(svc.describe_job("fw")->force_canceled);
  EXPECT_EQ(svc.cancel_job("nope").error(), error::resource_not_found);
}

TEST_P(JobsService, CancelExecutionAndRemoveThing) {
  ASSERT_TRUE(svc.create_job({"fw", "{}", {"a", "b"}}));
  update("a", "fw", R"({"status":"IN_PROGRESS"})");
  EXPECT_EQ(svc.cancel_execution("fw", "a").error(), error::invalid_state_transition);
  ASSERT_TRUE(svc.cancel_execution("fw", "a", true));
  EXPECT_EQ(status("fw", "a"), execution_status::canceled);
  EXPECT_EQ(svc.cancel_execution("fw", "a", true).error(), error::invalid_state_transition);
  EXPECT_EQ(svc.cancel_execution("fw", "zz").error(), error::resource_not_found);
  auto out = svc.remove_thing("b");
  ASSERT_TRUE(out);
  EXPECT_EQ(status("fw", "b"), execution_status::removed);
  EXPECT_EQ(out->size(), 2u);
  EXPECT_EQ(svc.describe_job("fw")->status, job_status::completed);
  EXPECT_TRUE(svc.remove_thing("b")->empty());
}

TEST_P(JobsService, CancelExecutionChecksVersionAndSetsDetails) {
  ASSERT_TRUE(svc.create_job({"fw", "{}", {"a"}}));
  update("a", "fw", R"({"status":"IN_PROGRESS"})");  // version 2
  const status_details why{{"reason", "operator"}};
  EXPECT_EQ(svc.cancel_execution("fw", "a", true, 1, &why).error(), error::version_mismatch);
  const status_details bad{{"bad key!", "x"}};
  EXPECT_EQ(svc.cancel_execution("fw", "a", true, 2, &bad).error(), error::invalid_request);
  EXPECT_EQ(status("fw", "a"), execution_status::in_progress);
  ASSERT_TRUE(svc.cancel_execution("fw", "a", true, 2, &why));
  auto e = svc.describe_execution("fw", "a").value();
  EXPECT_EQ(e.status, execution_status::canceled);
  EXPECT_EQ(e.details, why);
  EXPECT_EQ(svc.describe_job("fw")->status, job_status::completed);
}

TEST_P(JobsService, DeleteExecution) {
  ASSERT_TRUE(svc.create_job({"fw", "{}", {"a", "b"}, 0, "firmware 2"}));
  EXPECT_EQ(svc.describe_job("fw")->description, "firmware 2");
  update("a", "fw", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(svc.delete_execution("fw", "a", 2).error(), error::resource_not_found);
  EXPECT_EQ(svc.delete_execution("fw", "zz", 1).error(), error::resource_not_found);
  ASSERT_TRUE(svc.delete_execution("fw", "a", 1));
  EXPECT_FALSE(svc.describe_execution("fw", "a"));
  EXPECT_EQ(holder.size(), 1u);
  // QUEUED needs force; deleting the last open one completes the job and pushes b's lists.
  EXPECT_EQ(svc.delete_execution("fw", "b", 1).error(), error::invalid_state_transition);
  auto out = svc.delete_execution("fw", "b", 1, true);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->size(), 2u);
  EXPECT_EQ(svc.describe_job("fw")->status, job_status::completed);
  EXPECT_EQ(holder.size(), 0u);
  EXPECT_TRUE(store.executions_of("fw").empty());
  EXPECT_TRUE(store.executions_for("b").empty());
}

TEST_P(JobsService, ContinuousJobReachesThingsAddedLater) {
  job_spec spec{"cfg", "{}", {"a"}};
  spec.target_names = {"thinggroup/floor-1"};
  spec.continuous = true;
  ASSERT_TRUE(svc.create_job(spec));
  update("a", "cfg", R"({"status":"SUCCEEDED"})");
  auto j = svc.describe_job("cfg").value();
  EXPECT_EQ(j.status, job_status::in_progress);  // continuous: stays open for new things
  EXPECT_EQ(j.targets, std::vector<std::string>{"thinggroup/floor-1"});
  EXPECT_TRUE(j.continuous);
  auto out = svc.add_target("cfg", "b");
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[1].topic, "$aws/things/b/jobs/notify-next");
  EXPECT_EQ(status("cfg", "b"), execution_status::queued);
  EXPECT_EQ(svc.describe_job("cfg")->open_executions, 1u);
  EXPECT_TRUE(svc.add_target("cfg", "b")->empty());  // already has one
  EXPECT_TRUE(svc.add_target("cfg", "a")->empty());  // even a finished one
  EXPECT_EQ(svc.add_target("nope", "b").error(), error::resource_not_found);
  EXPECT_EQ(svc.add_target("cfg", "bad/name").error(), error::invalid_request);
  ASSERT_TRUE(svc.create_job({"snap", "{}", {"a"}}));
  EXPECT_EQ(svc.add_target("snap", "b").error(), error::conflict);
  ASSERT_TRUE(svc.cancel_job("cfg"));
  EXPECT_EQ(svc.add_target("cfg", "c").error(), error::conflict);
}

TEST_P(JobsService, ExecutionsForAThingInQueueOrder) {
  ASSERT_TRUE(svc.create_job({"one", "{}", {"a"}}));
  ASSERT_TRUE(svc.create_job({"two", "{}", {"a", "b"}}));
  update("a", "one", R"({"status":"FAILED"})");
  auto all = store.executions_for("a");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].job_id, "one");
  EXPECT_EQ(all[0].status, execution_status::failed);
  EXPECT_EQ(all[1].job_id, "two");
}

TEST_P(JobsService, DeleteNeedsForceWhileInProgress) {
  ASSERT_TRUE(svc.create_job({"fw", "{}", {"a"}}));
  EXPECT_EQ(svc.delete_job("fw").error(), error::conflict);
  auto out = svc.delete_job("fw", true);
  ASSERT_TRUE(out);
  EXPECT_FALSE(svc.describe_job("fw"));
  EXPECT_FALSE(svc.describe_execution("fw", "a"));
  EXPECT_EQ(out->size(), 2u);  // a's list emptied
  EXPECT_EQ(holder.size(), 0u);
  ASSERT_TRUE(svc.create_job({"g", "{}", {"a"}}));
  ASSERT_TRUE(svc.cancel_job("g"));
  ASSERT_TRUE(svc.delete_job("g"));
  EXPECT_EQ(svc.delete_job("g").error(), error::resource_not_found);
  ASSERT_TRUE(svc.create_job({"g", "{}", {"a"}}));  // the id is free again
}

TEST_P(JobsService, StepTimeoutThroughTick) {
  ASSERT_TRUE(svc.create_job({"fw", "{}", {"a"}}));
  update("a", "fw", R"({"status":"IN_PROGRESS","stepTimeoutInMinutes":2})");
  clock.advance(119s);
  EXPECT_TRUE(svc.tick(clock.now())->empty());
  EXPECT_EQ(status("fw", "a"), execution_status::in_progress);
  // Resetting the step timer pushes the deadline out.
  update("a", "fw", R"({"status":"IN_PROGRESS","stepTimeoutInMinutes":1})");
  clock.advance(59s);
  EXPECT_TRUE(svc.tick(clock.now())->empty());
  clock.advance(1s);
  auto out = svc.tick(clock.now());
  ASSERT_TRUE(out);
  EXPECT_EQ(status("fw", "a"), execution_status::timed_out);
  EXPECT_EQ(out->size(), 2u);  // notify, notify-next
  EXPECT_EQ(svc.describe_job("fw")->status, job_status::completed);
  auto reply = r.route("$aws/things/a/jobs/fw/update", R"({"status":"SUCCEEDED"})");
  EXPECT_NE(reply->at(0).payload.find("TerminalStateReached"), std::string::npos);
  EXPECT_TRUE(svc.tick(clock.now() + 1h)->empty());
}

TEST_P(JobsService, InProgressTimeoutFromJobConfig) {
  ASSERT_TRUE(svc.create_job({"fw", "{}", {"a", "b"}, 5}));
  clock.advance(3600s);  // queued executions do not time out
  EXPECT_TRUE(svc.tick(clock.now())->empty());
  update("a", "fw", R"({"status":"IN_PROGRESS","stepTimeoutInMinutes":60})");
  clock.advance(299s);
  EXPECT_TRUE(svc.tick(clock.now())->empty());
  clock.advance(1s);
  ASSERT_TRUE(svc.tick(clock.now()));
  EXPECT_EQ(status("fw", "a"), execution_status::timed_out);
  EXPECT_EQ(status("fw", "b"), execution_status::queued);
  EXPECT_EQ(svc.describe_job("fw")->status, job_status::in_progress);
}

TEST_P(JobsService, FinishedInTimeDoesNotTimeOut) {
  ASSERT_TRUE(svc.create_job({"fw", "{}", {"a"}, 1}));
  update("a", "fw", R"({"status":"IN_PROGRESS"})");
  update("a", "fw", R"({"status":"SUCCEEDED"})");
  clock.advance(120s);
  EXPECT_TRUE(svc.tick(clock.now())->empty());
  EXPECT_EQ(status("fw", "a"), execution_status::succeeded);
}

TEST_P(JobsService, SequenceContinuesOverAStore) {
  ASSERT_TRUE(svc.create_job({"one", "{}", {"a"}}));
  service again{store, clock};  // e.g. after a restart on a durable store
  ASSERT_TRUE(again.create_job({"two", "{}", {"a"}}));
  auto list = store.pending("a");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].job_id, "one");
  EXPECT_LT(list[0].sequence, list[1].sequence);
}

TEST_P(JobsService, NotifyFilterSkipsPushes) {
  svc.notify_filter([](std::string_view thing) { return thing == "a"; });
  auto out = svc.create_job({"fw", "{}", {"a", "b"}});
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 2u);
  EXPECT_TRUE((*out)[0].topic.starts_with("$aws/things/a/"));
}

IOTBLOCKS_JOBS_ON_EVERY_STORE(JobsService);

}  // namespace

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;

// pushes_since: the pushes that bring a device from what it was last told to the store now,
// whoever changed the store; the service's own pushes switched off (notify_filter).
TEST_P(JobsService, PushesSinceWhatTheDeviceWasLastTold) {
  service quiet{store, clock};
  quiet.notify_filter([](std::string_view) { return false; });
  ASSERT_TRUE(quiet.create_job({"a", "{}", {"fan"}, 0}).value().empty());
  service::pending_view last;
  auto out = svc.pushes_since("fan", last);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].topic, "$aws/things/fan/jobs/notify");
  EXPECT_EQ(out[1].topic, "$aws/things/fan/jobs/notify-next");
  EXPECT_NE(out[1].payload.find(R"("jobId":"a")"), std::string::npos) << out[1].payload;
  EXPECT_TRUE(svc.pushes_since("fan", last).empty());  // nothing changed since
  ASSERT_TRUE(quiet.create_job({"b", "{}", {"fan"}, 0}));
  out = svc.pushes_since("fan", last);
  ASSERT_EQ(out.size(), 1u);  // the list changed, the next did not
  EXPECT_EQ(out[0].topic, "$aws/things/fan/jobs/notify");
  ASSERT_TRUE(quiet.cancel_job("a"));
  out = svc.pushes_since("fan", last);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[1].payload.find(R"("jobId":"b")"), std::string::npos) << out[1].payload;
  ASSERT_TRUE(quiet.cancel_job("b"));
  out = svc.pushes_since("fan", last);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].payload.find("execution"), std::string::npos) << out[1].payload;
  EXPECT_TRUE(last.ids.empty());
}

}  // namespace
