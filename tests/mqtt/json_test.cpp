// Packets as JSON: lossless both ways, strict when reading.
#include "support.hpp"

#include <iotblocks/core/error.hpp>

#include <gtest/gtest.h>

namespace iotblocks::mqtt {
namespace {

TEST(MqttJson, BinaryIsTextWhenItCanBe) {
  publish p;
  p.topic = "a";
  p.payload = test::hex("00 01");
  EXPECT_EQ(
      to_json(packet{p}, protocol_version::v3_1_1),
      R"({"type":"publish","topic":"a","qos":0,"retain":false,"dup":false,"payload_base64":"AAE="})");
  p.payload = to_buffer("caf\xC3\xA9");
  EXPECT_EQ(to_json(packet{p}, protocol_version::v3_1_1),
            "{\"type\":\"publish\",\"topic\":\"a\",\"qos\":0,\"retain\":false,\"dup\":false,"
            "\"payload\":\"caf\xC3\xA9\"}");
}

TEST(MqttJson, ReadsWhatItWrites) {
  connect c;
  c.client_id = "probe";
  c.keep_alive = 30;
  c.properties.set_session_expiry_interval(60).add_user_property("k", "v");
  c.will.emplace();
  c.will->topic = "w";
  c.will->qos = 2;
  c.will->payload = test::hex("ff");
  c.will->properties.set_will_delay_interval(9);
  c.password = test::hex("0102");
  const std::string j = to_json(packet{c}, protocol_version::v5);
  auto back = packet_from_json(j);
  ASSERT_TRUE(back) << back.describe();
  EXPECT_EQ(std::get<connect>(*back), c);
}

TEST(MqttJson, RejectsWhatItDoesNotKnow) {
  struct bad {
    const char* json;
    const char* message;
  };
  for (const bad& b : {
           bad{R"({"type":"publish","topik":"a"})", "unknown key \"topik\" in packet"},
           bad{R"({"type":"publosh"})", "unknown packet type \"publosh\""},
           bad{R"({"topic":"a"})", "missing \"type\""},
           bad{R"({"type":"publish","qos":"1"})", "\"qos\" must be an integer from 0 to 2"},
           bad{R"({"type":"puback","packet_id":65536})",
               "\"packet_id\" must be an integer from 0 to 65535"},
           bad{R"({"type":"publish","payload_base64":"!!"})", "\"payload_base64\" is not base64"},
           bad{R"({"type":"publish","payload":"a","payload_base64":"YQ=="})",
               "both \"payload\" and \"payload_base64\""},
           bad{R"({"type":"auth","properties":[{"colour":"red"}]})", "unknown property \"colour\""},
           bad{R"({"type":"auth","properties":[{"topic_alias":70000}]})",
               "property \"topic_alias\" must be an integer from 0 to 65535"},
           bad{R"({"type":"auth","properties":[{"user_property":"x"}]})",
               "user_property must be [name, value]"},
           bad{R"({"type":"disconnect","form":"long"})",
               "\"form\" must be \"shortest\", \"reason_code\" or \"properties\""},
       }) {
    auto r = packet_from_json(b.json);
    ASSERT_FALSE(r) << b.json;
    EXPECT_EQ(r.error(), iotblocks::core::error::invalid_argument);
    EXPECT_EQ(r.fail().message, b.message);
  }
  auto syntax = packet_from_json("{\"type\":\n}");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error(), iotblocks::core::error::invalid_json);
  EXPECT_EQ(syntax.fail().where.line, 2u);
}

}  // namespace
}  // namespace iotblocks::mqtt
