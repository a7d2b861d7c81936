// Core helpers that sit on hot paths: base64 (rules error payloads, SQL encode)
// and JSON parsing with the depth guard.
#include "core/json.hpp"

#include <iotblocks/core/bytes.hpp>

#include <benchmark/benchmark.h>

#include <string>

namespace {

void BM_Base64Encode4KiB(benchmark::State& state) {
  const std::string data(4096, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(iotblocks::to_base64(iotblocks::as_bytes(data)));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 4096);
}
BENCHMARK(BM_Base64Encode4KiB);

void BM_JsonParseSensorMessage(benchmark::State& state) {
  const std::string msg =
      R"({"device":"probe_1","lux":36250,"temperature":21.5,"humidity":48,"battery":3.7,"ts":1700000000123})";
  for (auto _ : state) benchmark::DoNotOptimize(iotblocks::json::parse(msg));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}
BENCHMARK(BM_JsonParseSensorMessage);

}  // namespace

BENCHMARK_MAIN();
