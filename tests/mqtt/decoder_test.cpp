// The decoder as a state machine: chunking, zero-copy, buffering bounds,
// version negotiation, roles and limits.
#include "support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iotblocks::mqtt {
namespace {

using test::hex;

// 143 bytes: PUBLISH QoS 1, /topic/Greenhouse/LuxSensors/probe_1, 100-byte payload (3.1.1).
byte_buffer greenhouse_publish() {
  const std::string payload =
      R"({"device":"greenhouse_lux_probe_1","lux":36250,"temperature":21.25,"humidity":48,"ts":1700000000123})";
  publish p;
  p.qos = 1;
  p.packet_id = 1;
  p.topic = "/topic/Greenhouse/LuxSensors/probe_1";
  p.payload = to_buffer(payload);
  byte_buffer out;
  EXPECT_FALSE(encode(packet{p}, protocol_version::v3_1_1, out));
  return out;
}

bool inside(const void* p, bytes_view buffer) {
  const auto* b = reinterpret_cast<const std::byte*>(p);
  return b >= buffer.data() && b < buffer.data() + buffer.size();
}

TEST(MqttDecoder, GreenhousePublishIs143Bytes) { EXPECT_EQ(greenhouse_publish().size(), 143u); }

TEST(MqttDecoder, ManyPacketsInOneSpanAreZeroCopy) {
  byte_buffer stream;
  for (int i = 0; i < 3; ++i) {
    auto p = greenhouse_publish();
    stream.insert(stream.end(), p.begin(), p.end());
  }
  stream.push_back(std::byte{0xC0});  // PINGREQ
  stream.push_back(std::byte{0x00});
  decoder d{role::server};
  d.protocol(protocol_version::v3_1_1);
  std::vector<packet_type> seen;
  bytes_view in{stream};
  std::error_code ec;
  while (!in.empty()) {
    const std::size_t n = d.put(in, ec);
    ASSERT_FALSE(ec) << d.last_failure().describe();
    ASSERT_TRUE(d.has_packet());
    EXPECT_FALSE(d.buffered());
    seen.push_back(type_of(d.get()));
    if (const auto* p = std::get_if<publish_view>(&d.get())) {
      EXPECT_TRUE(inside(p->topic.data(), in));
      EXPECT_TRUE(inside(p->payload.data(), in));
      EXPECT_EQ(p->payload.size(), 100u);
      EXPECT_EQ(p->packet_id, 1);
    }
    in = in.subspan(n);
  }
  EXPECT_EQ(seen, (std::vector<packet_type>{packet_type::publish, packet_type::publish,
                                            packet_type::publish, packet_type::pingreq}));
  EXPECT_EQ(d.offset(), stream.size());
  EXPECT_EQ(d.buffer_capacity(), 0u);  // nothing was ever buffered
  EXPECT_EQ(d.put({}, ec), 0u);
  EXPECT_EQ(ec, error::need_more);
}

TEST(MqttDecoder, OnlyTheStraddlingPacketIsBuffered) {
  const auto one = greenhouse_publish();
  byte_buffer stream = one;
  stream.insert(stream.end(), one.begin(), one.end());
  decoder d{role::server};
  d.protocol(protocol_version::v3_1_1);
  std::error_code ec;
  // First call ends 10 bytes into the first packet.
  EXPECT_EQ(d.put(bytes_view{stream}.first(10), ec), 10u);
  EXPECT_EQ(ec, error::need_more);
  // The rest: the first packet completes from the buffer...
  bytes_view rest = bytes_view{stream}.subspan(10);
  std::size_t n = d.put(rest, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(n, one.size() - 10);
  EXPECT_TRUE(d.buffered());
  EXPECT_LE(d.buffer_capacity(), 2 * one.size());
  const auto& first = std::get<publish_view>(d.get());
  EXPECT_FALSE(inside(first.payload.data(), rest));
  EXPECT_EQ(first.topic, "/topic/Greenhouse/LuxSensors/probe_1");
  // ...and the second one straight from the caller's span.
  rest = rest.subspan(n);
  n = d.put(rest, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(n, one.size());
  EXPECT_FALSE(d.buffered());
  EXPECT_TRUE(inside(std::get<publish_view>(d.get()).payload.data(), rest));
  d.shrink_buffer();
  EXPECT_EQ(d.buffer_capacity(), 0u);
}

TEST(MqttDecoder, MaxPacketSizeIsCheckedBeforeAnyBodyByteIsStored) {
  // A claimed remaining length of 268,435,455 bytes (256 MiB).
  const auto header = hex("30 ff ff ff 7f");
  decoder d{role::server};
  d.protocol(protocol_version::v5);
  std::error_code ec;
  d.put(header, ec);
  EXPECT_EQ(ec, error::packet_too_large);
  EXPECT_EQ(d.reason(), reason_code::packet_too_large);
  EXPECT_EQ(d.buffer_capacity(), 0u);

  // With the limit at MQTT's maximum, memory grows only with the bytes that arrive.
  decoder big{role::server};
  big.protocol(protocol_version::v5).max_packet_size(268'435'460);
  EXPECT_EQ(big.put(header, ec), header.size());
  EXPECT_EQ(ec, error::need_more);
  EXPECT_EQ(big.buffer_capacity(), 0u);
  const byte_buffer some(1000, std::byte{'a'});
  big.put(some, ec);
  EXPECT_EQ(ec, error::need_more);
  EXPECT_LT(big.buffer_capacity(), 4096u);
}

TEST(MqttDecoder, ServerTakesTheVersionFromConnect) {
  // CONNECT 5.0, then a PUBLISH with a property list.
  const auto bytes = hex("10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63 30 06 00 01 61 00 68 69");
  decoder d{role::server};
  EXPECT_FALSE(d.protocol().has_value());
  std::vector<std::string> json;
  std::error_code ec;
  EXPECT_EQ(
      d.put_all(
          bytes, [&](const packet_view& p) { json.push_back(to_json(p, *d.protocol())); }, ec),
      bytes.size());
  ASSERT_FALSE(ec) << d.last_failure().describe();
  EXPECT_EQ(d.protocol(), protocol_version::v5);
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[1],
            R"({"type":"publish","topic":"a","qos":0,"retain":false,"dup":false,"payload":"hi"})");

  // The same PUBLISH bytes after a 3.1.1 CONNECT: no property length, so the payload is "\0hi".
  const auto v311 = hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 63 30 06 00 01 61 00 68 69");
  decoder old{role::server};
  const publish_view* last = nullptr;
  old.put_all(
      v311, [&](const packet_view& p) { last = std::get_if<publish_view>(&p); }, ec);
  ASSERT_FALSE(ec);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->payload.size(), 3u);
}

TEST(MqttDecoder, ResetStartsANewStream) {
  decoder d{role::server};
  std::error_code ec;
  d.put(hex("c0 00"), ec);
  EXPECT_EQ(ec, error::connect_expected);
  EXPECT_EQ(d.reason(), reason_code::protocol_error);
  d.reset();
  EXPECT_EQ(d.reason(), reason_code::success);
  d.put(hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 63"), ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(d.offset(), 15u);
}

// A fresh decoder resumed from between_packets() goes on as the first would
// have: the CONNECT's version, a second CONNECT refused, offsets continued.
TEST(MqttDecoder, ResumesAStreamFromItsStateBetweenPackets) {
  const auto connect = hex("10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63");
  decoder first{role::server};
  std::error_code ec;
  first.put(connect, ec);
  ASSERT_TRUE(first.has_packet());
  ASSERT_FALSE(first.in_packet());
  const auto state = first.between_packets();

  decoder next{role::server};
  next.resume(state);
  EXPECT_EQ(next.protocol(), protocol_version::v5);
  EXPECT_EQ(next.offset(), connect.size());
  // PUBLISH with a property list (5.0): decodes as after the CONNECT.
  next.put(hex("30 06 00 01 61 00 68 69"), ec);
  ASSERT_TRUE(next.has_packet()) << next.last_failure().describe();
  EXPECT_EQ(std::get<publish_view>(next.get()).payload.size(), 2u);
  // A second CONNECT is refused, at its stream offset.
  next.put(connect, ec);
  EXPECT_EQ(ec, error::connect_repeated);
  EXPECT_EQ(next.error_offset(), connect.size() + 8);

  // A version set with protocol() carries over as set, CONNECT not required.
  decoder preset{role::server};
  preset.protocol(protocol_version::v3_1_1);
  decoder after{role::server};
  after.resume(preset.between_packets());
  after.put(hex("c0 00"), ec);
  EXPECT_TRUE(after.has_packet());
  after.reset();
  EXPECT_EQ(after.protocol(), protocol_version::v3_1_1);
}

struct accepted_case {
  const char* name;
  role self;
  std::optional<protocol_version> version;
  const char* hex;
  const char* json;
};

// Edge cases the spec allows; each must decode and re-encode byte-exact.
const accepted_case accepted[] = {
    {"v5 password without user name", role::server, std::nullopt,
     "10 10 00 04 4d 51 54 54 05 42 00 3c 00 00 01 63 00 00",
     R"({"type":"connect","protocol":"5","clean_start":true,"keep_alive":60,"client_id":"c","password":""})"},
    {"v5 empty client id without clean start", role::server, std::nullopt,
     "10 0d 00 04 4d 51 54 54 05 00 00 00 00 00 00",
     R"({"type":"connect","protocol":"5","clean_start":false,"keep_alive":0,"client_id":""})"},
    {"v5 AUTH with remaining length 0", role::server, protocol_version::v5, "f0 00",
     R"({"type":"auth","reason_code":0})"},
    {"v5 DISCONNECT with remaining length 0", role::client, protocol_version::v5, "e0 00",
     R"({"type":"disconnect","reason_code":0})"},
    {"v5 PUBACK short form", role::server, protocol_version::v5, "40 02 00 07",
     R"({"type":"puback","packet_id":7,"reason_code":0})"},
    {"v5 PUBACK reason code only", role::server, protocol_version::v5, "40 03 00 07 10",
     R"({"type":"puback","packet_id":7,"reason_code":16,"form":"reason_code"})"},
    {"shared subscription in 3.1.1", role::server, protocol_version::v3_1_1,
     "82 0f 00 01 00 0a 24 73 68 61 72 65 2f 67 2f 61 01",
     R"({"type":"subscribe","packet_id":1,"subscriptions":[{"filter":"$share/g/a","qos":1}]})"},
    {"topic alias at the maximum", role::server, protocol_version::v5, "30 07 00 01 61 03 23 ff ff",
     R"({"type":"publish","topic":"a","qos":0,"retain":false,"dup":false,"properties":[{"topic_alias":65535}],"payload":""})"},
    {"payload flagged UTF-8 is not checked by default", role::server, protocol_version::v5,
     "30 07 00 01 61 02 01 01 ff",
     R"({"type":"publish","topic":"a","qos":0,"retain":false,"dup":false,"properties":[{"payload_format_indicator":1}],"payload_base64":"/w=="})"},
    {"several subscription identifiers to a client", role::client, protocol_version::v5,
     "30 09 00 01 61 04 0b 01 0b 02 78",
     R"({"type":"publish","topic":"a","qos":0,"retain":false,"dup":false,"properties":[{"subscription_identifier":1},{"subscription_identifier":2}],"payload":"x"})"},
    {"MQIsdp CONNECT", role::server, std::nullopt,
     "10 0f 00 06 4d 51 49 73 64 70 03 02 00 3c 00 01 63",
     R"({"type":"connect","protocol":"3.1","clean_start":true,"keep_alive":60,"client_id":"c"})"},
    {"$SYS topic and multi-byte UTF-8", role::server, protocol_version::v3_1_1,
     "30 0c 00 07 24 53 59 53 2f c3 a9 e2 82 ac",
     "{\"type\":\"publish\",\"topic\":\"$SYS/\xC3\xA9\",\"qos\":0,\"retain\":false,\"dup\":false,"
     "\"payload\":\"\xE2\x82\xAC\"}"},
};

TEST(MqttDecoder, AcceptsWhatTheSpecAllows) {
  for (const auto& c : accepted) {
    SCOPED_TRACE(c.name);
    decoder d{c.self};
    if (c.version) d.protocol(*c.version);
    const auto bytes = hex(c.hex);
    std::error_code ec;
    EXPECT_EQ(d.put(bytes, ec), bytes.size());
    ASSERT_FALSE(ec) << d.last_failure().describe();
    const protocol_version v = *d.protocol();
    EXPECT_TRUE(test::json_equal(to_json(d.get(), v), c.json)) << to_json(d.get(), v);
    byte_buffer again;
    ASSERT_FALSE(encode(d.get(), v, again));
    EXPECT_EQ(to_hex(again), to_hex(bytes));
  }
}

TEST(MqttDecoder, ClientDefaultsToVersion5) {
  decoder d{role::client};
  EXPECT_EQ(d.protocol(), protocol_version::v5);
  std::error_code ec;
  d.put(hex("20 03 00 00 00"), ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(std::get<connack_view>(d.get()).reason, reason_code::success);
}

TEST(MqttDecoder, PayloadValidationIsOptIn) {
  decoder d{role::server};
  d.protocol(protocol_version::v5).validate_payload_utf8(true);
  std::error_code ec;
  d.put(hex("30 08 00 01 61 02 01 01 c3 a9"), ec);  // flagged UTF-8 and it is
  EXPECT_FALSE(ec);
  d.put(hex("30 07 00 01 61 02 01 00 ff"), ec);  // not flagged
  EXPECT_FALSE(ec);
  d.put(hex("30 07 00 01 61 02 01 01 ff"), ec);
  EXPECT_EQ(ec, error::payload_format_invalid);
  EXPECT_EQ(d.reason(), reason_code::payload_format_invalid);
}

TEST(MqttDecoder, FailureDescribesCodeOffsetAndReason) {
  decoder d{role::server};
  d.protocol(protocol_version::v3_1_1);
  std::error_code ec;
  d.put(hex("c0 00 30 05 00 03 61 2f 23"), ec);  // PINGREQ, then a topic with '#'
  ASSERT_FALSE(ec);
  d.put(hex("30 05 00 03 61 2f 23"), ec);
  EXPECT_EQ(ec, error::topic_name_invalid);
  const failure f = d.last_failure();
  EXPECT_EQ(f.where.offset, 4u);
  EXPECT_EQ(f.describe(),
            "topic name invalid (topic name), reason code 0x90 Topic Name invalid at byte 4");
}

}  // namespace
}  // namespace iotblocks::mqtt
