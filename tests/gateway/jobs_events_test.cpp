// Jobs events (sans-I/O): the JOB and JOB_EXECUTION events the jobs service's durable batches
// make, through jobs_event_store on a memory store with a manual clock, and their payloads.
#include "gateway/jobs_events.hpp"
#include "gateway/jobs_event_store.hpp"

#include <iotblocks/jobs/service.hpp>

#include "core/json.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace iotblocks::gateway {
namespace {

using namespace std::chrono_literals;

event_context context() {
  event_context ctx{"123456789012", "eu-west-1", 1'700'000'000'123, {}};
  ctx.event_id = [n = 0]() mutable { return "id-" + std::to_string(++n); };
  return ctx;
}

/// A memory store whose commits fail while `broken` is set.
class breakable_store final : public jobs::store {
 public:
  bool broken = false;
  std::error_code commit(const jobs::batch& b) override {
    return broken ? std::make_error_code(std::errc::io_error) : m_.commit(b);
  }
  std::optional<jobs::job> find_job(std::string_view id) const override { return m_.find_job(id); }
  std::optional<jobs::execution> find_execution(std::string_view t,
                                                std::string_view j) const override {
    return m_.find_execution(t, j);
  }
  std::vector<jobs::execution> pending(std::string_view t) const override { return m_.pending(t); }
  std::vector<jobs::execution> executions_of(std::string_view j) const override {
    return m_.executions_of(j);
  }
  std::vector<jobs::execution> due(std::int64_t now) const override { return m_.due(now); }
  std::uint64_t last_sequence() const override { return m_.last_sequence(); }
  std::vector<std::string> job_ids() const override { return m_.job_ids(); }
  std::vector<std::string> rollout_targets(std::string_view j, std::size_t from,
                                           std::size_t count) const override {
    return m_.rollout_targets(j, from, count);
  }
  std::vector<std::string> rolling_out() const override { return m_.rolling_out(); }
  std::optional<jobs::job_template> find_template(std::string_view id) const override {
    return m_.find_template(id);
  }
  std::vector<std::string> template_ids() const override { return m_.template_ids(); }

 private:
  jobs::memory_store m_;
};

/// The service on a jobs_event_store; `seen` holds "topic payload" of each event published.
struct fixture {
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  breakable_store* raw = nullptr;
  bool want_jobs = true, want_executions = true;
  std::vector<event_message> seen;
  std::unique_ptr<jobs_event_store> store;
  std::unique_ptr<jobs::service> svc;
  std::unique_ptr<jobs::router> router;

  fixture() {
    auto inner = std::make_unique<breakable_store>();
    raw = inner.get();
    store = std::make_unique<jobs_event_store>(
        std::move(inner),
        [this] {
          return std::pair{want_jobs, want_executions};
        },
        [this](std::vector<jobs_event> events) {
          for (auto& e : events) seen.push_back(jobs_event_message(e, context()));
        });
    svc = std::make_unique<jobs::service>(*store, clock);
    router = std::make_unique<jobs::router>(*svc);
  }
  std::vector<std::string> topics() const {
    std::vector<std::string> out;
    for (const auto& m : seen) out.push_back(m.topic);
    return out;
  }
  /// The device's request; true when accepted.
  bool device(std::string_view thing, std::string_view what, std::string_view payload) {
    auto out =
        router->route("$aws/things/" + std::string(thing) + "/jobs/" + std::string(what), payload);
    return out && !out->empty() && out->front().topic.ends_with("/accepted");
  }
};

rapidjson::Document parsed(const event_message& m) {
  auto d = json::parse(m.payload);
  EXPECT_TRUE(d) << m.payload;
  return d ? std::move(*d) : rapidjson::Document{};
}

TEST(JobsEvents, DeviceOutcomesThenTheJobCompleted) {
  fixture f;
  ASSERT_TRUE(f.svc->create_job(
      {.id = "fw", .document = "{}", .targets = {"a", "b"}, .description = "firmware"}));
  EXPECT_TRUE(f.seen.empty()) << "creating a job is no event";
  ASSERT_TRUE(f.device("a", "fw/update", R"({"status":"IN_PROGRESS"})"));
  EXPECT_TRUE(f.seen.empty()) << "IN_PROGRESS is not terminal";
  ASSERT_TRUE(f.device("a", "fw/update",
                       R"({"status":"SUCCEEDED","statusDetails":{"v":"2"},"expectedVersion":2})"));
  // Refused: a stale version, then a change out of a terminal status.
  EXPECT_FALSE(f.device("b", "fw/update", R"({"status":"FAILED","expectedVersion":7})"));
  EXPECT_FALSE(f.device("a", "fw/update", R"({"status":"FAILED"})"));
  ASSERT_TRUE(f.device("b", "fw/update", R"({"status":"REJECTED"})"));
  ASSERT_EQ(f.topics(), (std::vector<std::string>{"$aws/events/jobExecution/fw/succeeded",
                                                  "$aws/events/job/fw/completed",
                                                  "$aws/events/jobExecution/fw/rejected"}))
      << "within one batch the job's event comes first";
  const auto job = parsed(f.seen[1]);
  EXPECT_EQ(json::write(job),
            R"({"eventType":"JOB","eventId":"id-1","timestamp":1700000000,"operation":"completed",)"
            R"("jobId":"fw","status":"COMPLETED","targetSelection":"SNAPSHOT","targets":[],)"
            R"("description":"firmware","completedAt":1700000000000,"createdAt":1700000000000,)"
            R"("lastUpdatedAt":1700000000000,"jobProcessDetails":{"numberOfCanceledThings":0,)"
            R"("numberOfRejectedThings":1,"numberOfFailedThings":0,"numberOfRemovedThings":0,)"
            R"("numberOfSucceededThings":1}})");
  const auto ok = parsed(f.seen[0]);
  EXPECT_EQ(json::write(ok),
            R"({"eventType":"JOB_EXECUTION","eventId":"id-1","timestamp":1700000000,)"
            R"("operation":"succeeded","jobId":"fw",)"
            R"("thingArn":"arn:aws:iot:eu-west-1:123456789012:thing/a","status":"SUCCEEDED",)"
            R"("statusDetails":{"v":"2"}})");
}

TEST(JobsEvents, TimeoutRemovalCancelAndDeletion) {
  fixture f;
  ASSERT_TRUE(f.svc->create_job(
      {.id = "t", .document = "{}", .targets = {"a"}, .in_progress_timeout_minutes = 1}));
  ASSERT_TRUE(f.device("a", "start-next", "{}"));
  f.clock.advance(59s);
  ASSERT_TRUE(f.svc->tick(f.clock.now()));
  EXPECT_TRUE(f.seen.empty()) << "not due yet";
  f.clock.advance(2s);
  ASSERT_TRUE(f.svc->tick(f.clock.now()));
  EXPECT_EQ(f.topics(), (std::vector<std::string>{"$aws/events/job/t/completed",
                                                  "$aws/events/jobExecution/t/timed_out"}));
  EXPECT_EQ(json::find(parsed(f.seen[1]), "status")->GetString(), std::string("TIMED_OUT"));

  f.seen.clear();
  ASSERT_TRUE(f.svc->create_job({.id = "r", .document = "{}", .targets = {"b"}}));
  ASSERT_TRUE(f.svc->remove_thing("b"));
  EXPECT_EQ(f.topics(), (std::vector<std::string>{"$aws/events/job/r/completed",
                                                  "$aws/events/jobExecution/r/removed"}));

  f.seen.clear();
  ASSERT_TRUE(f.svc->create_job({.id = "c", .document = "{}", .targets = {"a"}}));
  ASSERT_TRUE(f.svc->cancel_job("c", false, "", "no longer needed"));
  EXPECT_EQ(f.topics(), (std::vector<std::string>{"$aws/events/job/c/canceled",
                                                  "$aws/events/jobExecution/c/canceled"}));
  const auto canceled = parsed(f.seen[0]);
  EXPECT_EQ(json::find(canceled, "status")->GetString(), std::string("CANCELED"));
  EXPECT_EQ(json::find(canceled, "jobProcessDetails"), nullptr);
  EXPECT_EQ(json::find(canceled, "completedAt"), nullptr);
  f.seen.clear();
  ASSERT_TRUE(f.svc->cancel_job("c", true));
  EXPECT_TRUE(f.seen.empty()) << "canceled again: already canceled, nothing new ended";
  EXPECT_FALSE(f.svc->cancel_job("t"));                // COMPLETED: refused
  EXPECT_FALSE(f.svc->delete_execution("t", "a", 2));  // no such execution number
  EXPECT_TRUE(f.seen.empty()) << "refused changes make no event";

  ASSERT_TRUE(f.svc->delete_execution("t", "a", 1));
  ASSERT_TRUE(f.svc->delete_job("c"));
  ASSERT_EQ(f.topics(), (std::vector<std::string>{"$aws/events/jobExecution/t/deleted",
                                                  "$aws/events/job/c/deleted"}));
  const auto deleted = parsed(f.seen[1]);
  EXPECT_EQ(json::find(deleted, "status")->GetString(), std::string("DELETED"));
  EXPECT_EQ(json::find(deleted, "comment")->GetString(), std::string("no longer needed"));
  EXPECT_EQ(json::find(parsed(f.seen[0]), "status")->GetString(), std::string("TIMED_OUT"))
      << "a deleted execution's status is the one it had";
}

TEST(JobsEvents, NothingWhenNotWantedOrNotDurable) {
  fixture f;
  f.want_jobs = false;
  ASSERT_TRUE(f.svc->create_job({.id = "x", .document = "{}", .targets = {"a"}}));
  ASSERT_TRUE(f.device("a", "x/update", R"({"status":"FAILED"})"));
  EXPECT_EQ(f.topics(), std::vector<std::string>{"$aws/events/jobExecution/x/failed"})
      << "JOB not wanted: the execution's event only";
  f.seen.clear();
  f.want_executions = false;
  ASSERT_TRUE(f.svc->delete_job("x"));
  EXPECT_TRUE(f.seen.empty());

  f.want_jobs = f.want_executions = true;
  ASSERT_TRUE(f.svc->create_job({.id = "y", .document = "{}", .targets = {"a"}}));
  f.raw->broken = true;
  EXPECT_FALSE(f.device("a", "y/update", R"({"status":"SUCCEEDED"})"));
  EXPECT_FALSE(f.svc->cancel_job("y"));
  EXPECT_TRUE(f.seen.empty()) << "a commit that failed makes no event";
  f.raw->broken = false;
  ASSERT_TRUE(f.device("a", "y/update", R"({"status":"SUCCEEDED"})"));
  EXPECT_EQ(f.topics(), (std::vector<std::string>{"$aws/events/job/y/completed",
                                                  "$aws/events/jobExecution/y/succeeded"}));
}

TEST(JobsEvents, TargetsAsArnsAndContinuous) {
  jobs::job j{.id = "g",
              .document = "{}",
              .targets = {"thing/a", "thinggroup/line"},
              .continuous = true,
              .status = jobs::job_status::canceled,
              .created_at = 5};
  const auto m = jobs_event_message(job_event{"canceled", j}, context());
  EXPECT_EQ(m.type, "JOB");
  EXPECT_EQ(m.topic, "$aws/events/job/g/canceled");
  EXPECT_EQ(json::write(parsed(m)),
            R"({"eventType":"JOB","eventId":"id-1","timestamp":1700000000,"operation":"canceled",)"
            R"("jobId":"g","status":"CANCELED","targetSelection":"CONTINUOUS","targets":[)"
            R"("arn:aws:iot:eu-west-1:123456789012:thing/a",)"
            R"("arn:aws:iot:eu-west-1:123456789012:thinggroup/line"],"createdAt":5000})");
}

}  // namespace
}  // namespace iotblocks::gateway
