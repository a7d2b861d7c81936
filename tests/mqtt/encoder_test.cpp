// The encoder: exact sizes, the three output forms, what it refuses.
#include "support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace iotblocks::mqtt {
namespace {

using test::hex;

publish greenhouse() {
  publish p;
  p.qos = 1;
  p.packet_id = 1;
  p.topic = "/topic/Greenhouse/LuxSensors/probe_1";
  p.payload = byte_buffer(100, std::byte{'x'});
  return p;
}

TEST(MqttEncoder, ExactSizeThenBytesIntoACallerBuffer) {
  const publish p = greenhouse();
  std::error_code ec;
  const std::size_t n = encoded_size(as_view(p), protocol_version::v3_1_1, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(n, 143u);
  EXPECT_EQ(encoded_size(as_view(p), protocol_version::v5, ec), 144u);  // + property length

  byte_buffer out(200, std::byte{0xEE});
  EXPECT_EQ(encode(as_view(p), protocol_version::v3_1_1, mutable_bytes_view{out}, ec), n);
  ASSERT_FALSE(ec);
  EXPECT_EQ(to_hex(bytes_view{out}.first(8)), "328c0100242f746f");  // remaining length 140
  EXPECT_EQ(out[n], std::byte{0xEE});                               // nothing past the end

  EXPECT_EQ(encode(as_view(p), protocol_version::v3_1_1, mutable_bytes_view{out}.first(n - 1), ec),
            0u);
  EXPECT_EQ(ec, error::buffer_too_small);
}

TEST(MqttEncoder, GrowableBufferAppends) {
  byte_buffer out = hex("c000");
  ASSERT_FALSE(encode(packet{greenhouse()}, protocol_version::v3_1_1, out));
  ASSERT_FALSE(encode(packet_view{pingresp_view{}}, protocol_version::v3_1_1, out));
  EXPECT_EQ(out.size(), 2u + 143u + 2u);
  EXPECT_EQ(to_hex(bytes_view{out}.last(2)), "d000");
}

TEST(MqttEncoder, GatherLeavesThePayloadWhereItIs) {
  const publish p = greenhouse();
  const publish_view v = as_view(p);
  byte_buffer head;
  std::error_code ec;
  const auto parts = encode_gather(v, protocol_version::v5, head, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(parts[1].data(), p.payload.data());
  EXPECT_EQ(parts[0].size(), 44u);
  byte_buffer joined{parts[0].begin(), parts[0].end()};
  joined.insert(joined.end(), parts[1].begin(), parts[1].end());
  byte_buffer whole;
  ASSERT_FALSE(encode(v, protocol_version::v5, whole));
  EXPECT_EQ(joined, whole);
  EXPECT_EQ(publish_head_size(v, protocol_version::v5, ec), 44u);
}

TEST(MqttEncoder, RemainingLengthBoundaries) {
  // Variable byte integer sizes: 127 -> 1 byte, 128 -> 2, 16383 -> 2, 16384 -> 3 (1.5.5).
  for (auto [body, header] : {std::pair{127u, 2u}, {128u, 3u}, {16383u, 3u}, {16384u, 4u}}) {
    publish p;
    p.topic = "t";
    p.payload = byte_buffer(body - 3, std::byte{1});
    std::error_code ec;
    EXPECT_EQ(encoded_size(as_view(p), protocol_version::v3_1_1, ec), body + header);
    byte_buffer out;
    ASSERT_FALSE(encode(as_view(p), protocol_version::v3_1_1, out));
    decoder d{role::server};
    d.protocol(protocol_version::v3_1_1);
    EXPECT_EQ(d.put(out, ec), out.size());
    EXPECT_FALSE(ec);
  }
}

TEST(MqttEncoder, ResponseFormsAreHonoured) {
  puback a;
  a.packet_id = 7;
  auto bytes = [](const packet& p) {
    byte_buffer out;
    EXPECT_FALSE(encode(p, protocol_version::v5, out));
    return to_hex(out);
  };
  EXPECT_EQ(bytes(a), "40020007");
  a.reason = reason_code::no_matching_subscribers;
  EXPECT_EQ(bytes(a), "4003000710");
  a.form = response_form::properties;
  EXPECT_EQ(bytes(a), "400400071000");
  a.properties.set_reason_string("x");
  a.form = response_form::shortest;
  EXPECT_EQ(bytes(a), "4008000710041f000178");
  disconnect d;
  EXPECT_EQ(bytes(d), "e000");
  d.form = response_form::reason_code;
  EXPECT_EQ(bytes(d), "e00100");
  byte_buffer out;
  ASSERT_FALSE(encode(packet{d}, protocol_version::v3_1_1, out));
  EXPECT_EQ(to_hex(out), "e000");  // 3.1.1 has no reason code
}

TEST(MqttEncoder, FieldsAVersionLacksAreLeftOut) {
  publish p;
  p.topic = "a";
  p.properties.set_content_type("text/plain");
  byte_buffer out;
  ASSERT_FALSE(encode(packet{p}, protocol_version::v3_1_1, out));
  EXPECT_EQ(to_hex(out),
            "30030001"
            "61");
  subscribe s;
  s.packet_id = 1;
  s.subscriptions.push_back({"a", {1, true, true, 2}});
  out.clear();
  ASSERT_FALSE(encode(packet{s}, protocol_version::v3_1_1, out));
  EXPECT_EQ(to_hex(out),
            "820600010001"
            "6101");
  out.clear();
  ASSERT_FALSE(encode(packet{s}, protocol_version::v5, out));
  EXPECT_EQ(to_hex(out),
            "82070001000001"
            "612d");
}

TEST(MqttEncoder, RefusesWhatTheWireCannotCarry) {
  std::error_code ec;
  publish p;
  p.topic = std::string(65536, 'a');
  EXPECT_EQ(encoded_size(as_view(p), protocol_version::v5, ec), 0u);
  EXPECT_EQ(ec, error::not_encodable);
  p.topic = "a";
  p.qos = 3;
  byte_buffer out;
  EXPECT_EQ(encode(packet{p}, protocol_version::v5, out), error::not_encodable);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(encode(packet{auth{}}, protocol_version::v3_1_1, out), error::not_encodable);
  connect c;
  c.username = std::string(70000, 'u');
  EXPECT_EQ(encode(packet{c}, protocol_version::v5, out), error::not_encodable);
}

TEST(MqttEncoder, ConnectUsesItsOwnVersion) {
  connect c;
  c.version = protocol_version::v3_1;
  c.client_id = "c";
  c.keep_alive = 60;
  byte_buffer out;
  ASSERT_FALSE(encode(packet{c}, protocol_version::v5, out));  // v ignored for CONNECT
  EXPECT_EQ(to_hex(out), "100f00064d51497364700302003c000163");
}

}  // namespace
}  // namespace iotblocks::mqtt
