// The thermostat's firmware logic on the host: what it sends for what the broker
// sends, in one piece or byte by byte, and its anomaly flag.
#include "thermostat.hpp"

#include <iotblocks/mqtt/decoder.hpp>
#include <iotblocks/mqtt/encoder.hpp>

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

namespace {

namespace mqtt = iotblocks::mqtt;
using iotblocks::byte_buffer;

constexpr std::int64_t now = 1700000100;

// The broker's end of the connection: reads what the device sends (CONNECT first).
class broker_side {
 public:
  std::vector<mqtt::packet> read(const byte_buffer& bytes) {
    std::vector<mqtt::packet> out;
    std::error_code ec;
    d_.put_all(
        bytes, [&](const mqtt::packet_view& p) { out.push_back(mqtt::to_owning(p)); }, ec);
    EXPECT_FALSE(ec) << ec.message();
    return out;
  }

 private:
  mqtt::decoder d_{mqtt::role::server};
};

// A device whose CONNECT `broker` has read.
void connect(thermostat::device& dev, broker_side& broker) {
  byte_buffer out;
  ASSERT_FALSE(dev.start(out));
  ASSERT_EQ(broker.read(out).size(), 1u);
}

std::string text(const byte_buffer& b) { return std::string(iotblocks::as_string_view(b)); }

TEST(Thermostat, ConnectsSubscribesAppliesTheDeltaAndReportsIt) {
  thermostat::device dev{"thermostat-7"};
  broker_side broker;
  byte_buffer out;
  ASSERT_FALSE(dev.start(out));
  auto packets = broker.read(out);
  ASSERT_EQ(packets.size(), 1u);
  const auto& c = std::get<mqtt::connect>(packets[0]);
  EXPECT_EQ(c.client_id, "thermostat-7");
  EXPECT_EQ(c.version, mqtt::protocol_version::v5);

  out.clear();
  ASSERT_FALSE(dev.receive(thermostat::broker_script("thermostat-7"), now, out));
  packets = broker.read(out);
  ASSERT_EQ(packets.size(), 3u);  // SUBSCRIBE, the shadow update, PUBACK of the delta
  const auto& s = std::get<mqtt::subscribe>(packets[0]);
  ASSERT_EQ(s.subscriptions.size(), 2u);
  EXPECT_EQ(s.subscriptions[0].filter, "$aws/things/thermostat-7/shadow/update/delta");
  EXPECT_EQ(s.subscriptions[0].options.qos, 1);
  EXPECT_EQ(s.subscriptions[1].filter, "cmd/thermostat-7/#");
  const auto& update = std::get<mqtt::publish>(packets[1]);
  EXPECT_EQ(update.topic, "$aws/things/thermostat-7/shadow/update");
  EXPECT_EQ(update.qos, 1);
  EXPECT_EQ(text(update.payload), R"({"state":{"reported":{"setpoint":2250,"fan":"auto"}}})");
  const auto& ack = std::get<mqtt::puback>(packets[2]);
  EXPECT_EQ(ack.packet_id, 1);  // the delta's

  EXPECT_TRUE(dev.subscribed());
  EXPECT_EQ(dev.setpoint(), 2250);
  EXPECT_EQ(dev.deltas_applied(), 1u);
  EXPECT_EQ(dev.shadow().version(), 1);
  const auto doc = dev.shadow().get("", now, "thermostat-7");
  EXPECT_NE(doc.body.find(R"("reported":{"setpoint":2250,"fan":"auto"})"), std::string::npos)
      << doc.body;
}

TEST(Thermostat, ByteByByteGivesTheSameOutput) {
  thermostat::device whole{"t"}, bytewise{"t"};
  const auto script = thermostat::broker_script("t");
  byte_buffer a, b;
  ASSERT_FALSE(whole.receive(script, now, a));
  for (std::size_t i = 0; i < script.size(); ++i) {
    ASSERT_FALSE(bytewise.receive({&script[i], 1}, now, b)) << "at byte " << i;
  }
  EXPECT_EQ(a, b);
  EXPECT_EQ(bytewise.setpoint(), 2250);
}

TEST(Thermostat, FlagsASpikeAndPublishesTelemetry) {
  thermostat::device dev{"t"};
  broker_side broker;
  connect(dev, broker);
  byte_buffer out;
  for (int i = 0; i < 200; ++i) ASSERT_FALSE(dev.sample(2150 + (i * 7919) % 21 - 10, out));
  EXPECT_EQ(dev.anomalies(), 0u);
  out.clear();
  ASSERT_FALSE(dev.sample(3500, out));
  EXPECT_EQ(dev.anomalies(), 1u);
  const auto packets = broker.read(out);
  ASSERT_EQ(packets.size(), 1u);
  const auto& p = std::get<mqtt::publish>(packets[0]);
  EXPECT_EQ(p.topic, "dt/t/temperature");
  EXPECT_EQ(p.qos, 0);
  const std::string payload = text(p.payload);
  EXPECT_EQ(payload.rfind(R"({"centi_celsius":3500,"score_permille":)", 0), 0u) << payload;
  EXPECT_NE(payload.find(R"("anomaly":true})"), std::string::npos) << payload;
}

TEST(Thermostat, ResetCommandRestartsTheModel) {
  thermostat::device dev{"t"};
  byte_buffer out;
  for (int i = 0; i < 200; ++i) ASSERT_FALSE(dev.sample(2150 + (i % 3), out));
  ASSERT_FALSE(dev.receive(thermostat::broker_script("t"), now, out));
  // A fresh model has no history: a value far from the old mean is not an anomaly yet.
  ASSERT_FALSE(dev.sample(3500, out));
  EXPECT_EQ(dev.anomalies(), 0u);
}

TEST(Thermostat, IgnoresAnotherThingsCommands) {
  thermostat::device dev{"t"};
  byte_buffer out;
  for (int i = 0; i < 200; ++i) ASSERT_FALSE(dev.sample(2150 + (i % 3), out));
  mqtt::publish other;
  other.topic = "cmd/another-thing/anomaly";
  other.payload = iotblocks::to_buffer(std::string_view{"reset"});
  byte_buffer in;
  ASSERT_FALSE(mqtt::encode(mqtt::packet{other}, mqtt::protocol_version::v5, in));
  out.clear();
  ASSERT_FALSE(dev.receive(in, now, out));
  EXPECT_TRUE(out.empty());
  ASSERT_FALSE(dev.sample(3500, out));
  EXPECT_EQ(dev.anomalies(), 1u);
}

TEST(Thermostat, RefusesAMalformedStream) {
  thermostat::device dev{"t"};
  byte_buffer out;
  const byte_buffer qos3{std::byte{0x36}, std::byte{0x00}};  // PUBLISH with QoS 3
  EXPECT_EQ(dev.receive(qos3, now, out), mqtt::error::qos_invalid);
  EXPECT_TRUE(out.empty());
}

}  // namespace
