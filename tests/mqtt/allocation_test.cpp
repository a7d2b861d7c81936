// Steady state: decoding allocates nothing, whether packets arrive whole or
// straddle put() calls (after the reassembly buffer has grown once); nor do the
// failure paths of the decoder and of topic validation (the failure, its text
// written to a caller's buffer). Counted with a replacement global operator new.
#include "support.hpp"

#include <gtest/gtest.h>

#include <iotblocks/topic/index.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>

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

TEST(MqttAllocations, NoneOnTheDecoderFailurePath) {
  decoder d{role::server};
  d.protocol(protocol_version::v3_1_1);
  const byte_buffer bad = test::hex("30 05 00 03 61 2f 23");  // PUBLISH to "a/#"
  std::error_code ec;
  char text[160];
  const long before = allocations.load();
  EXPECT_EQ(d.put(bad, ec), 0u);
  const failure f = d.last_failure();
  const std::string_view described = f.describe_to(text);
  EXPECT_EQ(allocations.load() - before, 0);
  EXPECT_EQ(ec, error::topic_name_invalid);
  EXPECT_EQ(f.code, error::topic_name_invalid);
  EXPECT_EQ(described,
            "topic name invalid (topic name), reason code 0x90 Topic Name invalid at byte 2");
  // The counter is live: describe() builds a std::string longer than the
  // small-string buffer, which allocates.
  const std::string copy = f.describe();
  EXPECT_GT(allocations.load() - before, 0);
  EXPECT_EQ(copy, described);
}

TEST(MqttAllocations, NoneOnTheTopicValidationFailurePath) {
  topic::subscription_index index;
  char text[160];
  const long before = allocations.load();
  EXPECT_EQ(topic::validate_filter("a/#/b"), topic::error::multi_level_not_last);
  EXPECT_EQ(topic::validate_name("a/+"), topic::error::wildcard_in_name);
  const result<bool> refused = index.subscribe("a/#/b", 1);
  const result<bool> options = index.subscribe("a/b", 1, {.qos = 3});
  ASSERT_FALSE(refused);
  ASSERT_FALSE(options);
  const std::string_view described = refused.fail().describe_to(text);
  EXPECT_EQ(allocations.load() - before, 0);
  EXPECT_EQ(refused.error(), topic::error::multi_level_not_last);
  EXPECT_EQ(described, "invalid topic filter");
  EXPECT_EQ(options.error(), topic::error::invalid_options);
  EXPECT_EQ(options.fail().message, "QoS, retain handling or subscription identifier out of range");
  const std::string copy = options.describe();  // the counter is live
  EXPECT_GT(allocations.load() - before, 0);
  EXPECT_EQ(copy, options.fail().message.view());
}

}  // namespace
}  // namespace iotblocks::mqtt
