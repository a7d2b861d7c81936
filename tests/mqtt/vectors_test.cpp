// Cross-check with an independent implementation, both directions:
//  - tests/data/mqtt/mqtt_packet_vectors.json: bytes written by npm mqtt-packet
//    (generate.js); iotblocks must decode them to what mqtt-packet's parser read
//    and re-encode them byte for byte (from the view, the owning copy and JSON);
//  - tests/data/mqtt/iotblocks_vectors.json: bytes iotblocks encodes from JSON,
//    checked by mqtt-packet (check_iotblocks_vectors.js); iotblocks must still
//    produce exactly those bytes.
#include "support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iotblocks::mqtt {
namespace {

using test::hex;

struct vector_case {
  std::string name;
  protocol_version version;
  role self;
  byte_buffer bytes;
  std::string json;
};

std::vector<vector_case> load(const std::string& path) {
  std::vector<vector_case> out;
  const auto doc = test::load_json(path);
  for (const auto& v : doc["vectors"].GetArray()) {
    out.push_back({v["name"].GetString(), test::version_from(v["protocol"].GetString()),
                   test::role_from(v["role"].GetString()), hex(v["hex"].GetString()),
                   json::write(v["json"])});
  }
  return out;
}

std::string name_of(const testing::TestParamInfo<vector_case>& info) { return info.param.name; }

// Decodes `c.bytes` as one packet, checking it consumes everything.
packet decode_one(const vector_case& c, std::string& json_out) {
  decoder d{c.self};
  d.protocol(c.version);
  std::error_code ec;
  const std::size_t n = d.put(c.bytes, ec);
  EXPECT_FALSE(ec) << d.last_failure().describe();
  EXPECT_EQ(n, c.bytes.size());
  EXPECT_TRUE(d.has_packet());
  EXPECT_FALSE(d.buffered());  // the whole packet was in the span: zero-copy
  if (!d.has_packet()) return {};
  json_out = to_json(d.get(), c.version);
  byte_buffer again;
  EXPECT_FALSE(encode(d.get(), c.version, again));
  EXPECT_EQ(to_hex(again), to_hex(c.bytes)) << "re-encoded from the view";
  return to_owning(d.get());
}

class MqttPacketVectors : public testing::TestWithParam<vector_case> {};

TEST_P(MqttPacketVectors, DecodesLikeMqttPacketAndReencodesByteExact) {
  const vector_case& c = GetParam();
  std::string decoded_json;
  const packet owned = decode_one(c, decoded_json);
  EXPECT_TRUE(test::json_equal(decoded_json, c.json))
      << "iotblocks: " << decoded_json << "\nmqtt-packet: " << c.json;

  byte_buffer from_owned;
  ASSERT_FALSE(encode(owned, c.version, from_owned));
  EXPECT_EQ(to_hex(from_owned), to_hex(c.bytes)) << "re-encoded from the owning copy";
  EXPECT_EQ(to_json(owned, c.version), decoded_json);

#if IOTBLOCKS_EXCEPTIONS  // packet_from_json is built with exceptions only
  auto from_json = packet_from_json(c.json);
  ASSERT_TRUE(from_json) << from_json.describe();
  EXPECT_EQ(*from_json, owned);
  std::error_code ec;
  EXPECT_EQ(encoded_size(*from_json, c.version, ec), c.bytes.size());
  byte_buffer from_description;
  ASSERT_FALSE(encode(*from_json, c.version, from_description));
  EXPECT_EQ(to_hex(from_description), to_hex(c.bytes)) << "encoded from mqtt-packet's description";
#endif
}

TEST_P(MqttPacketVectors, OneByteAtATimeGivesTheSamePacket) {
  const vector_case& c = GetParam();
  decoder d{c.self};
  d.protocol(c.version);
  std::error_code ec;
  for (std::size_t i = 0; i < c.bytes.size(); ++i) {
    ASSERT_EQ(d.put(bytes_view{c.bytes}.subspan(i, 1), ec), 1u);
    if (i + 1 < c.bytes.size()) {
      ASSERT_EQ(ec, error::need_more) << "at byte " << i << ": " << d.last_failure().describe();
    }
  }
  ASSERT_FALSE(ec) << d.last_failure().describe();
  ASSERT_TRUE(d.has_packet());
  EXPECT_EQ(d.buffered(), c.bytes.size() > 2);
  EXPECT_TRUE(test::json_equal(to_json(d.get(), c.version), c.json));
}

INSTANTIATE_TEST_SUITE_P(MqttPacket, MqttPacketVectors,
                         testing::ValuesIn(load("tests/data/mqtt/mqtt_packet_vectors.json")),
                         name_of);

class IotblocksVectors : public testing::TestWithParam<vector_case> {};

TEST_P(IotblocksVectors, EncodesTheCommittedBytesAndDecodesThemBack) {
  const vector_case& c = GetParam();
  std::string decoded_json;
  const packet owned = decode_one(c, decoded_json);
#if IOTBLOCKS_EXCEPTIONS
  auto p = packet_from_json(c.json);
  ASSERT_TRUE(p) << p.describe();
  EXPECT_EQ(owned, *p);
#else  // packet_from_json is built with exceptions only: encode the decoded packet
  const packet* p = &owned;
#endif
  byte_buffer out;
  ASSERT_FALSE(encode(*p, c.version, out));
  EXPECT_EQ(to_hex(out), to_hex(c.bytes));
  EXPECT_TRUE(test::json_equal(decoded_json, c.json)) << decoded_json;
}

INSTANTIATE_TEST_SUITE_P(Iotblocks, IotblocksVectors,
                         testing::ValuesIn(load("tests/data/mqtt/iotblocks_vectors.json")),
                         name_of);

}  // namespace
}  // namespace iotblocks::mqtt
