// AWS IoT Jobs model and service, in memory and on SQLite.
//   BM_ApplyUpdate       apply_update alone: an IN_PROGRESS progress report with statusDetails
//                        and expectedVersion on one execution (the state machine, no JSON)
//   BM_RouteUpdate       UpdateJobExecution through the router on a memory_store: topic and
//                        payload parsed, the execution read, updated, committed, the
//                        /accepted reply written; 1024 things round-robin
//   BM_RouteUpdate/store:1  the same on a sqlite_store (a file in the temp directory): one
//                        transaction committed (WAL, synchronous=FULL: an fsync) per update
//   BM_CreateJob/N       CreateJob targeting N things: validation, N QUEUED executions
//                        committed, and (notify:1) the notify and notify-next pushes built
//   BM_CreateRolledOutJob  CreateJob on 100 000 things with jobExecutionsRolloutConfig
//                        maximumPerMinute 1000: the things stored, the first 1000 queued
//   BM_RolloutTick       tick() one minute later on that job: the next 1000 executions
//                        released and committed, with their notify and notify-next pushes
#include <iotblocks/core/clock.hpp>
#include <iotblocks/jobs.hpp>

#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;

std::vector<std::string> things(std::size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back("thing-" + std::to_string(i));
  return out;
}

void BM_ApplyUpdate(benchmark::State& state) {
  execution e = queue("fw-1", "lamp", 1, 1'700'000'000);
  update_request start;
  start.status = execution_status::in_progress;
  (void)apply_update(e, start, 1'700'000'001);
  update_request u;
  u.status = execution_status::in_progress;
  u.details = status_details{{"step", "download"}, {"percent", "42"}};
  std::int64_t now = 1'700'000'002;
  for (auto _ : state) {
    u.expected_version = e.version;
    if (apply_update(e, u, ++now)) state.SkipWithError("refused");
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApplyUpdate);

void BM_RouteUpdate(benchmark::State& state) {
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  const auto path =
      (std::filesystem::temp_directory_path() / "iotblocks-jobs-benchmark.db").string();
  auto remove_file = [&] {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  };
  std::unique_ptr<jobs::store> owned;
  if (state.range(0) == 0) {
    owned = std::make_unique<memory_store>();
  } else {
    remove_file();
    auto opened = sqlite_store::open(path);
    if (!opened) {
      state.SkipWithError("sqlite_store::open");
      return;
    }
    owned = std::move(*opened);
  }
  jobs::store& store = *owned;
  service svc{store, clock, limits{}.max_targets(1024)};
  router r{svc};
  const auto names = things(1024);
  if (!svc.create_job({"fw-1", R"({"url":"https://example.com/fw.bin"})", names})) {
    state.SkipWithError("create_job");
  }
  std::vector<std::string> topics;
  for (const auto& n : names) {
    topics.push_back("$aws/things/" + n + "/jobs/fw-1/update");
    (void)r.route(topics.back(), R"({"status":"IN_PROGRESS"})");
  }
  const std::string payload =
      R"({"status":"IN_PROGRESS","statusDetails":{"step":"download","percent":"42"},"clientToken":"c"})";
  std::size_t i = 0;
  for (auto _ : state) {
    auto out = r.route(topics[i++ % topics.size()], payload);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  owned.reset();
  if (state.range(0) != 0) remove_file();
}
BENCHMARK(BM_RouteUpdate)->ArgName("store")->Arg(0)->Arg(1);

void BM_CreateJob(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const bool notify = state.range(1) != 0;
  const auto names = things(n);
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  int id = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = std::make_unique<memory_store>();
    service svc{*store, clock, limits{}.max_targets(n)};
    if (!notify) svc.notify_filter([](std::string_view) { return false; });
    state.ResumeTiming();
    auto out = svc.create_job({"job-" + std::to_string(++id), R"({"op":"reboot"})", names});
    if (!out) state.SkipWithError("create_job");
    benchmark::DoNotOptimize(out);
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_CreateJob)
    ->ArgsProduct({{100'000}, {0, 1}})
    ->ArgNames({"things", "notify"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

job_spec rolled_out(std::string id, const std::vector<std::string>& names) {
  job_spec spec{std::move(id), R"({"op":"reboot"})", names};
  spec.rollout.maximum_per_minute = 1000;
  return spec;
}

void BM_CreateRolledOutJob(benchmark::State& state) {
  const auto names = things(100'000);
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  int id = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = std::make_unique<memory_store>();
    service svc{*store, clock, limits{}.max_targets(names.size())};
    state.ResumeTiming();
    auto out = svc.create_job(rolled_out("job-" + std::to_string(++id), names));
    if (!out) state.SkipWithError("create_job");
    benchmark::DoNotOptimize(out);
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_CreateRolledOutJob)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RolloutTick(benchmark::State& state) {
  const auto names = things(100'000);
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  memory_store store;
  service svc{store, clock, limits{}.max_targets(names.size())};
  int id = 0;
  auto fresh_job = [&] {
    if (!svc.create_job(rolled_out("job-" + std::to_string(++id), names))) {
      state.SkipWithError("create_job");
    }
  };
  fresh_job();
  std::size_t windows = 0;
  for (auto _ : state) {
    if (++windows == names.size() / 1000) {  // the rollout is done: start another
      state.PauseTiming();
      fresh_job();
      windows = 1;
      state.ResumeTiming();
    }
    clock.advance(std::chrono::seconds(60));
    auto out = svc.tick(clock.now());
    if (!out || out->empty()) state.SkipWithError("nothing released");
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_RolloutTick)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
