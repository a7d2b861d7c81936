// One SQLite jobs file open in two places, as a gateway and the `iotblocks jobs` CLI have it:
// what one commits the other reads in (refresh, or before its next commit), the pushes the
// CLI leaves owed are published by the gateway (take_announced), also one started later,
// and a commit based on reads the other changed runs again instead of overwriting it.
#include <iotblocks/jobs/service.hpp>

#include "core/json.hpp"
#include "jobs/clock.hpp"
#include "jobs/store_kinds.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;
using iotblocks::jobs::testing::t0;

std::unique_ptr<sqlite_store> open_file(const std::string& path) {
  auto s = sqlite_store::open(path);
  EXPECT_TRUE(s) << s.describe();
  return s ? std::move(*s) : nullptr;
}

/// A gateway's service (publishes) and a CLI's (announces) on one file.
struct SharedJobsFile : ::testing::Test {
  std::string path = test_stores::fresh_db_path("shared");
  manual_clock clock{from_unix_ms(t0 * 1000)};
  std::unique_ptr<sqlite_store> gw_store = open_file(path);
  service gw{*gw_store, clock};
  router gw_router{gw};

  ~SharedJobsFile() override {
    gw_store.reset();
    test_stores::remove_db(path);
  }

  /// A CLI run: its own connection and service, announcing its pushes.
  struct cli_run {
    std::unique_ptr<sqlite_store> store;
    service svc;
    cli_run(const std::string& path, const iotblocks::clock& c)
        : store(open_file(path)), svc(*store, c) {
      svc.announce_pushes(true);
    }
  };

  /// The payload of the one message on `topic` in `out` (fails when not exactly one).
  static rapidjson::Document payload_on(const std::vector<message>& out, const std::string& topic) {
    rapidjson::Document d;
    int n = 0;
    for (const auto& m : out) {
      if (m.topic != topic) continue;
      ++n;
      d.Parse(m.payload.data(), m.payload.size());
    }
    EXPECT_EQ(n, 1) << topic;
    return d;
  }

  std::vector<message> route(const std::string& topic, const std::string& payload) {
    auto out = gw_router.route(topic, payload);
    EXPECT_TRUE(out);
    return out ? *out : std::vector<message>{};
  }
};

TEST_F(SharedJobsFile, CliJobIsReadAndPushedByARunningGateway) {
  auto before = route("$aws/things/lamp/jobs/get", "{}");
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(payload_on(before, "$aws/things/lamp/jobs/get/accepted")["queuedJobs"].Size(), 0u);
  {
    cli_run cli{path, clock};
    auto made = cli.svc.create_job(
        {.id = "fw-1", .document = R"({"url":"u"})", .targets = {"lamp", "fan"}});
    ASSERT_TRUE(made) << made.describe();
    EXPECT_TRUE(made->empty()) << "an announcing service builds no pushes";
  }
  clock.advance(std::chrono::seconds(3));
  auto pushed = gw.take_announced();
  ASSERT_TRUE(pushed) << pushed.describe();
  ASSERT_EQ(pushed->size(), 4u);  // notify and notify-next for each thing
  for (const std::string thing : {"lamp", "fan"}) {
    const auto prefix = "$aws/things/" + thing + "/jobs/";
    auto notify = payload_on(*pushed, prefix + "notify");
    ASSERT_TRUE(notify["jobs"]["QUEUED"].IsArray());
    EXPECT_STREQ(notify["jobs"]["QUEUED"][0]["jobId"].GetString(), "fw-1");
    auto next = payload_on(*pushed, prefix + "notify-next");
    EXPECT_STREQ(next["execution"]["jobId"].GetString(), "fw-1");
    EXPECT_STREQ(next["execution"]["status"].GetString(), "QUEUED");
    EXPECT_STREQ(next["execution"]["jobDocument"]["url"].GetString(), "u");
    EXPECT_EQ(next["timestamp"].GetInt64(), t0 + 3) << "built when the gateway publishes";
  }
  EXPECT_EQ(gw_store->reloads(), 1u);
  auto got = route("$aws/things/lamp/jobs/get", "{}");
  const auto accepted = payload_on(got, "$aws/things/lamp/jobs/get/accepted");
  auto queued = accepted["queuedJobs"].GetArray();
  ASSERT_EQ(queued.Size(), 1u);
  EXPECT_STREQ(queued[0]["jobId"].GetString(), "fw-1");

  auto again = gw.take_announced();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty()) << "published once";
  EXPECT_TRUE(open_file(path)->announced().empty()) << "erased from the file";
  EXPECT_FALSE(gw_store->refresh()) << "nothing changed since";
}

TEST_F(SharedJobsFile, GatewayStartedLaterPublishesWhatTheCliLeft) {
  gw_store.reset();  // the gateway is stopped
  {
    cli_run cli{path, clock};
    ASSERT_TRUE(cli.svc.create_job({.id = "a", .document = "{}", .targets = {"lamp"}}));
    ASSERT_TRUE(cli.svc.create_job({.id = "b", .document = "{}", .targets = {"lamp"}}));
    ASSERT_TRUE(cli.svc.cancel_job("a"));
    auto owed = cli.store->announced();
    ASSERT_EQ(owed.size(), 1u);
    EXPECT_EQ(owed[0].first, "lamp");
    EXPECT_EQ(owed[0].second, pending_view{}) << "the first view is kept: nothing pending";
  }
  auto started = open_file(path);
  service later{*started, clock};
  auto pushed = later.take_announced();
  ASSERT_TRUE(pushed) << pushed.describe();
  ASSERT_EQ(pushed->size(), 2u);
  auto notify = payload_on(*pushed, "$aws/things/lamp/jobs/notify");
  ASSERT_EQ(notify["jobs"]["QUEUED"].Size(), 1u);
  EXPECT_STREQ(notify["jobs"]["QUEUED"][0]["jobId"].GetString(), "b");
  EXPECT_STREQ(
      payload_on(*pushed, "$aws/things/lamp/jobs/notify-next")["execution"]["jobId"].GetString(),
      "b");
}

// The CLI's reads are older than the gateway's commits, and the gateway's copy older than
// the CLI's: each commit based on stale reads is refused and run again on the file's rows,
// so nothing one process wrote is overwritten and no execution is counted twice.
TEST_F(SharedJobsFile, CommitsOnStaleReadsRunAgainOnTheFile) {
  ASSERT_TRUE(gw.create_job({.id = "fw-1", .document = "{}", .targets = {"lamp", "fan"}}));
  cli_run cli{path, clock};  // reads both executions QUEUED
  auto started = route("$aws/things/lamp/jobs/start-next", "{}");
  ASSERT_EQ(
      payload_on(started, "$aws/things/lamp/jobs/start-next/accepted")["execution"]["versionNumber"]
          .GetInt(),
      2);

  // QUEUED in the CLI's copy, IN_PROGRESS in the file: not cancelable without force.
  auto refused = cli.svc.cancel_execution("fw-1", "lamp");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), error::invalid_state_transition);
  EXPECT_EQ(cli.store->reloads(), 1u);

  ASSERT_TRUE(cli.svc.cancel_job("fw-1", true));  // lamp's IN_PROGRESS and fan's QUEUED
  auto lamp = cli.store->find_execution("lamp", "fw-1");
  ASSERT_TRUE(lamp);
  EXPECT_EQ(lamp->status, execution_status::canceled);
  EXPECT_EQ(lamp->version, 2) << "the device's start-next kept";

  // The gateway's copy still has lamp IN_PROGRESS: its update is run again on the file.
  auto update =
      route("$aws/things/lamp/jobs/fw-1/update", R"({"status":"SUCCEEDED","expectedVersion":2})");
  auto rejected = payload_on(update, "$aws/things/lamp/jobs/fw-1/update/rejected");
  EXPECT_STREQ(rejected["code"].GetString(), "TerminalStateReached");
  EXPECT_GE(gw_store->reloads(), 1u);

  auto file = open_file(path);
  auto j = file->find_job("fw-1");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->status, job_status::canceled);
  EXPECT_EQ(j->open_executions, 0u);
  for (const char* thing : {"lamp", "fan"}) {
    auto e = file->find_execution(thing, "fw-1");
    ASSERT_TRUE(e) << thing;
    EXPECT_EQ(e->status, execution_status::canceled) << thing;
  }
  EXPECT_EQ(file->find_execution("lamp", "fw-1")->version, 2);

  // The CLI's cancel left lamp's and fan's pushes owed; the gateway sends them.
  auto pushed = gw.take_announced();
  ASSERT_TRUE(pushed) << pushed.describe();
  auto next = payload_on(*pushed, "$aws/things/fan/jobs/notify-next");
  EXPECT_FALSE(next.HasMember("execution"));
}

// Both sides create executions: the later commit takes sequences after the other's, so
// queue order across the two follows creation order (not job id order).
TEST_F(SharedJobsFile, QueueOrderFollowsCreationAcrossProcesses) {
  cli_run cli{path, clock};
  ASSERT_TRUE(gw.create_job({.id = "c-first", .document = "{}", .targets = {"lamp"}}));
  ASSERT_TRUE(cli.svc.create_job({.id = "b-second", .document = "{}", .targets = {"lamp"}}));
  ASSERT_TRUE(gw.create_job({.id = "a-third", .document = "{}", .targets = {"lamp"}}));
  auto file = open_file(path);
  auto pending = file->pending("lamp");
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].job_id, "c-first");
  EXPECT_EQ(pending[1].job_id, "b-second");
  EXPECT_EQ(pending[2].job_id, "a-third");
}

}  // namespace
