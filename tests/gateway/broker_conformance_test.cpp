// The broker's answers at the edges of MQTT conformance, seen by a raw client
// on 127.0.0.1: Receive Maximum exceeded by a client that floods and reads only
// afterwards (the paho interoperability suite's flow_control2 shape), a
// CONNACK with a reason code before every refused CONNECT, and the rule for
// control characters (both settings, and the gateway config key).
#include "gateway/broker_test_client.hpp"

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/net_broker/handler.hpp>

#include <gtest/gtest.h>
#include <boost/asio/error.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace iotblocks::gateway {
namespace {

using broker::action;
using broker::broker_options;
using broker::client_info;
using broker::message;

using mqtt::reason_code;
using testing::payload_of;
using testing::raw_client;
using namespace std::chrono_literals;

class BrokerConformance : public ::testing::Test {
 protected:
  void start(broker_options o = {}, net::server_options so = {}) {
    broker_ = std::make_unique<broker::broker>(o);
    handler_ = std::make_unique<net_broker::handler>(*broker_);
    so.threads = 2;
    server_ = std::make_unique<net::server>(so);
    port_ = server_->listen(testing::loopback()).value();
    server_->start(*handler_);
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  // A second client still gets a QoS 1 message through the broker.
  void expect_others_served(const std::string& topic) {
    raw_client sub(port_);
    ASSERT_EQ(sub.connect("bystander-sub", true).reason, reason_code::success);
    ASSERT_EQ(sub.subscribe(topic, 1), std::vector<reason_code>{reason_code::granted_qos_1});
    raw_client pub(port_);
    ASSERT_EQ(pub.connect("bystander-pub", true).reason, reason_code::success);
    pub.publish(topic, "still here", 1);
    EXPECT_TRUE(pub.next_of<mqtt::puback>());
    auto got = sub.next_of<mqtt::publish>();
    ASSERT_TRUE(got);
    EXPECT_EQ(payload_of(*got), "still here");
  }

  // Sends `c` and expects a CONNACK with `why`, then the end of the stream.
  void expect_refused(mqtt::connect c, reason_code why, const std::string& what,
                      mqtt::protocol_version v = mqtt::protocol_version::v5) {
    SCOPED_TRACE(what);
    raw_client client(port_, v);
    c.version = v;
    client.send(mqtt::packet{std::move(c)});
    auto p = client.next(5s);
    ASSERT_TRUE(p) << "closed without a CONNACK: " << client.error().message();
    auto* ack = std::get_if<mqtt::connack>(&*p);
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->reason, why);
    EXPECT_FALSE(client.next(5s));
    EXPECT_EQ(client.error(), boost::asio::error::eof) << client.error().message();
  }

  // Sends `c` and expects the connection to close with no packet.
  void expect_closed(mqtt::connect c, const std::string& what,
                     mqtt::protocol_version v = mqtt::protocol_version::v3_1_1) {
    SCOPED_TRACE(what);
    raw_client client(port_, v);
    c.version = v;
    client.send(mqtt::packet{std::move(c)});
    EXPECT_FALSE(client.next(5s));
    EXPECT_TRUE(client.eof());
  }

  std::unique_ptr<broker::broker> broker_;
  std::unique_ptr<net_broker::handler> handler_;
  std::unique_ptr<net::server> server_;
  std::uint16_t port_ = 0;
};

mqtt::connect named(const std::string& id) {
  mqtt::connect c;
  c.client_id = id;
  c.clean_start = true;
  return c;
}

mqtt::connect with_will(const std::string& id, const std::string& topic) {
  auto c = named(id);
  c.will.emplace();
  c.will->topic = topic;
  c.will->payload = to_buffer("gone");
  return c;
}

// --- flow control ------------------------------------------------------------

TEST_F(BrokerConformance, FloodPastReceiveMaximumThenReadGetsDisconnect0x93) {
  broker_options o;
  o.receive_maximum = 4;
  start(o);
  raw_client c(port_);
  ASSERT_EQ(c.connect("flooder", true).properties.receive_maximum(), 4);
  // QoS 2 without PUBREL stays unacknowledged: the 5th exceeds the maximum. The
  // client goes on sending for a while after the broker's DISCONNECT, reading
  // nothing; a socket closed on that unread input would answer with a reset.
  const std::string payload(200, 'x');
  for (int i = 0; i < 150; ++i) {
    c.publish("flow/flood", payload, 2);
    if (i >= 4) std::this_thread::sleep_for(2ms);
  }
  EXPECT_FALSE(c.error()) << "a write failed: " << c.error().message();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(c.next_of<mqtt::pubrec>()) << i;
  auto d = c.next_of<mqtt::disconnect>();
  ASSERT_TRUE(d) << c.error().message();
  EXPECT_EQ(d->reason, reason_code::receive_maximum_exceeded);
  EXPECT_FALSE(c.next(5s));  // then the end of the stream, not a reset
  EXPECT_EQ(c.error(), boost::asio::error::eof) << c.error().message();
  expect_others_served("flow/others");
}

TEST_F(BrokerConformance, AClientThatNeverStopsSendingIsCutOffAfterTheLingerTime) {
  broker_options o;
  o.receive_maximum = 1;
  net::server_options so;
  so.close_linger = 300ms;
  start(o, so);
  raw_client c(port_);
  ASSERT_EQ(c.connect("hose", true).reason, reason_code::success);
  const auto began = std::chrono::steady_clock::now();
  const std::string payload(100, 'x');
  while (!c.error() && std::chrono::steady_clock::now() - began < 10s) {
    c.publish("flow/hose", payload, 2);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(c.error()) << "still open after 10 s";
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s);
  expect_others_served("flow/others");
}

TEST_F(BrokerConformance, AClientThatFloodsIsCutOffAfterTheLingerBytes) {
  broker_options o;
  o.receive_maximum = 1;
  net::server_options so;
  so.close_linger = 60s;  // the byte bound must end it long before
  so.close_linger_bytes = 64 * 1024;
  start(o, so);
  raw_client c(port_);
  ASSERT_EQ(c.connect("bulk", true).reason, reason_code::success);
  const auto began = std::chrono::steady_clock::now();
  const std::string payload(4096, 'x');
  while (!c.error() && std::chrono::steady_clock::now() - began < 30s) {
    c.publish("flow/bulk", payload, 2);
  }
  EXPECT_TRUE(c.error()) << "still open after 30 s";
  EXPECT_LT(std::chrono::steady_clock::now() - began, 20s);
}

// --- a CONNACK before every refusal --------------------------------------------

TEST_F(BrokerConformance, RefusedV5ConnectGetsConnackWithTheReason) {
  start();
  {
    auto c = named("alias");  // Topic Alias does not belong in CONNECT (2.2.2.2)
    c.properties.set_topic_alias(1);
    expect_refused(c, reason_code::malformed_packet, "property not allowed in CONNECT");
  }
  {
    auto c = named("twice");  // 3.1.2.11.2: Session Expiry Interval twice
    c.properties.set_session_expiry_interval(5);
    mqtt::property again;
    again.id = mqtt::property_id::session_expiry_interval;
    again.number = 6;
    c.properties.add(again);
    expect_refused(c, reason_code::protocol_error, "duplicate property");
  }
  expect_refused(named("bad\xFF"), reason_code::malformed_packet, "ill-formed UTF-8 client id");
  {
    auto c = named("zero");  // 3.1.2.11.3: Receive Maximum 0
    c.properties.set_receive_maximum(0);
    expect_refused(c, reason_code::protocol_error, "Receive Maximum 0");
  }
  {
    auto c = named("data");  // 3.1.2.11.10: Authentication Data without Method
    c.properties.set_authentication_data(bytes_view{});
    expect_refused(c, reason_code::protocol_error, "authentication data without method");
  }
  expect_refused(with_will("wild", "will/+"), reason_code::topic_name_invalid,
                 "will topic with a wildcard");
  {
    auto c = with_will("willprop", "will/x");  // Session Expiry is no will property
    c.will->properties.set_session_expiry_interval(5);
    expect_refused(c, reason_code::malformed_packet, "property not allowed in the will");
  }
  {
    auto c = with_will("willdup", "will/x");
    c.will->properties.set_will_delay_interval(1);
    mqtt::property again;
    again.id = mqtt::property_id::will_delay_interval;
    again.number = 2;
    c.will->properties.add(again);
    expect_refused(c, reason_code::protocol_error, "duplicate will property");
  }
  EXPECT_GE(broker_->stats().rejected_connects.load(), 8u);
  expect_others_served("refusal/others");
}

TEST_F(BrokerConformance, RefusedV311ConnectGetsAReturnCodeWhereOneExists) {
  start();
  constexpr auto v311 = mqtt::protocol_version::v3_1_1;
  // MQTT-3.1.3-9: a rejected client id gets return code 0x02.
  auto c = named("");
  c.clean_start = false;
  expect_refused(c, static_cast<reason_code>(2), "empty client id, persistent session", v311);
  // No return code for a malformed CONNECT: closed.
  expect_closed(named("bad\xFF"), "ill-formed UTF-8 client id");
  expect_closed(with_will("wild", "will/#"), "will topic with a wildcard");
  // MQTT-3.1.2-2: an unsupported protocol level gets return code 0x01.
  byte_buffer bytes;
  auto level = named("future");
  level.version = v311;
  ASSERT_FALSE(mqtt::encode(mqtt::packet{level}, v311, bytes));
  bytes[8] = std::byte{6};  // 10 len 00 04 'M' 'Q' 'T' 'T' <level>
  raw_client client(port_, v311);
  client.send_bytes(bytes);
  auto p = client.next(5s);
  ASSERT_TRUE(p) << client.error().message();
  auto* ack = std::get_if<mqtt::connack>(&*p);
  ASSERT_TRUE(ack);
  EXPECT_EQ(static_cast<int>(ack->reason), 1);
  EXPECT_FALSE(client.next(5s));
}

// --- control characters ----------------------------------------------------------

// Control characters of both ranges, and U+00A0 (0xC2 0xA0), the first one after.
const std::string c0 = "\x01", del = "\x7F", c1_first = "\xC2\x80", c1_last = "\xC2\x9F",
                  nbsp = "\xC2\xA0";

TEST_F(BrokerConformance, ControlCharactersAllowedByDefault) {
  start();
  raw_client sub(port_);
  ASSERT_EQ(sub.connect("ctl" + c0 + "sub", true).reason, reason_code::success);
  ASSERT_EQ(sub.subscribe("ctl/" + c1_last + "/#", 1),
            std::vector<reason_code>{reason_code::granted_qos_1});
  raw_client pub(port_);
  ASSERT_EQ(pub.connect("pub", true, 0, with_will("pub", "will/" + del)).reason,
            reason_code::success);
  pub.publish("ctl/" + c1_last + "/" + c1_first, "v", 1);
  auto ack = pub.next_of<mqtt::puback>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason, reason_code::success);
  auto got = sub.next_of<mqtt::publish>();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "ctl/" + c1_last + "/" + c1_first);
}

TEST_F(BrokerConformance, ControlCharactersRefusedAsMalformedWhenConfigured) {
  broker_options o;
  o.control_characters = broker::control_character_rule::refuse;
  start(o);
  expect_refused(named("id" + c0), reason_code::malformed_packet, "client id U+0001");
  expect_refused(named("id" + del), reason_code::malformed_packet, "client id U+007F");
  expect_refused(with_will("w", "will/" + c1_first), reason_code::malformed_packet,
                 "will topic U+0080");
  expect_closed(named("id" + c1_last), "3.1.1 client id U+009F");
  expect_closed(with_will("w311", "will/\x1F"), "3.1.1 will topic U+001F");
  for (const auto& [topic, what] :
       {std::pair{"t/" + del, "topic U+007F"}, std::pair{"t/" + c1_last, "topic U+009F"}}) {
    SCOPED_TRACE(what);
    raw_client c(port_);
    ASSERT_EQ(c.connect("publisher", true).reason, reason_code::success);
    c.publish(topic, "v", 1);
    auto d = c.next_of<mqtt::disconnect>();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->reason, reason_code::malformed_packet);
  }
  {
    raw_client c(port_);
    ASSERT_EQ(c.connect("subscriber", true).reason, reason_code::success);
    mqtt::subscribe s;
    s.packet_id = 1;
    s.subscriptions.push_back({"t/" + c0 + "/#", {.qos = 1}});
    c.send(mqtt::packet{std::move(s)});
    auto d = c.next_of<mqtt::disconnect>();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->reason, reason_code::malformed_packet);
  }
  {
    raw_client c(port_, mqtt::protocol_version::v3_1_1);
    ASSERT_EQ(c.connect("publisher311", true).reason, reason_code::success);
    c.publish("t/" + c0, "v", 1);
    EXPECT_FALSE(c.next_of<mqtt::puback>(5s));
    EXPECT_TRUE(c.eof());
  }
  // The characters after the ranges are fine.
  raw_client ok(port_);
  ASSERT_EQ(ok.connect("nbsp" + nbsp, true).reason, reason_code::success);
  ASSERT_EQ(ok.subscribe("n/" + nbsp, 1), std::vector<reason_code>{reason_code::granted_qos_1});
  ok.publish("n/" + nbsp, "v", 1);
  auto got = ok.next_of<mqtt::publish>();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "n/" + nbsp);
}

TEST(BrokerConformanceConfig, ControlCharactersKey) {
  auto def = parse_config(R"({})");
  ASSERT_TRUE(def) << def.describe();
  EXPECT_EQ(def->broker.control_characters, broker::control_character_rule::allow);
  auto refuse = parse_config(R"({"limits": {"control_characters": "refuse"}})");
  ASSERT_TRUE(refuse) << refuse.describe();
  EXPECT_EQ(refuse->broker.control_characters, broker::control_character_rule::refuse);
  auto bad = parse_config(R"({"limits": {"control_characters": "strip"}})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.describe().find("limits.control_characters"), std::string::npos) << bad.describe();
}

}  // namespace
}  // namespace iotblocks::gateway
