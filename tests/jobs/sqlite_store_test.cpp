// The store contract on both stores (commit, queries, erasure, order), and the SQLite
// store's durability: everything back after a reopen, and after kill -9 in the middle of
// a stream of device updates every acknowledged update is in the file and no execution
// is half-written.
#include <iotblocks/jobs/service.hpp>

#include "core/sqlite.hpp"
#include "jobs/store_kinds.hpp"

#include <gtest/gtest.h>

#include "jobs/clock.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;
using test_stores::store_kind;
using test_stores::test_store;

using iotblocks::jobs::testing::t0;

job make_job(std::string id) {
  job j;
  j.id = std::move(id);
  j.document = R"({"op":"reboot"})";
  j.in_progress_timeout_minutes = 30;
  j.created_at = j.last_updated_at = t0;
  j.open_executions = 2;
  j.description = "reboot all";
  j.targets = {"thing/a", "thinggroup/floor \"1\""};
  j.continuous = true;
  return j;
}

struct JobsStore : ::testing::TestWithParam<store_kind> {
  test_store holder{GetParam()};
  jobs::store* s = &holder.get();
  void reopen() {
    if (GetParam() != store_kind::sqlite) return;
    holder.reopen();
    s = &holder.get();
  }
};

TEST_P(JobsStore, CommitThenQuery) {
  batch b;
  b.jobs.push_back(make_job("fw"));
  b.executions.push_back(queue("fw", "a", 2, t0));
  b.executions.push_back(queue("fw", "b", 3, t0));
  execution started = queue("old", "a", 1, t0);
  started.status = execution_status::in_progress;
  started.details = {{"step", "2"}, {"note", "a \"quoted\" value"}};
  started.step_deadline = t0 + 60;
  b.jobs.push_back(make_job("old"));
  b.executions.push_back(started);
  ASSERT_FALSE(s->commit(b));
  reopen();
  EXPECT_EQ(s->find_job("fw"), make_job("fw"));
  EXPECT_EQ(s->find_document("fw"), R"({"op":"reboot"})");
  EXPECT_EQ(s->find_execution("a", "old"), started);
  EXPECT_FALSE(s->find_execution("c", "fw"));
  auto pending = s->pending("a");  // IN_PROGRESS first, then by sequence
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].job_id, "old");
  EXPECT_EQ(pending[1].job_id, "fw");
  EXPECT_EQ(s->executions_of("fw").size(), 2u);
  EXPECT_EQ(s->due(t0 + 59).size(), 0u);
  ASSERT_EQ(s->due(t0 + 60).size(), 1u);
  EXPECT_EQ(s->last_sequence(), 3u);
  EXPECT_EQ(s->job_ids(), (std::vector<std::string>{"fw", "old"}));
  EXPECT_EQ(holder.size(), 3u);
}

TEST_P(JobsStore, ReplaceAndEraseSurviveReopen) {
  batch b;
  b.jobs.push_back(make_job("fw"));
  b.executions.push_back(queue("fw", "a", 1, t0));
  b.executions.push_back(queue("fw", "b", 2, t0));
  ASSERT_FALSE(s->commit(b));
  execution done = *s->find_execution("a", "fw");
  done.status = execution_status::succeeded;
  done.version = 2;
  ASSERT_FALSE(s->commit(batch{{}, {}, {done}, {}}));
  reopen();
  EXPECT_EQ(s->find_execution("a", "fw")->status, execution_status::succeeded);
  EXPECT_EQ(s->pending("a").size(), 0u);
  // Erasure applies before the writes of the same batch: the job comes back, its old
  // executions do not.
  batch again;
  again.erased_jobs.push_back("fw");
  again.jobs.push_back(make_job("fw"));
  again.executions.push_back(queue("fw", "c", 3, t0));
  ASSERT_FALSE(s->commit(again));
  reopen();
  EXPECT_TRUE(s->find_job("fw"));
  EXPECT_FALSE(s->find_execution("a", "fw"));
  EXPECT_FALSE(s->find_execution("b", "fw"));
  EXPECT_TRUE(s->find_execution("c", "fw"));
  ASSERT_FALSE(s->commit(batch{{"fw"}, {}, {}, {}}));
  reopen();
  EXPECT_FALSE(s->find_job("fw"));
  EXPECT_EQ(holder.size(), 0u);
  EXPECT_TRUE(s->job_ids().empty());
}

// A service on a reopened store goes on where the last one stopped: the queue order
// continues after the stored sequence and the job's counters are the stored ones.
TEST_P(JobsStore, ServiceContinuesAfterReopen) {
  manual_clock clock{from_unix_ms(t0 * 1000)};
  {
    service svc{*s, clock};
    ASSERT_TRUE(svc.create_job({"first", "{}", {"lamp", "fan"}}));
    router r{svc};
    auto out = r.route("$aws/things/lamp/jobs/first/update", R"({"status":"SUCCEEDED"})");
    ASSERT_TRUE(out && out->at(0).topic.ends_with("/accepted"));
  }
  reopen();
  service svc{*s, clock};
  ASSERT_TRUE(svc.create_job({"second", "{}", {"fan"}}));
  auto pending = s->pending("fan");
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].job_id, "first");
  EXPECT_LT(pending[0].sequence, pending[1].sequence);
  EXPECT_EQ(svc.describe_job("first")->open_executions, 1u);
  router r{svc};
  auto out = r.route("$aws/things/fan/jobs/first/update", R"({"status":"FAILED"})");
  ASSERT_TRUE(out && out->at(0).topic.ends_with("/accepted"));
  EXPECT_EQ(svc.describe_job("first")->status, job_status::completed);
}

IOTBLOCKS_JOBS_ON_EVERY_STORE(JobsStore);

TEST(JobsSqliteStore, OpenFailsOnAnUnreadableFile) {
  const auto path = test_stores::fresh_db_path("bad");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a database file, not at all, nothing like one", f);
    std::fclose(f);
  }
  auto s = sqlite_store::open(path);
  EXPECT_FALSE(s);
  test_stores::remove_db(path);
}

// Devices updating at once: the service releases its lock while a commit is in flight, so
// their commits share transactions (group commit); each acknowledged update is in the file.
TEST(JobsSqliteStore, ConcurrentUpdatesAreGroupedAndDurable) {
  const auto path = test_stores::fresh_db_path("group");
  constexpr int threads = 8, rounds = 25;
  std::uint64_t commits = 0;
  {
    auto s = sqlite_store::open(path);
    ASSERT_TRUE(s) << s.describe();
    manual_clock clock{from_unix_ms(t0 * 1000)};
    service svc{**s, clock};
    std::vector<std::string> targets;
    for (int i = 0; i < threads; ++i) targets.push_back("t" + std::to_string(i));
    ASSERT_TRUE(svc.create_job({"fw", "{}", targets}));
    router r{svc};
    std::atomic<int> refused{0};
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
      pool.emplace_back([&, i] {
        const std::string topic = "$aws/things/t" + std::to_string(i) + "/jobs/fw/update";
        for (int n = 1; n <= rounds; ++n) {
          auto out = r.route(
              topic, R"({"status":"IN_PROGRESS","expectedVersion":)" + std::to_string(n) + "}");
          if (!out || !out->at(0).topic.ends_with("/accepted")) ++refused;
        }
      });
    }
    for (auto& t : pool) t.join();
    EXPECT_EQ(refused.load(), 0);
    commits = (*s)->commits();
  }
  auto s = sqlite_store::open(path);
  ASSERT_TRUE(s) << s.describe();
  for (int i = 0; i < threads; ++i) {
    auto e = (*s)->find_execution("t" + std::to_string(i), "fw");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->version, rounds + 1);
    EXPECT_EQ(e->status, execution_status::in_progress);
  }
  // At most one transaction per update (plus the create); fewer when commits were grouped.
  EXPECT_LE(commits, static_cast<std::uint64_t>(threads * rounds + 1));
  std::printf("%d updates in %llu transactions\n", threads * rounds,
              static_cast<unsigned long long>(commits));
  test_stores::remove_db(path);
}

// kill -9 while a device streams start/update requests: each request is acknowledged to
// the parent (through a pipe) only after the router returned its /accepted reply. After
// the kill every acknowledged update is in the file, each execution is in exactly one
// consistent state, and the job's open count matches its executions.
TEST(JobsSqliteStore, KillNineLosesNoAcknowledgedUpdate) {
  const auto path = test_stores::fresh_db_path("kill9");
  constexpr int things = 40;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto s = sqlite_store::open(path);
    if (!s) ::_exit(2);
    manual_clock clock{from_unix_ms(t0 * 1000)};
    service svc{**s, clock};
    std::vector<std::string> targets;
    for (int i = 0; i < things; ++i) targets.push_back("t" + std::to_string(i));
    if (!svc.create_job({"fw", "{}", targets})) ::_exit(3);
    router r{svc};
    // Each thing: three progress updates, then SUCCEEDED (version 5). Acknowledge each.
    for (int round = 1; round <= 4; ++round) {
      for (int i = 0; i < things; ++i) {
        const std::string status = round == 4 ? "SUCCEEDED" : "IN_PROGRESS";
        auto out = r.route("$aws/things/t" + std::to_string(i) + "/jobs/fw/update",
                           R"({"status":")" + status + R"(","statusDetails":{"round":")" +
                               std::to_string(round) + "\"}}");
        if (!out || !out->at(0).topic.ends_with("/accepted")) ::_exit(4);
        const int ack[2] = {i, round};
        if (::write(fds[1], ack, sizeof ack) != static_cast<ssize_t>(sizeof ack)) ::_exit(5);
      }
    }
    ::pause();  // wait for the kill
    ::_exit(0);
  }
  ::close(fds[1]);
  std::vector<int> acked(things, 0);
  int count = 0;
  const int kill_after = things * 2 + 7;  // mid-stream: round 3, thing 7
  while (count < kill_after) {
    int ack[2];
    ASSERT_EQ(::read(fds[0], ack, sizeof ack), static_cast<ssize_t>(sizeof ack));
    acked[static_cast<std::size_t>(ack[0])] = ack[1];
    ++count;
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

  auto s = sqlite_store::open(path);
  ASSERT_TRUE(s) << s.describe();
  auto j = (*s)->find_job("fw");
  ASSERT_TRUE(j);
  std::size_t open = 0;
  for (int i = 0; i < things; ++i) {
    auto e = (*s)->find_execution("t" + std::to_string(i), "fw");
    ASSERT_TRUE(e);
    const int round = acked[static_cast<std::size_t>(i)];
    // The acknowledged round is stored, or the one after it (written, killed before the ack).
    const auto stored_round = e->details.count("round") ? std::stoi(e->details.at("round")) : 0;
    EXPECT_TRUE(stored_round == round || stored_round == round + 1) << "t" << i;
    EXPECT_EQ(e->version, stored_round + 1) << "t" << i;
    EXPECT_EQ(e->status, stored_round == 0   ? execution_status::queued
                         : stored_round == 4 ? execution_status::succeeded
                                             : execution_status::in_progress);
    if (!is_terminal(e->status)) ++open;
  }
  EXPECT_EQ(j->open_executions, open);
  test_stores::remove_db(path);
}

// A file the first release wrote (tests/data/jobs/schema-v1.sql: no config column, no
// retry_attempt) opens: the columns are added, the rows read with the defaults, and a job
// with a rollout, abort and retry configuration is stored beside them and read back.
TEST(JobsSqliteStore, OpensAFileOfTheFirstSchema) {
  const std::string path = test_stores::fresh_db_path("v1");
  {
    std::ifstream in("tests/data/jobs/schema-v1.sql");
    ASSERT_TRUE(in);
    std::stringstream sql;
    sql << in.rdbuf();
    auto db = sqlite::database::open(path);
    ASSERT_TRUE(db) << db.describe();
    ASSERT_TRUE(db->exec(sql.str()));
  }
  {
    auto s = sqlite_store::open(path);
    ASSERT_TRUE(s) << s.describe();
    auto j = (*s)->find_job("fw").value();
    EXPECT_FALSE(j.rollout.enabled());
    EXPECT_TRUE(j.abort_criteria.empty());
    EXPECT_EQ(j.ended, ended_counts{});
    auto e = (*s)->find_execution("a", "fw").value();
    EXPECT_EQ(e.retry_attempt, 0);
    EXPECT_EQ(e.details.at("p"), "1");
    job k = make_job("k");
    k.rollout = {.maximum_per_minute = 5};
    k.progress = start_rollout(k.rollout, 3, t0);
    k.abort_criteria = {{failure_type::all, 12.5, 3}};
    k.retry_criteria = {{failure_type::timed_out, 4}};
    count_of(k.ended, execution_status::failed) = 7;
    k.reason_code = "R";
    k.comment = "c";
    batch b;
    b.jobs.push_back(k);
    b.rollouts.emplace_back("k", std::vector<std::string>{"x", "y", "z"});
    execution r = queue("k", "x", 9, t0);
    r.retry_attempt = 2;
    r.execution_number = 3;
    b.executions.push_back(r);
    ASSERT_FALSE((*s)->commit(b));
  }
  auto s = sqlite_store::open(path);
  ASSERT_TRUE(s) << s.describe();
  auto k = (*s)->find_job("k").value();
  EXPECT_EQ(k.rollout, (rollout_config{.maximum_per_minute = 5}));
  EXPECT_EQ(k.progress.targets, 3u);
  EXPECT_EQ(k.abort_criteria, (std::vector<abort_criterion>{{failure_type::all, 12.5, 3}}));
  EXPECT_EQ(k.retry_criteria, (std::vector<retry_criterion>{{failure_type::timed_out, 4}}));
  EXPECT_EQ(count_of(k.ended, execution_status::failed), 7u);
  EXPECT_EQ(k.reason_code, "R");
  EXPECT_EQ(k.comment, "c");
  EXPECT_EQ((*s)->rollout_targets("k", 1, 5), (std::vector<std::string>{"y", "z"}));
  EXPECT_EQ((*s)->rolling_out(), (std::vector<std::string>{"k"}));
  EXPECT_EQ((*s)->find_execution("x", "k")->retry_attempt, 2);
  s->reset();
  test_stores::remove_db(path);
}

}  // namespace
