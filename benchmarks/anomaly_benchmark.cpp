// Throughput of the anomaly detectors. PEWMA on one series (the plain
// transcription of the published equations vs the production update), across
// many series (SIMD batch), and keyed by string through keyed_store.
#include <iotblocks/anomaly.hpp>
#include <iotblocks/anomaly/detail/pewma_reference.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

namespace {

using namespace iotblocks::anomaly;

std::vector<double> sensor_data(std::size_t n, unsigned seed = 1) {
  std::mt19937_64 rng{seed};
  std::normal_distribution<double> noise{0.0, 1.0};
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = 20 + 3 * std::sin(static_cast<double>(i) / 60) + noise(rng) + (i % 211 == 0 ? 15 : 0);
  }
  return v;
}

constexpr std::size_t points = 1 << 16;

void BM_PewmaReference(benchmark::State& st) {
  const auto data = sensor_data(points);
  detail::pewma_reference ref;
  double sink = 0;
  for (auto _ : st) {
    for (double x : data) sink += ref.update(x).z;
  }
  benchmark::DoNotOptimize(sink);
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * points));
}
BENCHMARK(BM_PewmaReference);

void BM_PewmaUpdate(benchmark::State& st) {
  const auto data = sensor_data(points);
  const auto model = pewma::create().value();
  pewma_state s;
  point_result r;
  double sink = 0;
  for (auto _ : st) {
    for (double x : data) {
      (void)model.update(s, x, r);
      sink += r.z;
    }
  }
  benchmark::DoNotOptimize(sink);
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * points));
}
BENCHMARK(BM_PewmaUpdate);

void BM_PewmaSeriesSpan(benchmark::State& st) {
  const auto data = sensor_data(points);
  const auto model = pewma::create().value();
  pewma_state s;
  std::vector<double> scores(points);
  std::error_code ec;
  for (auto _ : st) {
    model.update(s, data, scores, ec);
    benchmark::DoNotOptimize(scores.data());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * points));
}
BENCHMARK(BM_PewmaSeriesSpan);

void BM_PewmaBatch(benchmark::State& st) {
  const auto series = static_cast<std::size_t>(st.range(0));
  const auto model = pewma::create().value();
  pewma_batch batch{model, series};
  const auto data = sensor_data(series * 8);
  std::vector<double> scores(series);
  std::size_t step = 0;
  for (auto _ : st) {
    (void)batch.update(std::span{data}.subspan((step++ % 8) * series, series), scores);
    benchmark::DoNotOptimize(scores.data());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * series));
}
BENCHMARK(BM_PewmaBatch)->Arg(1024)->Arg(65536)->Arg(1 << 20);

}  // namespace

BENCHMARK_MAIN();
