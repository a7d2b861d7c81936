// Throughput of the anomaly detectors. PEWMA on one series (the plain
// transcription of the published equations vs the production update), across
// many series (SIMD batch), and keyed by string through keyed_store.
#include <iotblocks/anomaly.hpp>
#include <iotblocks/anomaly/detail/pewma_reference.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
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

// Keyed by string: `series` devices, field "wind_speed". Messages arrive in random
// device order (a seeded generator); their keys sit in an arrival buffer (as parsed
// messages would). Every update hashes and looks up its key, then runs the same
// PEWMA update with full output as BM_PewmaUpdate.
struct keyed_fixture {
  keyed_store store{make_detector("pewma").value()};
  std::vector<std::string> arrivals;
  std::vector<double> data;
  explicit keyed_fixture(std::size_t series) {
    std::mt19937_64 rng{7};
    arrivals.resize(1 << 20);
    for (auto& a : arrivals) a = "device-" + std::to_string(1000000 + rng() % series);
    data = sensor_data(arrivals.size());
    point_result r;
    for (std::size_t i = 0; i < series; ++i) {
      (void)store.score("device-" + std::to_string(1000000 + i), "wind_speed", 20.0, 0, r);
    }
  }
  // Built once per size: Google Benchmark calls a benchmark several times, and the
  // million inserts would otherwise dominate a profile.
  static keyed_fixture& get(std::size_t series) {
    static std::map<std::size_t, std::unique_ptr<keyed_fixture>> cache;
    auto& f = cache[series];
    if (!f) f = std::make_unique<keyed_fixture>(series);
    return *f;
  }
};

void BM_KeyedStoreRandom(benchmark::State& st) {
  keyed_fixture& f = keyed_fixture::get(static_cast<std::size_t>(st.range(0)));
  point_result r;
  std::size_t i = 0;
  for (auto _ : st) {
    const std::size_t k = i++ & (f.arrivals.size() - 1);
    (void)f.store.score(f.arrivals[k], "wind_speed", f.data[k], 0, r);
    benchmark::DoNotOptimize(r.score);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
  st.counters["bytes_per_series"] =
      static_cast<double>(f.store.memory_bytes()) / static_cast<double>(f.store.size());
}
BENCHMARK(BM_KeyedStoreRandom)->Arg(1000)->Arg(1 << 20);

void BM_KeyedStoreRandomBatch(benchmark::State& st) {
  keyed_fixture& f = keyed_fixture::get(static_cast<std::size_t>(st.range(0)));
  constexpr std::size_t batch = 256;
  std::vector<keyed_point> input(f.arrivals.size());
  for (std::size_t k = 0; k < input.size(); ++k) {
    input[k] = {f.arrivals[k], "wind_speed", f.data[k], 0};
  }
  std::vector<point_result> results(batch);
  std::vector<std::error_code> errors(batch);
  std::size_t i = 0;
  for (auto _ : st) {
    const std::size_t k = (i++ * batch) & (input.size() - 1);
    f.store.score(std::span{input}.subspan(k, batch), results, errors);
    benchmark::DoNotOptimize(results.data());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * batch));
  st.counters["bytes_per_series"] =
      static_cast<double>(f.store.memory_bytes()) / static_cast<double>(f.store.size());
}
BENCHMARK(BM_KeyedStoreRandomBatch)->Arg(1000)->Arg(1 << 20);

// Every detector on one series (points/s on one core, state bytes per series),
// for the table next to their NAB scores.
void BM_Detector(benchmark::State& st, const char* name, const char* parameters) {
  const auto data = sensor_data(points);
  series s{make_detector(name, parameters).value()};
  point_result r;
  std::int64_t t = 0;
  for (auto _ : st) {
    for (double x : data) {
      (void)s.update(x, t += 300'000, r);
      benchmark::DoNotOptimize(r.score);
    }
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * points));
  st.counters["state_bytes"] = static_cast<double>(s.model().state_size());
}
BENCHMARK_CAPTURE(BM_Detector, pewma, "pewma", "");
BENCHMARK_CAPTURE(BM_Detector, ewma, "ewma", "");
BENCHMARK_CAPTURE(BM_Detector, ensemble, "ensemble", "");
BENCHMARK_CAPTURE(BM_Detector, ensemble_without_likelihood, "ensemble", "likelihood=0");
BENCHMARK_CAPTURE(BM_Detector, ensemble_fast_level, "ensemble", "fast_level=1");
BENCHMARK_CAPTURE(BM_Detector, ensemble_fast_residual, "ensemble", "fast_residual=1");
BENCHMARK_CAPTURE(BM_Detector, bocpd, "bocpd", "");
BENCHMARK_CAPTURE(BM_Detector, bocpd_120_runs, "bocpd", "max_runs=120");

}  // namespace

BENCHMARK_MAIN();
