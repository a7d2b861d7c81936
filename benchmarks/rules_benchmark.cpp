// Rules engine throughput: dispatch with 10 / 1,000 / 100,000 rules of which one
// matches the topic, and the dynamoDB-style store action into a SQLite file.
//
//   cmake --preset bench -B build/bench-rules -DIOTBLOCKS_ONLY="core;topic;sql;policy;rules;net"
//   cmake --build build/bench-rules --target rules_benchmark &&
//   build/bench-rules/benchmarks/rules_benchmark
#include <iotblocks/rules/engine.hpp>

#include <benchmark/benchmark.h>

#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace iotblocks;

rules::engine_options options() {
  rules::engine_options o;
  o.tick_interval = std::chrono::milliseconds(0);
  o.queue_capacity = 1 << 16;
  o.overflow = rules::overflow_policy::block;
  o.block_timeout = std::chrono::seconds(60);
  o.on_unreported = [](std::string_view) {};
  return o;
}

// N rules on distinct topics ('site/<i>/lux'); the message matches rule 7 only.
void add_rules(rules::engine& e, std::int64_t n, bool where_true) {
  for (std::int64_t i = 0; i < n; ++i) {
    std::string text = R"({"sql":"SELECT lux, topic(2) AS probe FROM 'site/)";
    text += std::to_string(i);
    text += where_true ? "/lux' WHERE lux > 100" : "/lux' WHERE lux > 100000";
    text += R"(","actions":[{"function":{"functionName":"sink"}}]})";
    std::string name = "r";
    name += std::to_string(i);
    e.add_rule(name, text).value();
  }
}

void BM_Dispatch(benchmark::State& state) {
  rules::engine e{options()};
  add_rules(e, state.range(0), false);
  const std::string payload = R"({"lux":36250,"battery":87})";
  rules::message m;
  m.topic = "site/7/lux";
  m.payload = as_bytes(payload);
  m.client_id = "probe_7";
  for (auto _ : state) benchmark::DoNotOptimize(e.dispatch(m));
  state.SetItemsProcessed(state.iterations());
  state.counters["rules"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_Dispatch)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kNanosecond);

void BM_DispatchWithAction(benchmark::State& state) {
  rules::engine e{options()};
  std::atomic<std::uint64_t> calls{0};
  e.register_function("sink", [&](const rules::function_event&) -> result<void> {
    calls.fetch_add(1, std::memory_order_relaxed);
    return {};
  });
  add_rules(e, state.range(0), true);
  const std::string payload = R"({"lux":36250,"battery":87})";
  rules::message m;
  m.topic = "site/7/lux";
  m.payload = as_bytes(payload);
  for (auto _ : state) benchmark::DoNotOptimize(e.dispatch(m));
  e.flush();
  state.SetItemsProcessed(state.iterations());
  state.counters["actions"] = static_cast<double>(calls.load());
}
BENCHMARK(BM_DispatchWithAction)->Arg(1000)->Unit(benchmark::kNanosecond)->UseRealTime();

void BM_StoreAction(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("iotblocks_rules_bench_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  auto o = options();
  o.store_path = path.string();
  rules::engine e{o};
  e.add_rule("sigfox_to_store", R"({"sql":"SELECT * FROM 'sigfox'","actions":[{"dynamoDB":{
      "tableName":"sigfox","hashKeyField":"deviceid","hashKeyValue":"${device}",
      "rangeKeyField":"seq","rangeKeyValue":"${seqNumber}"}}]})")
      .value();
  std::int64_t seq = 0;
  for (auto _ : state) {
    for (int i = 0; i < 10'000; ++i, ++seq) {
      const std::string payload = R"({"device":"1A2B3C","data":"0102abcd","seqNumber":)" +
                                  std::to_string(seq) + R"(,"snr":"17.20","rssi":"-121.00"})";
      rules::message m;
      m.topic = "sigfox";
      m.payload = as_bytes(payload);
      e.dispatch(m);
    }
    e.flush(std::chrono::minutes(5));
  }
  state.SetItemsProcessed(seq);
  state.counters["commits"] = static_cast<double>(e.items()->commits());
  state.counters["rows"] = static_cast<double>(e.items()->count("sigfox").value());
  e.stop();
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}
BENCHMARK(BM_StoreAction)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// The store alone: 1,000 items per transaction into a SQLite file (WAL, FULL sync).
void BM_ItemStorePutBatch(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("iotblocks_rules_items_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  auto store = rules::sqlite_item_store::open(path.string()).value();
  std::vector<rules::item> batch(1000);
  std::int64_t seq = 0;
  for (auto _ : state) {
    for (auto& i : batch) {
      i.table = "sigfox";
      i.hash_key = "1A2B3C";
      i.range_key = std::to_string(seq++);
      i.range_is_number = true;
      i.payload = R"({"device":"1A2B3C","data":"0102abcd","snr":"17.20","rssi":"-121.00"})";
      i.hash_key_field = "deviceid";
      i.range_key_field = "seq";
      i.payload_field = "payload";
    }
    store->put_batch(batch).value();
  }
  state.SetItemsProcessed(seq);
  store.reset();
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}
BENCHMARK(BM_ItemStorePutBatch)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
