// Shadow updates with delta computation on a 1 KB document with 20 leaves.
//   BM_UpdateModel/documents:N  document::update alone: parse, merge, metadata, the
//                        update/accepted and update/delta payloads (N=1: and update/documents)
//   BM_RouteUpdate/documents:N  the topic router on a memory store, topics included
//   BM_Get              get/accepted with the delta of the whole document
//   BM_SqliteGroupCommit  durable updates through sqlite_store with group commit: a window
//                        of updates in flight, each acknowledged after its group's COMMIT
//   BM_SqlitePerChange  durable updates, one COMMIT (fsync) each
// Payloads alternate between an app changing desired and a device reporting, over 64
// shadows (or more), so the delta changes every time. Per-core figures: the CPU column.
#include <iotblocks/core/clock.hpp>
#include <iotblocks/shadow.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using namespace iotblocks;

// 20 leaves, about 1 KB (969 bytes) of desired + reported as compact JSON.
constexpr const char* base_document = R"({
  "state": {
    "desired": {"light": {"power": "on", "brightness": 80, "color": {"r": 255, "g": 180, "b": 40}}, "firmware": "https://updates.example.com/devices/lamp/firmware/channel/stable/2.4.1/lamp-2.4.1-20240101-release-signed.bin"},
    "reported": {"light": {"power": "off", "brightness": 75, "color": {"r": 255, "g": 170, "b": 40}}, "firmware": "https://updates.example.com/devices/lamp/firmware/channel/stable/2.4.0/lamp-2.4.0-20231101-release-signed.bin", "schedule": {"wake": "weekdays 06:30 ramp 15 min to 80 percent, weekends 08:00", "sleep": "every day 22:30 fade out over 30 minutes unless motion detected"}, "sensors": {"temperature": 21.5, "humidity": 41.25, "location": "kitchen ceiling, north-east corner next to the window, above the sink, mounted on the second rail from the wall, installed 2023-11-01 by the landlord's electrician, circuit 12, dimmable warm-white 2700K driver, serial LMP-2023-004417"}, "network": {"rssi": -61, "ssid": "home-iot-2.4GHz-network-second-floor-kitchen-access-point-guest-isolated", "ip": "192.168.100.243"}}
  },
  "metadata": {}, "version": 1, "timestamp": 1700000000
})";

std::vector<std::string> payloads() {
  std::vector<std::string> out;
  for (int i = 0; i < 256; ++i) {
    if (i % 2 == 0) {
      out.push_back(R"({"state":{"desired":{"light":{"brightness":)" + std::to_string(i % 100) +
                    R"(,"color":{"g":)" + std::to_string(100 + i % 150) +
                    R"(}}}},"clientToken":"app-)" + std::to_string(i) + "\"}");
    } else {
      out.push_back(R"({"state":{"reported":{"light":{"brightness":)" +
                    std::to_string((i + 3) % 100) + R"(},"sensors":{"temperature":)" +
                    std::to_string(20 + i % 5) + "." + std::to_string(i % 10) + "}}}}");
    }
  }
  return out;
}

const std::vector<std::string>& requests() {
  static const std::vector<std::string> p = payloads();
  return p;
}

void BM_UpdateModel(benchmark::State& state) {
  auto doc = shadow::document::parse(base_document).value();
  const auto& reqs = requests();
  const shadow::limits l;
  const shadow::outputs what{.response = true, .delta = true, .documents = state.range(0) != 0};
  std::size_t i = 0;
  std::int64_t now = 1700000000;
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto out = doc.update(reqs[i++ & 255], ++now, l, what);
    bytes += out.body.size() + out.delta.size() + out.documents.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["out_bytes/update"] =
      benchmark::Counter(static_cast<double>(bytes) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_UpdateModel)->Arg(0)->Arg(1)->ArgNames({"documents"});

struct memory_fixture {
  manual_clock clock{from_unix_ms(1700000000000)};
  shadow::memory_store store;
  shadow::service svc{store, clock};
  shadow::router router{svc};
  std::vector<std::string> topics;

  explicit memory_fixture(bool documents) {
    auto doc = shadow::document::parse(base_document).value();
    for (int s = 0; s < 64; ++s) {
      const std::string thing = "device-" + std::to_string(s);
      (void)store.modify({thing, ""}, [&](shadow::document& d) {
        d = doc;
        return true;
      });
      topics.push_back(shadow::topic_prefix(thing, "") + "/update");
    }
    if (!documents) {  // nobody subscribed to update/documents: it is not built
      router.publish_filter([](std::string_view t) { return !t.ends_with("/documents"); });
    }
  }
};

void BM_RouteUpdate(benchmark::State& state) {
  static memory_fixture with_documents{true};  // shared by the threads of a run
  static memory_fixture without_documents{false};
  memory_fixture& f = state.range(0) != 0 ? with_documents : without_documents;
  const auto& reqs = requests();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto msgs = f.router.route(f.topics[i % 64], reqs[i & 255]);
    ++i;
    benchmark::DoNotOptimize(msgs);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RouteUpdate)->ArgNames({"documents"})->Arg(0)->Arg(1)->Threads(1)->Threads(2);

void BM_Get(benchmark::State& state) {
  auto doc = shadow::document::parse(base_document).value();
  const shadow::limits l;
  for (auto _ : state) {
    auto out = doc.get("", 1700000001, "device", l);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Get);

std::string bench_db_path() {
  // Durable means a real disk: the working directory, not a tmpfs.
  return (std::filesystem::current_path() / ("shadow_bench_" + std::to_string(::getpid()) + ".db"))
      .string();
}

void remove_db(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

void seed(shadow::store& st, int shadows) {
  auto doc = shadow::document::parse(base_document).value();
  std::atomic<int> left{shadows};
  for (int s = 0; s < shadows; ++s) {
    st.modify_async(
        {"device-" + std::to_string(s), ""},
        [&](shadow::document& d) {
          d = doc;
          return true;
        },
        [&](std::error_code) { left.fetch_sub(1); });
  }
  while (left.load() > 0) std::this_thread::yield();
}

void BM_SqliteGroupCommit(benchmark::State& state) {
  const std::string path = bench_db_path();
  remove_db(path);
  auto st = shadow::sqlite_store::open(path, {.group_commit = true}).value();
  const auto shadows = static_cast<std::size_t>(state.range(1));
  seed(*st, static_cast<int>(shadows));
  manual_clock clock{from_unix_ms(1700000000000)};
  shadow::service svc{*st, clock};
  shadow::router router{svc};
  const auto window = static_cast<std::size_t>(state.range(0));
  const auto& reqs = requests();
  std::mutex mu;
  std::condition_variable cv;
  std::size_t in_flight = 0;
  std::atomic<std::size_t> failed{0};
  std::size_t i = 0;
  const std::uint64_t commits_before = st->commits();
  for (auto _ : state) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < window; });
      ++in_flight;
    }
    router.route_async(
        shadow::topic_prefix("device-" + std::to_string(i % shadows), "") + "/update",
        reqs[i & 255], {}, [&](std::vector<shadow::message> msgs) {
          if (msgs.empty() || !msgs[0].topic.ends_with("/accepted")) ++failed;
          std::lock_guard lock(mu);
          --in_flight;
          cv.notify_one();
        });
    ++i;
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  const auto commits = static_cast<double>(st->commits() - commits_before);
  state.counters["updates/commit"] = static_cast<double>(state.iterations()) / commits;
  state.counters["failed"] = static_cast<double>(failed.load());
  st.reset();
  remove_db(path);
}
BENCHMARK(BM_SqliteGroupCommit)
    ->ArgNames({"window", "shadows"})
    ->Args({64, 64})
    ->Args({512, 64})
    ->Args({4096, 64})
    ->Args({4096, 16384})
    ->UseRealTime();

void BM_SqlitePerChange(benchmark::State& state) {
  const std::string path = bench_db_path();
  remove_db(path);
  auto st = shadow::sqlite_store::open(path, {.group_commit = false}).value();
  seed(*st, 64);
  manual_clock clock{from_unix_ms(1700000000000)};
  shadow::service svc{*st, clock};
  const auto& reqs = requests();
  std::size_t i = 0;
  for (auto _ : state) {
    auto out = svc.update({"device-" + std::to_string(i % 64), ""}, reqs[i & 255]);
    ++i;
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  st.reset();
  remove_db(path);
}
BENCHMARK(BM_SqlitePerChange)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
