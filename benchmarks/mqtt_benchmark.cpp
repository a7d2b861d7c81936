// MQTT codec: decode and encode of the packets the issue names, with heap
// allocations per packet counted by a replacement operator new.
//
//   build/bench-mqtt/benchmarks/mqtt_benchmark                 # Google Benchmark
//   build/bench-mqtt/benchmarks/mqtt_benchmark --write-packets DIR
//       writes the same packets as DIR/<name>.bin + DIR/manifest.txt for
//       benchmarks/peers/mqtt_peer.js (benchmarks/peers/mqtt.sh runs both).
#include <iotblocks/mqtt.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <vector>

namespace {
std::atomic<std::int64_t> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc{};
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace iotblocks;
using mqtt::protocol_version;

struct sample {
  std::string name;
  protocol_version version;
  byte_buffer bytes;
};

const char* const greenhouse_topic = "/topic/Greenhouse/LuxSensors/probe_1";
const char* const greenhouse_payload =
    R"({"device":"greenhouse_lux_probe_1","lux":36250,"temperature":21.25,"humidity":48,"ts":1700000000123})";

byte_buffer encoded(const mqtt::packet& p, protocol_version v) {
  byte_buffer out;
  if (mqtt::encode(p, v, out)) std::abort();
  return out;
}

sample publish_sample(const std::string& name, std::uint8_t qos, std::size_t size) {
  mqtt::publish p;
  p.qos = qos;
  p.packet_id = qos ? 1 : 0;
  p.topic = greenhouse_topic;
  p.payload = size == 100 ? to_buffer(greenhouse_payload) : byte_buffer(size, std::byte{'x'});
  return {name, protocol_version::v3_1_1, encoded(p, protocol_version::v3_1_1)};
}

sample connect_sample() {
  mqtt::connect c;
  c.version = protocol_version::v5;
  c.client_id = "greenhouse_lux_probe_1";
  c.keep_alive = 60;
  c.clean_start = false;
  c.username = "greenhouse";
  c.password = to_buffer("s3cret-token");
  c.properties.set_session_expiry_interval(3600)
      .set_receive_maximum(32)
      .set_maximum_packet_size(131072)
      .set_topic_alias_maximum(16)
      .set_request_problem_information(true)
      .add_user_property("site", "greenhouse-7")
      .add_user_property("firmware", "2.4.1");
  mqtt::will& w = c.will.emplace();
  w.topic = "greenhouse/probe_1/status";
  w.payload = to_buffer("offline");
  w.qos = 1;
  w.retain = true;
  w.properties.set_will_delay_interval(10).set_content_type("text/plain");
  return {"connect_v5_properties", protocol_version::v5, encoded(c, protocol_version::v5)};
}

sample subscribe_sample() {
  mqtt::subscribe s;
  s.packet_id = 7;
  for (int i = 0; i < 10; ++i) {
    s.subscriptions.push_back({"/topic/Greenhouse/LuxSensors/probe_" + std::to_string(i) + "/#",
                               {static_cast<std::uint8_t>(i % 3), false, false, 0}});
  }
  return {"subscribe_10_filters", protocol_version::v5, encoded(s, protocol_version::v5)};
}

const std::vector<sample>& samples() {
  static const std::vector<sample> all = [] {
    std::vector<sample> v;
    v.push_back(publish_sample("publish_greenhouse_qos1_143B", 1, 100));
    for (int qos : {0, 1}) {
      for (std::size_t size : {16, 128, 4096}) {
        v.push_back(
            publish_sample("publish_qos" + std::to_string(qos) + "_" + std::to_string(size) + "B",
                           static_cast<std::uint8_t>(qos), size));
      }
    }
    v.push_back(connect_sample());
    v.push_back(subscribe_sample());
    return v;
  }();
  return all;
}

void allocations_counter(benchmark::State& state, std::int64_t before) {
  state.counters["allocs_per_packet"] = benchmark::Counter(
      static_cast<double>(allocations.load() - before) / static_cast<double>(state.iterations()));
}

// One packet per put(), the whole packet in the caller's span (zero-copy path).
void BM_Decode(benchmark::State& state, const sample* s) {
  const bool connect = s->name.starts_with("connect");
  mqtt::decoder d{mqtt::role::server};
  d.protocol(s->version);
  std::error_code ec;
  d.put(s->bytes, ec);  // warm-up
  const std::int64_t before = allocations.load();
  for (auto _ : state) {
    if (connect) d.reset();
    benchmark::DoNotOptimize(d.put(s->bytes, ec));
    benchmark::DoNotOptimize(&d.get());
  }
  if (ec) state.SkipWithError(ec.message().c_str());
  allocations_counter(state, before);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(s->bytes.size()));
}

// 1,000 packets back to back in one buffer, decoded with one put() each.
void BM_DecodeStream(benchmark::State& state, const sample* s) {
  byte_buffer stream;
  for (int i = 0; i < 1000; ++i) stream.insert(stream.end(), s->bytes.begin(), s->bytes.end());
  mqtt::decoder d{mqtt::role::server};
  d.protocol(s->version);
  std::error_code ec;
  const std::int64_t before = allocations.load();
  for (auto _ : state) {
    bytes_view in{stream};
    while (!in.empty()) in = in.subspan(d.put(in, ec));
    benchmark::DoNotOptimize(&d.get());
  }
  if (ec) state.SkipWithError(ec.message().c_str());
  state.counters["allocs_per_packet"] =
      benchmark::Counter(static_cast<double>(allocations.load() - before) /
                         (1000.0 * static_cast<double>(state.iterations())));
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.size()));
}

// Every packet split in two put() calls: the buffered (reassembly) path.
void BM_DecodeStraddling(benchmark::State& state, const sample* s) {
  mqtt::decoder d{mqtt::role::server};
  d.protocol(s->version);
  const bytes_view all{s->bytes};
  const std::size_t half = all.size() / 2;
  std::error_code ec;
  d.put(all.first(half), ec);
  d.put(all.subspan(half), ec);  // warm-up: the buffer grows once
  const std::int64_t before = allocations.load();
  for (auto _ : state) {
    d.put(all.first(half), ec);
    benchmark::DoNotOptimize(d.put(all.subspan(half), ec));
    benchmark::DoNotOptimize(&d.get());
  }
  if (ec) state.SkipWithError(ec.message().c_str());
  allocations_counter(state, before);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(s->bytes.size()));
}

// Encode from a packet view into a caller's buffer (exact size first).
void BM_Encode(benchmark::State& state, const sample* s) {
  mqtt::decoder d{mqtt::role::server};
  d.protocol(s->version);
  std::error_code ec;
  d.put(s->bytes, ec);
  const mqtt::packet_view p = d.get();
  byte_buffer out(s->bytes.size() + 16);
  const auto* pub = std::get_if<mqtt::publish_view>(&p);
  const std::int64_t before = allocations.load();
  for (auto _ : state) {
    const std::size_t n = pub ? mqtt::encode(*pub, s->version, mutable_bytes_view{out}, ec)
                              : mqtt::encode(p, s->version, mutable_bytes_view{out}, ec);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  if (ec) state.SkipWithError(ec.message().c_str());
  if (std::memcmp(out.data(), s->bytes.data(), s->bytes.size()) != 0) {
    state.SkipWithError("encoding differs");
  }
  allocations_counter(state, before);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(s->bytes.size()));
}

// PUBLISH head only, payload left in place (scatter/gather).
void BM_EncodeGatherHead(benchmark::State& state, const sample* s) {
  mqtt::decoder d{mqtt::role::server};
  d.protocol(s->version);
  std::error_code ec;
  d.put(s->bytes, ec);
  const auto p = std::get<mqtt::publish_view>(d.get());
  std::byte head[128];
  for (auto _ : state) {
    benchmark::DoNotOptimize(mqtt::encode_publish_head(p, s->version, head, ec));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(s->bytes.size()));
}

int write_packets(const std::string& dir) {
  std::ofstream manifest(dir + "/manifest.txt");
  for (const sample& s : samples()) {
    std::ofstream out(dir + "/" + s.name + ".bin", std::ios::binary);
    out.write(reinterpret_cast<const char*>(s.bytes.data()),
              static_cast<std::streamsize>(s.bytes.size()));
    manifest << s.name << ' ' << static_cast<int>(s.version) << '\n';
    if (!out) return 1;
  }
  return manifest ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--write-packets") == 0) return write_packets(argv[2]);
  for (const sample& s : samples()) {
    benchmark::RegisterBenchmark(("BM_Decode/" + s.name).c_str(), BM_Decode, &s);
  }
  benchmark::RegisterBenchmark("BM_DecodeStream/publish_greenhouse_qos1_143B", BM_DecodeStream,
                               &samples()[0]);
  benchmark::RegisterBenchmark("BM_DecodeStraddling/publish_greenhouse_qos1_143B",
                               BM_DecodeStraddling, &samples()[0]);
  for (const sample& s : samples()) {
    benchmark::RegisterBenchmark(("BM_Encode/" + s.name).c_str(), BM_Encode, &s);
  }
  benchmark::RegisterBenchmark("BM_EncodeGatherHead/publish_qos1_4096B", BM_EncodeGatherHead,
                               &samples()[6]);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
