// The broker end to end on loopback: publishers stream QoS 1 (200 in flight
// each) to one subscriber that acknowledges as it goes; an iteration ends when
// every PUBACK and every message has arrived. durable:1 opens the SQLite store
// and gives the subscriber a persistent session, so each message is a row
// written (before its PUBACK, group commit) and deleted (on the subscriber's
// PUBACK); durable:0 is the in-memory broker.
#include "../tests/gateway/broker_test_client.hpp"

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/net_broker/handler.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

namespace {

using namespace iotblocks;
using gateway::testing::raw_client;
namespace fs = std::filesystem;

constexpr int batch = 2000;  // messages per publisher per iteration

void BM_QoS1EndToEnd(benchmark::State& state) {
  const bool durable = state.range(0) != 0;
  const int publishers = static_cast<int>(state.range(1));
  const auto dir = fs::temp_directory_path() / ("iotblocks-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  broker::broker_options bo;
  bo.max_offline_messages = 10'000'000;
  auto owner = std::make_unique<broker::broker>(bo);
  auto& b = *owner;
  if (durable) b.open_store((dir / "broker.db").string()).value();
  net::server_options so;
  so.threads = 2;
  net::server s(so);
  const auto port = s.listen(gateway::testing::loopback()).value();
  net_broker::handler binding(b);
  s.start(binding);

  raw_client sub(port);
  sub.connect("bench-sub", true, durable ? 3600 : 0);
  sub.subscribe("bench/#", 1);
  std::atomic<std::int64_t> received{0};
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      auto p = sub.next(std::chrono::milliseconds(100));
      if (!p) continue;
      if (auto* m = std::get_if<mqtt::publish>(&*p)) {
        sub.ack(*m);
        received.fetch_add(1);
      }
    }
  });
  std::vector<std::unique_ptr<raw_client>> pubs;
  for (int i = 0; i < publishers; ++i) {
    pubs.push_back(std::make_unique<raw_client>(port));
    pubs.back()->connect("bench-pub-" + std::to_string(i), true);
  }
  const std::string payload(128, 'x');
  std::int64_t expected = 0;
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (auto& pub : pubs) {
      threads.emplace_back([&, c = pub.get()] {
        int sent = 0, acked = 0, inflight = 0;
        while (acked < batch) {
          while (inflight < 200 && sent < batch) {
            c->publish("bench/data", payload, 1);
            ++sent;
            ++inflight;
          }
          auto p = c->next_of<mqtt::puback>();
          if (!p) break;
          ++acked;
          --inflight;
        }
      });
    }
    for (auto& t : threads) t.join();
    expected += static_cast<std::int64_t>(batch) * publishers;
    while (received.load() < expected) std::this_thread::yield();
  }
  state.SetItemsProcessed(state.iterations() * batch * publishers);
  state.counters["commits"] = static_cast<double>(b.store_counters().commits.load());
  state.counters["rows/commit"] = b.store_counters().commits.load() == 0
                                      ? 0.0
                                      : static_cast<double>(b.store_counters().writes.load()) /
                                            static_cast<double>(b.store_counters().commits.load());
  stop = true;
  reader.join();
  s.stop();
  owner.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_QoS1EndToEnd)
    ->ArgNames({"durable", "publishers"})
    ->ArgsProduct({{0, 1}, {1, 4}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
BENCHMARK_MAIN();
