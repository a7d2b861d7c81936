// Subscription index benchmarks on a deterministic IoT workload.
//
// Workload (seeded, portable PRNG, so every run and the peer see the same data):
// topics of 3-7 levels in the hierarchy
//   org (32) / site (64) / device type (8) / device (8) / stream (6) / metric (12) / channel (4)
// (fan-out per level in parentheses; device names are globally unique). N
// subscriptions: depth uniform in 3..7, 80 % exact, 15 % with one '+' at a random
// level, 5 % ending in '#'. 1M lookups: half are concrete topics under a
// subscribed filter, half random topics of the space. EMQX shape: 80,000
// subscriptions device/{id}/+/{n}/# (8,000 ids x 10) and 1M concrete lookups.
//
//   topic_benchmark                              # Google Benchmark run
//   topic_benchmark --write-workload DIR         # subs_{10k,100k,1m,emqx}.txt, lookups_*.txt
//   topic_benchmark --run SUBS LOOKUPS           # one JSON line: the peer-comparison run
#include <iotblocks/topic/index.hpp>

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace {

using iotblocks::topic::match_entry;
using iotblocks::topic::subscription_index;

// ---- deterministic workload ---------------------------------------------------
struct splitmix {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
};

constexpr std::uint32_t fanout[7] = {32, 64, 8, 8, 6, 12, 4};
const char* const types[8] = {"thermostat", "meter", "camera", "gateway",
                              "valve",      "pump",  "lock",   "light"};
const char* const streams[6] = {"telemetry", "status", "events", "config", "commands", "alerts"};
const char* const metrics[12] = {"temperature", "humidity", "pressure", "voltage",
                                 "current",     "power",    "energy",   "rssi",
                                 "battery",     "co2",      "flow",     "speed"};

// The name of child `c` at `level` under the path of choices `path`.
std::string level_name(int level, const std::uint32_t* path) {
  char buf[32];
  switch (level) {
    case 0: std::snprintf(buf, sizeof buf, "org-%u", path[0]); return buf;
    case 1: std::snprintf(buf, sizeof buf, "site-%u", path[1]); return buf;
    case 2: return types[path[2]];
    case 3: {
      std::uint32_t id = 0;
      for (int i = 0; i <= 3; ++i) id = id * fanout[i] + path[i];
      std::snprintf(buf, sizeof buf, "dev-%06x", id);
      return buf;
    }
    case 4: return streams[path[4]];
    case 5: return metrics[path[5]];
    default: std::snprintf(buf, sizeof buf, "ch%u", path[6]); return buf;
  }
}

std::string random_topic(splitmix& rng, int depth) {
  std::uint32_t path[7];
  std::string t;
  for (int i = 0; i < depth; ++i) {
    path[i] = rng.below(fanout[i]);
    if (i) t += '/';
    t += level_name(i, path);
  }
  return t;
}

struct workload {
  std::vector<std::string> filters;
  std::vector<std::string> lookups;
};

// Lines stored back to back, as a broker holds a topic it just decoded: read in
// order, each lookup's text follows the previous one in memory.
struct packed_lines {
  std::string text;
  std::vector<std::string_view> lines;

  explicit packed_lines(const std::vector<std::string>& from) {
    std::size_t bytes = 0;
    for (const auto& l : from) bytes += l.size();
    text.reserve(bytes);
    for (const auto& l : from) text += l;
    lines.reserve(from.size());
    std::size_t at = 0;
    for (const auto& l : from) {
      lines.emplace_back(text.data() + at, l.size());
      at += l.size();
    }
  }
};

// Replaces each wildcard of `filter` by a concrete level of the space.
std::string instantiate(splitmix& rng, const std::string& filter) {
  const auto depth = static_cast<int>(3 + rng.below(5));
  const std::string full = random_topic(rng, 7);
  std::vector<std::string> f, r;
  for (std::size_t a = 0, b; a <= filter.size(); a = b + 1) {
    b = std::min(filter.find('/', a), filter.size());
    f.push_back(filter.substr(a, b - a));
  }
  for (std::size_t a = 0, b; a <= full.size(); a = b + 1) {
    b = std::min(full.find('/', a), full.size());
    r.push_back(full.substr(a, b - a));
  }
  std::string t;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") {
      for (auto j = i; j < static_cast<std::size_t>(std::max<int>(depth, static_cast<int>(i)));
           ++j) {
        if (j) t += '/';
        t += r[j];
      }
      return t;
    }
    if (i) t += '/';
    t += f[i] == "+" ? r[i] : f[i];
  }
  return t;
}

workload make_iot(std::size_t n, std::size_t lookups, std::uint64_t seed) {
  splitmix rng{seed};
  workload w;
  w.filters.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t kind = rng.below(100);
    if (kind < 80) {
      w.filters.push_back(random_topic(rng, static_cast<int>(3 + rng.below(5))));
    } else if (kind < 95) {
      const auto depth = static_cast<int>(3 + rng.below(5));
      const std::string t = random_topic(rng, depth);
      const auto plus = rng.below(static_cast<std::uint32_t>(depth));
      std::string f;
      std::uint32_t level = 0;
      for (std::size_t a = 0, b; a <= t.size(); a = b + 1, ++level) {
        b = std::min(t.find('/', a), t.size());
        if (level) f += '/';
        f += level == plus ? std::string{"+"} : t.substr(a, b - a);
      }
      w.filters.push_back(std::move(f));
    } else {
      w.filters.push_back(random_topic(rng, static_cast<int>(2 + rng.below(5))) + "/#");
    }
  }
  w.lookups.reserve(lookups);
  for (std::size_t i = 0; i < lookups; ++i) {
    if (rng.below(2) == 0) {
      w.lookups.push_back(instantiate(rng, w.filters[rng.below(static_cast<std::uint32_t>(n))]));
    } else {
      w.lookups.push_back(random_topic(rng, static_cast<int>(3 + rng.below(5))));
    }
  }
  return w;
}

workload make_emqx(std::size_t lookups, std::uint64_t seed) {
  splitmix rng{seed};
  workload w;
  for (std::uint32_t id = 0; id < 8000; ++id) {
    for (std::uint32_t n = 0; n < 10; ++n) {
      w.filters.push_back("device/" + std::to_string(id) + "/+/" + std::to_string(n) + "/#");
    }
  }
  for (std::size_t i = 0; i < lookups; ++i) {
    w.lookups.push_back("device/" + std::to_string(rng.below(8000)) + "/" + streams[rng.below(6)] +
                        "/" + std::to_string(rng.below(12)) + "/" + metrics[rng.below(12)]);
  }
  return w;
}

constexpr std::uint64_t seed = 20240501;

const workload& iot(std::size_t n) {
  static std::map<std::size_t, workload> cache;
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, make_iot(n, 1'000'000, seed + n)).first;
  return it->second;
}

const workload& emqx() {
  static const workload w = make_emqx(1'000'000, seed);
  return w;
}

// ---- helpers ------------------------------------------------------------------
// Bytes in use from malloc: small chunks plus mmap-backed large blocks.
std::size_t heap_in_use() {
  const auto m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

void fill(subscription_index& index, const workload& w) {
  for (std::size_t i = 0; i < w.filters.size(); ++i) {
    if (!index.subscribe(w.filters[i], i).ok()) std::abort();
  }
}

const subscription_index& built(const workload& w) {
  static std::map<const workload*, subscription_index> cache;
  auto it = cache.find(&w);
  if (it == cache.end()) {
    it = cache.emplace(&w, subscription_index{}).first;
    fill(it->second, w);
  }
  return it->second;
}

const workload& pick(std::int64_t n) { return n == 0 ? emqx() : iot(static_cast<std::size_t>(n)); }

const packed_lines& packed_lookups(const workload& w) {
  static std::map<const workload*, packed_lines> cache;
  auto it = cache.find(&w);
  if (it == cache.end()) it = cache.emplace(&w, packed_lines{w.lookups}).first;
  return it->second;
}

// ---- Google Benchmark ---------------------------------------------------------
void BM_Insert(benchmark::State& state) {
  const workload& w = pick(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    {
      subscription_index index;
      state.ResumeTiming();
      fill(index, w);
      state.PauseTiming();
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.filters.size()));
}

void BM_Remove(benchmark::State& state) {
  const workload& w = pick(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    subscription_index index;
    fill(index, w);
    state.ResumeTiming();
    for (std::size_t i = 0; i < w.filters.size(); ++i) index.unsubscribe(w.filters[i], i);
    state.PauseTiming();
    if (index.size() != 0) state.SkipWithError("not empty");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.filters.size()));
}

void BM_Match(benchmark::State& state) {
  const workload& w = pick(state.range(0));
  const subscription_index& index = built(w);
  const auto& lookups = packed_lookups(w).lines;
  std::vector<match_entry> out;
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  std::size_t found = 0;
  for (auto _ : state) {
    out.clear();
    index.match(lookups[i], out);
    found += out.size();
    if (++i == lookups.size()) i = 0;
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations());
  state.counters["matches_per_lookup"] =
      static_cast<double>(found) / static_cast<double>(state.iterations());
}

void BM_MatchAggregated(benchmark::State& state) {
  const workload& w = pick(state.range(0));
  const subscription_index& index = built(w);
  const auto& lookups = packed_lookups(w).lines;
  iotblocks::topic::match_result r;
  std::size_t i = 0;
  for (auto _ : state) {
    index.match(lookups[i], r);
    benchmark::DoNotOptimize(r.deliveries().data());
    if (++i == lookups.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Memory(benchmark::State& state) {
  const workload& w = pick(state.range(0));
  std::size_t delta = 0, reported = 0, nodes = 0;
  for (auto _ : state) {
    const std::size_t before = heap_in_use();
    auto index = std::make_unique<subscription_index>();
    fill(*index, w);
    delta = heap_in_use() - before;
    reported = index->memory_usage();
    nodes = index->node_count();
  }
  const auto n = static_cast<double>(w.filters.size());
  state.counters["heap_bytes_per_sub"] = static_cast<double>(delta) / n;
  state.counters["table_bytes_per_sub"] = static_cast<double>(reported) / n;
  state.counters["nodes_per_sub"] = static_cast<double>(nodes) / n;
}

// Ranges: subscriptions (0 = the EMQX shape).
BENCHMARK(BM_Insert)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_Remove)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_Memory)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_Match)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Arg(0)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
// The batch overload, 64 topics a call; items are topics.
void BM_MatchBatch(benchmark::State& state) {
  const workload& w = pick(state.range(0));
  const subscription_index& index = built(w);
  const auto& lookups = packed_lookups(w).lines;
  constexpr std::size_t batch = 64;
  std::vector<match_entry> out;
  std::vector<std::size_t> ends;
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    ends.clear();
    index.match(std::span{lookups}.subspan(i, batch), out, ends);
    benchmark::DoNotOptimize(out.data());
    i += batch;
    if (i + batch > lookups.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}

BENCHMARK(BM_MatchBatch)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Arg(0);
BENCHMARK(BM_MatchAggregated)->Arg(1'000'000)->Arg(0);

// ---- files for the peer and the comparison run --------------------------------
void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& l : lines) out << l << '\n';
  if (!out) {
    std::cerr << "cannot write " << path << '\n';
    std::exit(1);
  }
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path << '\n';
    std::exit(1);
  }
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(std::move(l));
  return lines;
}

int write_workload(const std::string& dir) {
  const std::pair<const char*, std::size_t> sizes[] = {
      {"10k", 10'000}, {"100k", 100'000}, {"1m", 1'000'000}};
  for (const auto& [name, n] : sizes) {
    const workload& w = iot(n);
    write_lines(dir + "/subs_" + name + ".txt", w.filters);
    write_lines(dir + "/lookups_" + name + ".txt", w.lookups);
  }
  write_lines(dir + "/subs_emqx.txt", emqx().filters);
  write_lines(dir + "/lookups_emqx.txt", emqx().lookups);
  return 0;
}

// CPU time of the calling thread: the machine is shared, and CPU time does not
// count the time other processes hold the cores.
double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The comparison run: the same steps as benchmarks/peers/topic_peer.js. Rates
// are per CPU second (all threads' CPU time summed), plus the wall-clock rate.
int run(const std::string& subs_path, const std::string& lookups_path, int threads) {
  using clock = std::chrono::steady_clock;
  workload w{read_lines(subs_path), read_lines(lookups_path)};
  const packed_lines topics{w.lookups};
  const auto& lookups = topics.lines;
  const std::size_t heap0 = heap_in_use();
  subscription_index index;
  double c0 = thread_cpu_s();
  fill(index, w);
  const double insert_s = thread_cpu_s() - c0;
  const std::size_t heap = heap_in_use() - heap0;
  std::size_t total = 0;
  std::vector<match_entry> out;
  for (const auto& t : lookups) {  // warm-up pass, also the checksum
    out.clear();
    index.match(t, out);
    total += out.size();
  }
  constexpr int passes = 3;
  const auto t0 = clock::now();
  std::vector<std::thread> pool;
  std::vector<double> cpu(static_cast<std::size_t>(threads));
  for (int th = 0; th < threads; ++th) {
    pool.emplace_back([&, th] {
      const double start = thread_cpu_s();
      std::vector<match_entry> o;
      std::size_t sink = 0;
      for (int p = 0; p < passes; ++p) {
        for (std::size_t i = static_cast<std::size_t>(th) * 7919, k = 0; k < lookups.size();
             ++k, i = i + 1 == lookups.size() ? 0 : i + 1) {
          o.clear();
          index.match(lookups[i], o);
          sink += o.size();
        }
      }
      benchmark::DoNotOptimize(sink);
      cpu[static_cast<std::size_t>(th)] = thread_cpu_s() - start;
    });
  }
  for (auto& t : pool) t.join();
  const double wall_s = std::chrono::duration<double>(clock::now() - t0).count();
  double lookup_s = 0;
  for (double c : cpu) lookup_s += c;
  const double count = static_cast<double>(lookups.size()) * passes * threads;
  // Batches of 64 topics through the batch overload, on this thread.
  constexpr std::size_t batch = 64;
  std::vector<std::size_t> ends;
  std::size_t batch_total = 0;
  c0 = thread_cpu_s();
  for (int p = 0; p < passes; ++p) {
    for (std::size_t i = 0; i < lookups.size(); i += batch) {
      out.clear();
      ends.clear();
      index.match(std::span{lookups}.subspan(i, std::min(batch, lookups.size() - i)), out, ends);
      batch_total += out.size();
    }
  }
  const double batch_s = thread_cpu_s() - c0;
  if (batch_total != total * passes) {
    std::fprintf(stderr, "batch lookups found %zu matches, single lookups %zu\n", batch_total,
                 total * passes);
    return 1;
  }
  c0 = thread_cpu_s();
  for (std::size_t i = 0; i < w.filters.size(); ++i) index.unsubscribe(w.filters[i], i);
  const double remove_s = thread_cpu_s() - c0;
  const auto n = static_cast<double>(w.filters.size());
  std::printf(
      "{\"impl\":\"iotblocks\",\"threads\":%d,\"subscriptions\":%zu,\"lookups\":%zu,"
      "\"matches\":%zu,\"inserts_per_s\":%.0f,\"lookups_per_s\":%.0f,\"ns_per_lookup\":%.1f,"
      "\"removes_per_s\":%.0f,\"bytes_per_sub\":%.1f,\"wall_lookups_per_s\":%.0f,"
      "\"batch_lookups_per_s\":%.0f,\"batch_ns_per_lookup\":%.1f}\n",
      threads, w.filters.size(), lookups.size(), total, n / insert_s, count / lookup_s,
      lookup_s * 1e9 / count, n / remove_s, static_cast<double>(heap) / n, count / wall_s,
      static_cast<double>(lookups.size()) * passes / batch_s,
      batch_s * 1e9 / (static_cast<double>(lookups.size()) * passes));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--write-workload") == 0) return write_workload(argv[2]);
  if (argc >= 4 && std::strcmp(argv[1], "--run") == 0) {
    return run(argv[2], argv[3], argc >= 5 ? std::atoi(argv[4]) : 1);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
