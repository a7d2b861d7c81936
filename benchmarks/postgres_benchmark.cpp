// The rules' item stores side by side: put_batch of 1,000 items (one transaction each) into
// the SQLite file (WAL, synchronous FULL) and into PostgreSQL (one prepared upsert of arrays,
// COMMIT with the server's synchronous_commit). The PostgreSQL server is the tests' one,
// started by tests/postgres/server_main.cpp, which prints its URL:
//
//   ONLY="core;sqlite;topic;sql;anomaly;x509;registry;policy;shadow;jobs;rules;postgres"
//   cmake --preset bench -B build/bench-pg -DIOTBLOCKS_BUILD_CLI=OFF -DIOTBLOCKS_ONLY="$ONLY"
//   cmake --build build/bench-pg --target postgres_benchmark
//   cmake --build build/pg-items --target postgres_test_server   # any tests build
//   coproc PG { build/pg-items/tests/postgres/postgres_test_server; }; read -r URL <&"${PG[0]}"
//   IOTBLOCKS_BENCH_POSTGRES_URL=$URL build/bench-pg/benchmarks/postgres_benchmark
#include <iotblocks/postgres/item_store.hpp>
#include <iotblocks/rules/item_store.hpp>

#include <benchmark/benchmark.h>

#include <unistd.h>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace iotblocks;

void put_batches(benchmark::State& state, rules::item_store& store) {
  std::vector<rules::item> batch(static_cast<std::size_t>(state.range(0)));
  static std::int64_t seq = 0;  // new keys in every run: inserts, not updates
  const std::int64_t first = seq;
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
    if (auto r = store.put_batch(batch); !r) {
      state.SkipWithError(r.describe().c_str());
      break;
    }
  }
  state.SetItemsProcessed(seq - first);
  state.counters["commits"] = static_cast<double>(store.commits());
}

void BM_ItemStorePutBatch_Sqlite(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("iotblocks_pg_bench_items_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    auto store = rules::sqlite_item_store::open(path.string());
    if (!store) return state.SkipWithError(store.describe().c_str());
    put_batches(state, **store);
  }
  for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + s);
}
BENCHMARK(BM_ItemStorePutBatch_Sqlite)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ItemStorePutBatch_Postgres(benchmark::State& state) {
  const char* url = std::getenv("IOTBLOCKS_BENCH_POSTGRES_URL");
  if (url == nullptr) {
    return state.SkipWithError(
        "set IOTBLOCKS_BENCH_POSTGRES_URL (postgres_test_server prints one)");
  }
  auto store = postgres::item_store::open(url);
  if (!store) return state.SkipWithError(store.describe().c_str());
  put_batches(state, **store);
}
BENCHMARK(BM_ItemStorePutBatch_Postgres)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
