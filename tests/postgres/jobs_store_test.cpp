// postgres::jobs_store against a real server (one per test binary, a database per test):
// two stores on one database stand for two processes — a job created through one is served
// through the other, a write based on a stale read is refused with store_changed, updates of
// one execution through both give one winner per expectedVersion and lose nothing without
// one, a process killed with SIGKILL loses nothing it acknowledged.
#include <iotblocks/jobs/service.hpp>
#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/jobs_store.hpp>

#include "core/json.hpp"
#include "postgres/shared_server.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <future>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace iotblocks::postgres {
namespace {

/// One process's view: a store and a service on it.
struct process {
  std::unique_ptr<jobs_store> store;
  std::unique_ptr<jobs::service> service;
  std::unique_ptr<jobs::router> router;
  explicit process(const std::string& url) {
    auto s = jobs_store::open(url);
    EXPECT_TRUE(s) << s.describe();
    if (!s) return;
    store = std::move(*s);
    service = std::make_unique<jobs::service>(*store);
    router = std::make_unique<jobs::router>(*service);
  }
  bool ok() const { return router != nullptr; }
  /// The first message of a request: the /accepted or /rejected reply.
  jobs::message ask(const std::string& topic, const std::string& payload) {
    auto out = router->route(topic, payload);
    EXPECT_TRUE(out && !out->empty()) << topic;
    return out && !out->empty() ? out->front() : jobs::message{};
  }
};

std::string code_of(const jobs::message& m) {
  auto d = json::parse(m.payload);
  if (!d) return {};
  auto c = json::get_string(*d, "code");
  return c ? std::string(*c) : std::string{};
}

TEST(PostgresJobsStore, AJobCreatedThroughOneProcessIsServedThroughTheOther) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  process a{url}, b{url};
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a.service->create_job(
      {.id = "fw-1", .document = R"({"url":"https://x/fw.bin"})", .targets = {"lamp"}}));

  const auto started = b.ask("$aws/things/lamp/jobs/start-next", R"({"clientToken":"c1"})");
  EXPECT_EQ(started.topic, "$aws/things/lamp/jobs/start-next/accepted") << started.payload;
  EXPECT_NE(started.payload.find(R"("jobId":"fw-1")"), std::string::npos) << started.payload;
  EXPECT_NE(started.payload.find("https://x/fw.bin"), std::string::npos) << started.payload;
  const auto done =
      b.ask("$aws/things/lamp/jobs/fw-1/update", R"({"status":"SUCCEEDED","expectedVersion":2})");
  EXPECT_EQ(done.topic, "$aws/things/lamp/jobs/fw-1/update/accepted") << done.payload;

  // A sees what B did: the execution and the job it completed.
  auto e = a.service->describe_execution("fw-1", "lamp");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, jobs::execution_status::succeeded);
  EXPECT_EQ(e->version, 3);
  auto j = a.service->describe_job("fw-1");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->status, jobs::job_status::completed);
  EXPECT_EQ(jobs::count_of(j->ended, jobs::execution_status::succeeded), 1u);
  // A job created through B after one created through A queues behind it, though B's
  // service started before either existed.
  ASSERT_TRUE(a.service->create_job({.id = "z-first", .document = "{}", .targets = {"fan"}}));
  ASSERT_TRUE(b.service->create_job({.id = "a-second", .document = "{}", .targets = {"fan"}}));
  auto fan = b.store->pending("fan");
  ASSERT_EQ(fan.size(), 2u);
  EXPECT_EQ(fan[0].job_id, "z-first");
  EXPECT_EQ(fan[1].job_id, "a-second");
  EXPECT_EQ(a.store->job_ids(), (std::vector<std::string>{"a-second", "fw-1", "z-first"}));
}

TEST(PostgresJobsStore, AWriteBasedOnAStaleReadIsRefusedAndChangesNothing) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  process a{url}, b{url};
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a.service->create_job({.id = "j", .document = "{}", .targets = {"t"}}));

  a.store->begin_reads();
  b.store->begin_reads();
  auto seen_by_a = a.store->find_execution("t", "j");
  auto seen_by_b = b.store->find_execution("t", "j");
  ASSERT_TRUE(seen_by_a && seen_by_b);
  seen_by_b->details = {{"by", "b"}};
  seen_by_b->version = 2;
  jobs::batch from_b;
  from_b.executions.push_back(*seen_by_b);
  EXPECT_FALSE(b.store->commit(from_b));
  seen_by_a->details = {{"by", "a"}};
  seen_by_a->version = 2;
  jobs::batch from_a;
  from_a.executions.push_back(*seen_by_a);
  EXPECT_EQ(a.store->commit(from_a), jobs::error::store_changed);
  auto now = a.store->find_execution("t", "j");
  ASSERT_TRUE(now);
  EXPECT_EQ(now->details, (jobs::status_details{{"by", "b"}}));

  // A job row the same way: a stale job write fails the whole batch.
  a.store->begin_reads();
  b.store->begin_reads();
  auto job_a = a.store->find_job("j");
  auto job_b = b.store->find_job("j");
  ASSERT_TRUE(job_a && job_b);
  job_b->comment = "b";
  jobs::batch job_from_b;
  job_from_b.jobs.push_back(*job_b);
  EXPECT_FALSE(b.store->commit(job_from_b));
  job_a->comment = "a";
  auto e = a.store->find_execution("t", "j");
  ASSERT_TRUE(e);
  e->details = {{"by", "a"}};
  jobs::batch job_from_a;
  job_from_a.jobs.push_back(*job_a);
  job_from_a.executions.push_back(*e);
  EXPECT_EQ(a.store->commit(job_from_a), jobs::error::store_changed);
  EXPECT_EQ(a.store->find_job("j")->comment, "b");
  EXPECT_EQ(a.store->find_execution("t", "j")->details, (jobs::status_details{{"by", "b"}}));

  // Two processes creating one job id: one wins, the other is told it exists.
  auto one = std::async(std::launch::async, [&] {
    return a.service->create_job({.id = "same", .document = R"({"by":"a"})", .targets = {"t"}});
  });
  auto two = b.service->create_job({.id = "same", .document = R"({"by":"b"})", .targets = {"t"}});
  auto first = one.get();
  EXPECT_NE(bool(first), bool(two));
  EXPECT_EQ((first ? two : first).error(), jobs::error::resource_already_exists);
}

TEST(PostgresJobsStore, ConcurrentUpdatesWithOneExpectedVersionGiveOneWinnerEach) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  process a{url}, b{url};
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a.service->create_job({.id = "j", .document = "{}", .targets = {"t"}}));
  ASSERT_EQ(a.ask("$aws/things/t/jobs/start-next", "{}").topic,
            "$aws/things/t/jobs/start-next/accepted");
  constexpr int rounds = 40;
  int won_a = 0, won_b = 0;
  for (int round = 0; round < rounds; ++round) {
    const std::string version = std::to_string(2 + round);
    std::latch go{2};
    auto update = [&](process& p, const char* who) {
      go.arrive_and_wait();
      return p.ask("$aws/things/t/jobs/j/update",
                   R"({"status":"IN_PROGRESS","statusDetails":{"by":")" + std::string(who) +
                       R"("},"expectedVersion":)" + version + "}");
    };
    auto on_a = std::async(std::launch::async, update, std::ref(a), "a");
    const auto rb = update(b, "b");
    const auto ra = on_a.get();
    const bool a_won = ra.topic.ends_with("/update/accepted");
    const bool b_won = rb.topic.ends_with("/update/accepted");
    ASSERT_NE(a_won, b_won) << "round " << round << ": " << ra.payload << " / " << rb.payload;
    EXPECT_EQ(code_of(a_won ? rb : ra), "VersionMismatch") << (a_won ? rb : ra).payload;
    (a_won ? won_a : won_b) += 1;
  }
  auto e = b.service->describe_execution("j", "t");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->version, 2 + rounds);
  RecordProperty("won_a", won_a);
  RecordProperty("won_b", won_b);
}

TEST(PostgresJobsStore, ConcurrentUpdatesWithoutExpectedVersionLoseNone) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  process a{url}, b{url};
  ASSERT_TRUE(a.ok() && b.ok());
  // One job on 20 things: each process finishes 10 of them while both report progress on a
  // shared execution; the job's counters see every end.
  std::vector<std::string> things{"shared"};
  for (int i = 0; i < 20; ++i) things.push_back("t" + std::to_string(i));
  ASSERT_TRUE(a.service->create_job({.id = "j", .document = "{}", .targets = things}));
  ASSERT_EQ(a.ask("$aws/things/shared/jobs/start-next", "{}").topic,
            "$aws/things/shared/jobs/start-next/accepted");
  constexpr int updates = 30;
  std::latch go{2};
  auto run = [&](process& p, int first) {
    go.arrive_and_wait();
    int accepted = 0;
    for (int i = 0; i < updates; ++i) {
      const auto r = p.ask("$aws/things/shared/jobs/j/update", R"({"status":"IN_PROGRESS"})");
      accepted += r.topic.ends_with("/accepted") ? 1 : 0;
      if (i < 10) {
        const std::string thing = "t" + std::to_string(first + i);
        const auto s =
            p.ask("$aws/things/" + thing + "/jobs/j/update", R"({"status":"SUCCEEDED"})");
        accepted += s.topic.ends_with("/accepted") ? 1 : 0;
      }
    }
    return accepted;
  };
  auto on_a = std::async(std::launch::async, run, std::ref(a), 0);
  const int by_b = run(b, 10);
  const int by_a = on_a.get();
  EXPECT_EQ(by_a, updates + 10);
  EXPECT_EQ(by_b, updates + 10);
  auto e = a.service->describe_execution("j", "shared");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->version, 2 + 2 * updates);  // every progress report applied, none lost
  auto j = b.service->describe_job("j");
  ASSERT_TRUE(j);
  EXPECT_EQ(jobs::count_of(j->ended, jobs::execution_status::succeeded), 20u);
  EXPECT_EQ(j->open_executions, 1u);  // "shared" is still IN_PROGRESS
}

TEST(PostgresJobsStore, AProcessKilledMidWriteLosesNothingItAcknowledged) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  { process setup{url}; }  // the schema, before the child races the parent for it
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // creates jobs and reports each one after create_job returned
    ::close(fds[0]);
    auto s = jobs_store::open(url);
    if (!s) ::_exit(1);
    jobs::service svc{**s};
    for (std::uint32_t i = 0;; ++i) {
      const std::string id = "k9-" + std::to_string(i);
      if (!svc.create_job({.id = id, .document = "{}", .targets = {"t" + std::to_string(i % 7)}}))
        ::_exit(2);
      if (::write(fds[1], &i, sizeof i) != sizeof i) ::_exit(3);
    }
  }
  ::close(fds[1]);
  std::uint32_t last = 0;
  std::uint32_t acknowledged = 0;
  while (acknowledged < 40 && ::read(fds[0], &last, sizeof last) == sizeof last) ++acknowledged;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(fds[0]);
  ASSERT_EQ(acknowledged, 40u) << "the child stopped before 40 jobs";
  process after{url};
  ASSERT_TRUE(after.ok());
  for (std::uint32_t i = 0; i <= last; ++i) {
    const std::string id = "k9-" + std::to_string(i);
    EXPECT_TRUE(after.store->find_job(id)) << id;
    EXPECT_EQ(after.store->executions_of(id).size(), 1u) << id;
  }
}

TEST(PostgresJobsStore, ASchemaFromANewerBuildIsRefused) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  { process first{url}; }
  const std::string cmd = "psql -q '" + url +
                          "' -c \"UPDATE iotblocks_schema SET version = 99 WHERE component = "
                          "'jobs'\" >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto s = jobs_store::open(url);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), error::schema_too_new);
}

// A tick asks the store for the jobs whose schedule is due (schedule_at index): with many
// jobs without a schedule it reads only the due one, not every job.
TEST(PostgresJobsStore, ATickReadsOnlyTheJobsWhoseScheduleIsDue) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  auto s = jobs_store::open(url);
  ASSERT_TRUE(s) << s.describe();
  constexpr std::int64_t t0 = 1'700'000'000;
  manual_clock clock{from_unix_ms(t0 * 1000)};
  jobs::service svc{**s, clock};
  constexpr int plain = 150;
  for (int i = 0; i < plain; ++i) {
    ASSERT_TRUE(svc.create_job(
        {.id = "plain-" + std::to_string(i), .document = "{}", .targets = {"lamp"}}));
  }
  jobs::job_spec soon{.id = "soon", .document = "{}", .targets = {"fan"}};
  soon.scheduling.start_time = t0 + 3600;
  jobs::job_spec later{.id = "later", .document = "{}", .targets = {"fan"}};
  later.scheduling.start_time = t0 + 7200;
  later.scheduling.end_time = t0 + 9000;
  ASSERT_TRUE(svc.create_job(soon));
  ASSERT_TRUE(svc.create_job(later));
  EXPECT_EQ((*s)->scheduled(), (std::vector<std::string>{"later", "soon"}));

  auto read_by_tick = [&] {
    const auto before = (*s)->rows_read();
    EXPECT_TRUE(svc.tick(clock.now()));
    return (*s)->rows_read() - before;
  };
  EXPECT_EQ(read_by_tick(), 0u) << "nothing due: no row read";
  clock.advance(std::chrono::seconds(3600));
  const auto rows = read_by_tick();  // soon: its id, its row, its thing, the sequence
  EXPECT_LE(rows, 6u) << "a tick read " << rows << " rows for one due job among " << plain + 2;
  EXPECT_EQ((*s)->find_job("soon")->status, jobs::job_status::in_progress);
  EXPECT_EQ((*s)->find_job("later")->status, jobs::job_status::scheduled);
  EXPECT_EQ((*s)->scheduled(), (std::vector<std::string>{"later"}));
  clock.advance(std::chrono::seconds(3600));
  ASSERT_TRUE(svc.tick(clock.now()));
  EXPECT_EQ((*s)->find_job("later")->status, jobs::job_status::in_progress);
  EXPECT_EQ((*s)->schedule_due(t0 + 8000), std::vector<std::string>{}) << "the end is not due yet";
  EXPECT_EQ((*s)->schedule_due(t0 + 9000), std::vector<std::string>{"later"})
      << "its endTime is what it waits for now";
}

// Maintenance windows on PostgreSQL: the job is listed by rolling_out() (the `rolling`
// column) while paused outside its window, its windows come back from the config column in
// another store on the same database, and a tick inside the window releases its things.
TEST(PostgresJobsStore, MaintenanceWindowsSurviveAReopenAndGateTheRollout) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  constexpr std::int64_t t0 = 1'700'000'000;  // 2023-11-14T22:13:20Z
  manual_clock clock{from_unix_ms(t0 * 1000)};
  jobs::job_spec spec{.id = "w", .document = "{}", .targets = {"lamp", "fan"}};
  spec.scheduling.maintenance_windows = {{"cron(0 23 * * ? *)", 30}};
  {
    auto s = jobs_store::open(url);
    ASSERT_TRUE(s) << s.describe();
    jobs::service svc{**s, clock};
    ASSERT_TRUE(svc.create_job(spec));
    EXPECT_EQ((*s)->rolling_out(), std::vector<std::string>{"w"});
    EXPECT_FALSE((*s)->find_execution("lamp", "w")) << "22:13: outside the 23:00 window";
  }
  auto s = jobs_store::open(url);
  ASSERT_TRUE(s) << s.describe();
  EXPECT_EQ((*s)->find_job("w")->scheduling.maintenance_windows,
            spec.scheduling.maintenance_windows);
  jobs::service svc{**s, clock};
  clock.set(from_unix_ms((t0 + 46 * 60 + 40 - 1) * 1000));  // 22:59:59
  ASSERT_TRUE(svc.tick(clock.now()));
  EXPECT_FALSE((*s)->find_execution("lamp", "w"));
  clock.advance(std::chrono::seconds(1));  // 23:00
  ASSERT_TRUE(svc.tick(clock.now()));
  EXPECT_TRUE((*s)->find_execution("lamp", "w"));
  EXPECT_TRUE((*s)->find_execution("fan", "w"));
  EXPECT_EQ((*s)->rolling_out(), std::vector<std::string>{}) << "every thing released";
}

// A database of schema version 1 (no schedule_at, no attempts table) is migrated: a job
// scheduled then starts, and a retried execution keeps its ended attempt.
TEST(PostgresJobsStore, AVersion1DatabaseGetsScheduleAt) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  constexpr std::int64_t t0 = 1'700'000'000;
  manual_clock clock{from_unix_ms(t0 * 1000)};
  {
    auto s = jobs_store::open(url);
    ASSERT_TRUE(s) << s.describe();
    jobs::service svc{**s, clock};
    jobs::job_spec soon{.id = "soon", .document = "{}", .targets = {"fan"}};
    soon.scheduling.start_time = t0 + 3600;
    ASSERT_TRUE(svc.create_job(soon));
  }
  const std::string cmd = "psql -q '" + url +
                          "' -c \"ALTER TABLE iotblocks_jobs DROP COLUMN schedule_at; DROP TABLE "
                          "iotblocks_job_execution_attempts; UPDATE iotblocks_schema SET "
                          "version = 1 WHERE component = 'jobs'\" "
                          ">/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto s = jobs_store::open(url);
  ASSERT_TRUE(s) << s.describe();
  EXPECT_EQ((*s)->scheduled(), std::vector<std::string>{"soon"});
  jobs::service svc{**s, clock};
  clock.advance(std::chrono::seconds(3600));
  ASSERT_TRUE(svc.tick(clock.now()));
  EXPECT_EQ((*s)->find_job("soon")->status, jobs::job_status::in_progress);
  jobs::job_spec flaky{.id = "flaky", .document = "{}", .targets = {"lamp"}};
  flaky.retry_criteria = {{jobs::failure_type::failed, 1}};
  ASSERT_TRUE(svc.create_job(flaky));
  jobs::router r{svc};
  ASSERT_TRUE(r.route("$aws/things/lamp/jobs/flaky/update", R"({"status":"FAILED"})"));
  auto first = svc.describe_execution("flaky", "lamp", 1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, jobs::execution_status::failed);
  EXPECT_EQ(svc.describe_execution("flaky", "lamp")->execution_number, 2);
}

}  // namespace
}  // namespace iotblocks::postgres
