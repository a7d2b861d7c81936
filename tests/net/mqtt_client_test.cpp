// mqtt_client against a real mosquitto 2.0 broker started on a free loopback port.
#include <iotblocks/net/mqtt_client.hpp>

#include "net/mosquitto_broker.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "net/run_until.hpp"

#include <functional>
#include <string>
#include <vector>

namespace iotblocks::net {
namespace {

using testing::mosquitto_broker;

struct received {
  std::string topic;
  std::string payload;
  int qos;
};

// Runs the io_context until `done` holds; false after a generous 30 s deadline
// (a hang guard, not a timing assertion).
using iotblocks::testing::run_until;

mqtt_client_options options_for(const mosquitto_broker& b, std::string id,
                                mqtt::protocol_version v = mqtt::protocol_version::v3_1_1) {
  mqtt_client_options o;
  o.port = b.port();
  o.client_id = std::move(id);
  o.version = v;
  return o;
}

class MqttClient : public ::testing::TestWithParam<mqtt::protocol_version> {};

TEST_P(MqttClient, PublishesAndReceivesEachQos) {
  mosquitto_broker broker;
  boost::asio::io_context io;
  mqtt_client c{io.get_executor(), options_for(broker, "roundtrip", GetParam())};
  std::vector<received> got;
  int connected = 0, acked = 0, subscribed = 0;
  std::vector<mqtt::reason_code> granted;
  c.on_message([&](const mqtt::publish_view& p) {
    got.push_back({std::string{p.topic}, std::string{as_string_view(p.payload)}, p.qos});
  });
  c.on_connect([&](std::error_code ec, bool) {
    ASSERT_FALSE(ec) << ec.message();
    ++connected;
    c.subscribe({{"greenhouse/#", {.qos = 2}}}, [&](std::error_code e, auto codes) {
      ASSERT_FALSE(e);
      granted = codes;
      ++subscribed;
      for (std::uint8_t q = 0; q < 3; ++q)
        c.publish("greenhouse/lux/" + std::to_string(q), to_buffer("lux=" + std::to_string(q)), q,
                  false, [&](std::error_code pe) {
                    EXPECT_FALSE(pe);
                    ++acked;
                  });
    });
  });
  c.connect();
  ASSERT_TRUE(run_until(io, [&] { return got.size() == 3 && acked == 3; }));
  EXPECT_TRUE(c.connected());
  ASSERT_EQ(granted.size(), 1u);
  EXPECT_EQ(static_cast<int>(granted[0]), 2);
  std::sort(got.begin(), got.end(), [](auto& a, auto& b) { return a.topic < b.topic; });
  for (int q = 0; q < 3; ++q) {
    EXPECT_EQ(got[static_cast<std::size_t>(q)].topic, "greenhouse/lux/" + std::to_string(q));
    EXPECT_EQ(got[static_cast<std::size_t>(q)].payload, "lux=" + std::to_string(q));
    EXPECT_EQ(got[static_cast<std::size_t>(q)].qos, q);
  }
  bool closed = false;
  c.disconnect([&](std::error_code ec) {
    EXPECT_FALSE(ec) << ec.message();
    closed = true;
  });
  ASSERT_TRUE(run_until(io, [&] { return closed; }));
  EXPECT_FALSE(c.connected());
}

TEST_P(MqttClient, WindowKeepsManyQos1PublishesInOrder) {
  mosquitto_broker broker;
  boost::asio::io_context io;
  auto o = options_for(broker, "window", GetParam());
  o.max_in_flight = 8;
  mqtt_client c{io.get_executor(), o};
  std::vector<std::string> got;
  int acked = 0;
  constexpr int count = 500;
  c.on_message([&](const mqtt::publish_view& p) { got.emplace_back(as_string_view(p.payload)); });
  c.on_connect([&](std::error_code ec, bool) {
    ASSERT_FALSE(ec);
    c.subscribe({{"w", {.qos = 1}}}, [&](std::error_code, auto) {
      for (int i = 0; i < count; ++i)
        c.publish("w", to_buffer(std::to_string(i)), 1, false, [&](std::error_code e) {
          EXPECT_FALSE(e);
          ++acked;
        });
    });
  });
  c.connect();
  ASSERT_TRUE(run_until(io, [&] { return acked == count && got.size() == count; }));
  for (int i = 0; i < count; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], std::to_string(i));
}

TEST_P(MqttClient, UnsubscribeStopsDelivery) {
  mosquitto_broker broker;
  boost::asio::io_context io;
  mqtt_client c{io.get_executor(), options_for(broker, "unsub", GetParam())};
  std::vector<std::string> got;
  bool marker = false;
  c.on_message([&](const mqtt::publish_view& p) {
    got.emplace_back(p.topic);
    if (p.topic == "b") marker = true;
  });
  c.on_connect([&](std::error_code, bool) {
    c.subscribe({{"a", {.qos = 1}}, {"b", {.qos = 1}}}, [&](std::error_code, auto) {
      c.unsubscribe({"a"}, [&](std::error_code e) {
        EXPECT_FALSE(e);
        c.publish("a", to_buffer("x"), 1, false);
        c.publish("b", to_buffer("y"), 1, false);
      });
    });
  });
  c.connect();
  ASSERT_TRUE(run_until(io, [&] { return marker; }));
  EXPECT_EQ(got, std::vector<std::string>{"b"});
}

TEST_P(MqttClient, ReconnectsWithBackoffAndSendsQueuedMessages) {
  auto port = testing::free_loopback_port();
  boost::asio::io_context io;
  mqtt_client_options o;
  o.port = port;
  o.client_id = "reconnect";
  o.version = GetParam();
  o.reconnect = true;
  o.backoff_initial = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(200);
  mqtt_client c{io.get_executor(), o};
  int failures = 0, connects = 0;
  bool acked = false;
  c.on_connect([&](std::error_code ec, bool) { ec ? ++failures : ++connects; });
  c.connect();
  // Queued while no broker listens: delivered after the connection comes up.
  c.publish("queued", to_buffer("1"), 1, false, [&](std::error_code e) {
    EXPECT_FALSE(e);
    acked = true;
  });
  ASSERT_TRUE(run_until(io, [&] { return failures >= 2; }));
  mosquitto_broker broker{port};
  ASSERT_TRUE(run_until(io, [&] { return connects == 1 && acked; }));
  // Broker restart: the client notices and reconnects.
  broker.stop();
  broker.start();
  ASSERT_TRUE(run_until(io, [&] { return connects == 2; }));
  bool closed = false;
  c.disconnect([&](std::error_code) { closed = true; });
  ASSERT_TRUE(run_until(io, [&] { return closed; }));
}

TEST_P(MqttClient, RefusedConnectionReportsError) {
  boost::asio::io_context io;
  mqtt_client_options o;
  o.port = testing::free_loopback_port();
  o.version = GetParam();
  mqtt_client c{io.get_executor(), o};
  std::error_code result;
  bool called = false;
  c.on_connect([&](std::error_code ec, bool) {
    result = ec;
    called = true;
  });
  c.connect();
  bool published = false;
  ASSERT_TRUE(run_until(io, [&] { return called; }));
  EXPECT_TRUE(result);
  c.publish("t", to_buffer("x"), 1, false, [&](std::error_code e) {
    EXPECT_TRUE(e);
    published = true;
  });
  ASSERT_TRUE(run_until(io, [&] { return published; }));
}

INSTANTIATE_TEST_SUITE_P(Versions, MqttClient,
                         ::testing::Values(mqtt::protocol_version::v3_1_1,
                                           mqtt::protocol_version::v5),
                         [](const auto& param_info) {
                           return param_info.param == mqtt::protocol_version::v5 ? "v5" : "v311";
                         });

}  // namespace
}  // namespace iotblocks::net
