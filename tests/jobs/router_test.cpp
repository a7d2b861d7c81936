// The device MQTT API through the router: replies on each topic with AWS's field names,
// every rejection code, clientToken echo, notify and notify-next pushes.
#include <iotblocks/jobs/service.hpp>

#include "core/json.hpp"

#include <gtest/gtest.h>

#include "jobs/clock.hpp"

#include "jobs/store_kinds.hpp"

#include <string>

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;

using iotblocks::jobs::testing::t0;

struct JobsRouterTest : ::testing::TestWithParam<test_stores::store_kind> {
  manual_clock clock{from_unix_ms(t0 * 1000)};
  test_stores::test_store holder{GetParam()};
  jobs::store& store = holder.get();
  service svc{store, clock};
  router r{svc};

  void create(const std::string& id, std::vector<std::string> things, std::int64_t timeout = 0) {
    auto out = svc.create_job({id, R"({"op":")" + id + "\"}", std::move(things), timeout});
    ASSERT_TRUE(out) << out.describe();
  }
  std::vector<message> route(std::string_view topic, std::string_view payload = "") {
    auto out = r.route(topic, payload);
    EXPECT_TRUE(out);
    return out ? *out : std::vector<message>{};
  }
  static rapidjson::Document parse(const message& m) {
    auto d = json::parse(m.payload);
    EXPECT_TRUE(d) << m.payload;
    return d ? std::move(*d) : rapidjson::Document{};
  }
  void advance(int seconds) { clock.advance(std::chrono::seconds(seconds)); }
  // The code of a single /rejected reply on `topic`.
  std::string rejected_code(std::string_view topic, std::string_view payload) {
    auto out = route(topic, payload);
    EXPECT_EQ(out.size(), 1u);
    if (out.empty()) return {};
    EXPECT_EQ(out[0].topic, std::string{topic} + "/rejected");
    auto d = parse(out[0]);
    EXPECT_TRUE(d.HasMember("message"));
    EXPECT_EQ(d["timestamp"].GetInt64(), svc.now());
    return d["code"].GetString();
  }
};

TEST_P(JobsRouterTest, NotJobsTopicsPassThrough) {
  EXPECT_FALSE(r.route("sensors/lamp", "{}"));
  EXPECT_FALSE(r.route("$aws/things/lamp/shadow/update", "{}"));
  EXPECT_FALSE(r.route("$aws/things/lamp/jobs/notify", "{}"));
}

TEST_P(JobsRouterTest, GetPending) {
  create("a", {"lamp"});
  advance(1);
  create("b", {"lamp"});
  route("$aws/things/lamp/jobs/b/update", R"({"status":"IN_PROGRESS"})");
  auto out = route("$aws/things/lamp/jobs/get", R"({"clientToken":"tok"})");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "$aws/things/lamp/jobs/get/accepted");
  auto d = parse(out[0]);
  EXPECT_STREQ(d["clientToken"].GetString(), "tok");
  ASSERT_EQ(d["inProgressJobs"].Size(), 1u);
  ASSERT_EQ(d["queuedJobs"].Size(), 1u);
  const auto& ip = d["inProgressJobs"][0];
  EXPECT_STREQ(ip["jobId"].GetString(), "b");
  EXPECT_EQ(ip["queuedAt"].GetInt64(), t0 + 1);
  EXPECT_EQ(ip["startedAt"].GetInt64(), t0 + 1);
  EXPECT_EQ(ip["versionNumber"].GetInt64(), 2);
  EXPECT_EQ(ip["executionNumber"].GetInt64(), 1);
  EXPECT_STREQ(d["queuedJobs"][0]["jobId"].GetString(), "a");
  EXPECT_FALSE(d["queuedJobs"][0].HasMember("startedAt"));
  // Another thing has nothing pending; no clientToken, no clientToken field.
  d = parse(route("$aws/things/other/jobs/get").at(0));
  EXPECT_EQ(d["queuedJobs"].Size(), 0u);
  EXPECT_FALSE(d.HasMember("clientToken"));
}

TEST_P(JobsRouterTest, StartNextOldestQueuedFirst) {
  create("old", {"lamp"});
  advance(5);
  create("new", {"lamp"});
  advance(5);
  auto out = route("$aws/things/lamp/jobs/start-next",
                   R"({"clientToken":"c1","statusDetails":{"step":"1"},"stepTimeoutInMinutes":3})");
  ASSERT_GE(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "$aws/things/lamp/jobs/start-next/accepted");
  auto d = parse(out[0]);
  EXPECT_STREQ(d["clientToken"].GetString(), "c1");
  const auto& e = d["execution"];
  EXPECT_STREQ(e["jobId"].GetString(), "old");
  EXPECT_STREQ(e["thingName"].GetString(), "lamp");
  EXPECT_STREQ(e["status"].GetString(), "IN_PROGRESS");
  EXPECT_STREQ(e["statusDetails"]["step"].GetString(), "1");
  EXPECT_EQ(e["versionNumber"].GetInt64(), 2);
  EXPECT_EQ(e["startedAt"].GetInt64(), t0 + 10);
  EXPECT_EQ(e["approximateSecondsBeforeTimedOut"].GetInt64(), 180);
  EXPECT_STREQ(e["jobDocument"]["op"].GetString(), "old");
  // "old" stays next: no push. A second start-next returns it again, unchanged.
  EXPECT_EQ(out.size(), 1u);
  d = parse(route("$aws/things/lamp/jobs/start-next").at(0));
  EXPECT_STREQ(d["execution"]["jobId"].GetString(), "old");
  EXPECT_EQ(d["execution"]["versionNumber"].GetInt64(), 2);
  // Nothing pending: accepted without an execution.
  d = parse(route("$aws/things/idle/jobs/start-next", R"({"clientToken":"z"})").at(0));
  EXPECT_FALSE(d.HasMember("execution"));
  EXPECT_STREQ(d["clientToken"].GetString(), "z");
}

TEST_P(JobsRouterTest, NotifyNextOrdering) {
  create("j1", {"lamp"});
  advance(1);
  auto out = svc.create_job({"j2", "{}", {"lamp"}});
  ASSERT_TRUE(out);
  // j2 joins the list (notify) but j1 stays next (no notify-next).
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].topic, "$aws/things/lamp/jobs/notify");
  auto d = parse((*out)[0]);
  ASSERT_EQ(d["jobs"]["QUEUED"].Size(), 2u);
  EXPECT_STREQ(d["jobs"]["QUEUED"][0]["jobId"].GetString(), "j1");
  EXPECT_STREQ(d["jobs"]["QUEUED"][1]["jobId"].GetString(), "j2");
  // AWS's example: J2 going IN_PROGRESS while J1 stays QUEUED makes J2 next.
  auto msgs = route("$aws/things/lamp/jobs/j2/update", R"({"status":"IN_PROGRESS"})");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1].topic, "$aws/things/lamp/jobs/notify-next");
  d = parse(msgs[1]);
  EXPECT_STREQ(d["execution"]["jobId"].GetString(), "j2");
  EXPECT_STREQ(d["execution"]["status"].GetString(), "IN_PROGRESS");
  // Progress reports push nothing.
  msgs = route("$aws/things/lamp/jobs/j2/update", R"({"status":"IN_PROGRESS"})");
  EXPECT_EQ(msgs.size(), 1u);
  // j2 done: the list shrinks (notify) and j1 is next again (notify-next).
  msgs = route("$aws/things/lamp/jobs/j2/update", R"({"status":"SUCCEEDED"})");
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[1].topic, "$aws/things/lamp/jobs/notify");
  d = parse(msgs[1]);
  EXPECT_EQ(d["jobs"]["QUEUED"].Size(), 1u);
  EXPECT_FALSE(d["jobs"].HasMember("IN_PROGRESS"));
  d = parse(msgs[2]);
  EXPECT_STREQ(d["execution"]["jobId"].GetString(), "j1");
  // j1 done: nothing left; notify-next carries no execution.
  msgs = route("$aws/things/lamp/jobs/j1/update", R"({"status":"FAILED"})");
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(parse(msgs[1])["jobs"].MemberCount(), 0u);
  d = parse(msgs[2]);
  EXPECT_FALSE(d.HasMember("execution"));
  EXPECT_TRUE(d.HasMember("timestamp"));
}

TEST_P(JobsRouterTest, DescribeExecution) {
  create("fw", {"lamp"});
  auto d = parse(route("$aws/things/lamp/jobs/fw/get", R"({"clientToken":"d"})").at(0));
  EXPECT_STREQ(d["execution"]["status"].GetString(), "QUEUED");
  EXPECT_STREQ(d["execution"]["jobDocument"]["op"].GetString(), "fw");
  EXPECT_STREQ(d["clientToken"].GetString(), "d");
  d = parse(route("$aws/things/lamp/jobs/fw/get", R"({"includeJobDocument":false})").at(0));
  EXPECT_FALSE(d["execution"].HasMember("jobDocument"));
  d = parse(route("$aws/things/lamp/jobs/$next/get").at(0));
  EXPECT_STREQ(d["execution"]["jobId"].GetString(), "fw");
  auto out = route("$aws/things/idle/jobs/$next/get");
  EXPECT_EQ(out.at(0).topic, "$aws/things/idle/jobs/$next/get/accepted");
  EXPECT_FALSE(parse(out[0]).HasMember("execution"));
  EXPECT_TRUE(parse(route("$aws/things/lamp/jobs/fw/get", R"({"executionNumber":1})").at(0))
                  .HasMember("execution"));
  // A terminal execution can still be described.
  route("$aws/things/lamp/jobs/fw/update", R"({"status":"REJECTED"})");
  d = parse(route("$aws/things/lamp/jobs/fw/get").at(0));
  EXPECT_STREQ(d["execution"]["status"].GetString(), "REJECTED");
}

TEST_P(JobsRouterTest, UpdateAccepted) {
  create("fw", {"lamp"});
  auto out = route("$aws/things/lamp/jobs/fw/update",
                   R"({"status":"IN_PROGRESS","expectedVersion":1,"clientToken":"u",
                       "includeJobExecutionState":true,"includeJobDocument":true,
                       "statusDetails":{"pct":"50"}})");
  EXPECT_EQ(out.at(0).topic, "$aws/things/lamp/jobs/fw/update/accepted");
  auto d = parse(out[0]);
  EXPECT_STREQ(d["executionState"]["status"].GetString(), "IN_PROGRESS");
  EXPECT_STREQ(d["executionState"]["statusDetails"]["pct"].GetString(), "50");
  EXPECT_EQ(d["executionState"]["versionNumber"].GetInt64(), 2);
  EXPECT_STREQ(d["jobDocument"]["op"].GetString(), "fw");
  EXPECT_STREQ(d["clientToken"].GetString(), "u");
  d = parse(route("$aws/things/lamp/jobs/fw/update", R"({"status":"SUCCEEDED"})").at(0));
  EXPECT_FALSE(d.HasMember("executionState"));
  EXPECT_FALSE(d.HasMember("jobDocument"));
  EXPECT_EQ(svc.describe_job("fw")->status, job_status::completed);
}

TEST_P(JobsRouterTest, EveryRejectionCode) {
  create("fw", {"lamp"});
  EXPECT_EQ(rejected_code("$aws/things/lamp/jobs/fw/delete", R"({"clientToken":"t"})"),
            "InvalidTopic");
  EXPECT_EQ(rejected_code("$aws/things/lamp/jobs/fw/update", "{nope"), "InvalidJson");
  EXPECT_EQ(rejected_code("$aws/things/lamp/jobs/fw/update", R"({"status":"BOGUS"})"),
            "InvalidRequest");
  EXPECT_EQ(rejected_code("$aws/things/lamp/jobs/nope/update", R"({"status":"FAILED"})"),
            "ResourceNotFound");
  EXPECT_EQ(rejected_code("$aws/things/lamp/jobs/nope/get", ""), "ResourceNotFound");
  EXPECT_EQ(rejected_code("$aws/things/lamp/jobs/fw/get", R"({"executionNumber":9})"),
            "ResourceNotFound");
  EXPECT_EQ(rejected_code("$aws/things/lamp/jobs/fw/update",
                          R"({"status":"IN_PROGRESS","expectedVersion":7})"),
            "VersionMismatch");
  EXPECT_EQ(rejected_code("$aws/things/lamp/jobs/fw/update", R"({"status":"QUEUED"})"),
            "InvalidStateTransition");
  route("$aws/things/lamp/jobs/fw/update", R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(rejected_code("$aws/things/lamp/jobs/fw/update", R"({"status":"IN_PROGRESS"})"),
            "InvalidStateTransition");
  create("c", {"lamp"});
  ASSERT_TRUE(svc.cancel_job("c"));
  EXPECT_EQ(rejected_code("$aws/things/lamp/jobs/c/update", R"({"status":"SUCCEEDED"})"),
            "TerminalStateReached");
}

TEST_P(JobsRouterTest, RejectionCarriesStateAndToken) {
  create("fw", {"lamp"});
  auto out = route("$aws/things/lamp/jobs/fw/update",
                   R"({"status":"IN_PROGRESS","expectedVersion":3,"clientToken":"vm"})");
  auto d = parse(out.at(0));
  EXPECT_STREQ(d["code"].GetString(), "VersionMismatch");
  EXPECT_STREQ(d["clientToken"].GetString(), "vm");
  EXPECT_STREQ(d["executionState"]["status"].GetString(), "QUEUED");
  EXPECT_EQ(d["executionState"]["versionNumber"].GetInt64(), 1);
  // The token is echoed even when the rest of the request is invalid.
  d = parse(route("$aws/things/lamp/jobs/fw/update", R"({"clientToken":"bad","status":3})").at(0));
  EXPECT_STREQ(d["code"].GetString(), "InvalidRequest");
  EXPECT_STREQ(d["clientToken"].GetString(), "bad");
  EXPECT_FALSE(d.HasMember("executionState"));
  d = parse(route("$aws/things/lamp/jobs/x/nope", R"({"clientToken":"it"})").at(0));
  EXPECT_STREQ(d["clientToken"].GetString(), "it");
}

// A store whose writes fail: the device gets InternalError and nothing changes.
struct failing_store final : store {
  memory_store inner;
  bool fail = false;
  std::error_code commit(const batch& b) override {
    return fail ? std::make_error_code(std::errc::io_error) : inner.commit(b);
  }
  std::optional<job> find_job(std::string_view id) const override { return inner.find_job(id); }
  std::optional<execution> find_execution(std::string_view t, std::string_view j) const override {
    return inner.find_execution(t, j);
  }
  std::vector<execution> pending(std::string_view t) const override { return inner.pending(t); }
  std::vector<execution> executions_of(std::string_view j) const override {
    return inner.executions_of(j);
  }
  std::vector<execution> due(std::int64_t now) const override { return inner.due(now); }
  std::uint64_t last_sequence() const override { return inner.last_sequence(); }
  std::vector<std::string> job_ids() const override { return inner.job_ids(); }
  std::vector<std::string> rollout_targets(std::string_view j, std::size_t from,
                                           std::size_t n) const override {
    return inner.rollout_targets(j, from, n);
  }
  std::vector<std::string> rolling_out() const override { return inner.rolling_out(); }
  std::optional<job_template> find_template(std::string_view id) const override {
    return inner.find_template(id);
  }
  std::vector<std::string> template_ids() const override { return inner.template_ids(); }
};

TEST(JobsRouter, InternalErrorWhenTheStoreFails) {
  manual_clock clock{from_unix_ms(t0 * 1000)};
  failing_store s;
  service svc{s, clock};
  router r{svc};
  ASSERT_TRUE(svc.create_job({"fw", "{}", {"lamp"}}));
  s.fail = true;
  auto out = r.route("$aws/things/lamp/jobs/fw/update", R"({"status":"FAILED"})");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->at(0).topic, "$aws/things/lamp/jobs/fw/update/rejected");
  EXPECT_NE(out->at(0).payload.find(R"("code":"InternalError")"), std::string::npos);
  EXPECT_EQ(s.find_execution("lamp", "fw")->status, execution_status::queued);
  EXPECT_EQ(svc.create_job({"g", "{}", {"lamp"}}).error(), error::internal_error);
  EXPECT_FALSE(s.find_job("g"));
}

IOTBLOCKS_JOBS_ON_EVERY_STORE(JobsRouterTest);

}  // namespace
