// Steady state: decoding allocates nothing, whether packets arrive whole or
// straddle put() calls (after the reassembly buffer has grown once). Counted
// with a replacement global operator new.
#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
#if IOTBLOCKS_EXCEPTIONS
  throw std::bad_alloc{};
#else
  std::abort();
#endif
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace iotblocks::mqtt {
namespace {

byte_buffer sample_stream() {
  byte_buffer out;
  publish p;
  p.qos = 1;
  p.packet_id = 9;
  p.topic = "/topic/Greenhouse/LuxSensors/probe_1";
  p.properties.set_message_expiry_interval(60).add_user_property("unit", "lux");
  p.payload = byte_buffer(100, std::byte{'x'});
  subscribe s;
  s.packet_id = 3;
  for (const char* f : {"a/+/c", "$share/g/x/#", "d"}) s.subscriptions.push_back({f, {1}});
  puback a;
  a.packet_id = 9;
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(encode(packet{p}, protocol_version::v5, out));
    EXPECT_FALSE(encode(packet{s}, protocol_version::v5, out));
    EXPECT_FALSE(encode(packet{a}, protocol_version::v5, out));
  }
  return out;
}

long decode_all(decoder& d, bytes_view stream, std::size_t chunk, int& packets) {
  const long before = allocations.load();
  std::error_code ec;
  while (!stream.empty()) {
    const std::size_t n = d.put(stream.first(std::min(chunk, stream.size())), ec);
    if (ec && ec != error::need_more) ADD_FAILURE() << d.last_failure().describe();
    packets += d.has_packet() ? 1 : 0;
    stream = stream.subspan(n);
  }
  return allocations.load() - before;
}

TEST(MqttAllocations, NoneWhenPacketsArriveWhole) {
  const byte_buffer stream = sample_stream();
  decoder d{role::server};
  d.protocol(protocol_version::v5);
  int packets = 0;
  EXPECT_EQ(decode_all(d, stream, stream.size(), packets), 0);
  EXPECT_EQ(packets, 12);
}

TEST(MqttAllocations, NoneInSteadyStateWhenPacketsStraddle) {
  const byte_buffer stream = sample_stream();
  decoder d{role::server};
  d.protocol(protocol_version::v5);
  int packets = 0;
  decode_all(d, stream, 7, packets);  // warm-up grows the reassembly buffer
  d.reset();
  packets = 0;
  EXPECT_EQ(decode_all(d, stream, 7, packets), 0);
  EXPECT_EQ(packets, 12);
}

TEST(MqttAllocations, NoneWhenEncodingIntoACallerBuffer) {
  publish p;
  p.qos = 1;
  p.packet_id = 1;
  p.topic = "/topic/Greenhouse/LuxSensors/probe_1";
  p.payload = byte_buffer(100, std::byte{'x'});
  const publish_view v = as_view(p);
  byte_buffer out(200);
  std::error_code ec;
  const long before = allocations.load();
  for (int i = 0; i < 100; ++i) encode(v, protocol_version::v3_1_1, mutable_bytes_view{out}, ec);
  EXPECT_EQ(allocations.load() - before, 0);
  EXPECT_FALSE(ec);
}

}  // namespace
}  // namespace iotblocks::mqtt
