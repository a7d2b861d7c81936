// net::bridge against a real mosquitto 2.0 started on a free loopback port: the
// local side is the bridge's sink and offer(); a plain mqtt_client ("watcher")
// plays the upstream's other clients.
#include <iotblocks/net/bridge.hpp>

#include "net/mosquitto_broker.hpp"
#include "net/test_servers.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "net/run_until.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace iotblocks::net {
namespace {

using testing::mosquitto_broker;
using d = bridge_direction;

struct seen {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

// Runs the io_context until `done` holds; false after 30 s (a hang guard only).
using iotblocks::testing::run_until;

bridge_options options_for(std::uint16_t port, mqtt::protocol_version v,
                           std::vector<bridge_topic> topics) {
  bridge_options o;
  o.name = "test-bridge";
  o.client.port = port;
  o.client.version = v;
  o.client.client_id = "bridge-under-test";
  o.client.backoff_initial = std::chrono::milliseconds(50);
  o.client.backoff_max = std::chrono::milliseconds(200);
  o.notifications = false;
  o.topics = std::move(topics);
  return o;
}

/// A client of the upstream broker that records what it receives.
struct watcher {
  watcher(boost::asio::io_context& io, std::uint16_t port, std::string filter)
      : client(io.get_executor(), [&] {
          mqtt_client_options o;
          o.port = port;
          o.client_id = "watcher";
          return o;
        }()) {
    client.on_message([this](const mqtt::publish_view& p) {
      got.push_back(
          {std::string(p.topic), std::string(as_string_view(p.payload)), p.qos, p.retain});
    });
    client.on_connect([this, filter](std::error_code ec, bool) {
      if (ec) return;
      client.subscribe({{filter, {.qos = 1}}},
                       [this](std::error_code, auto) { subscribed = true; });
    });
    client.connect();
  }
  mqtt_client client;
  std::vector<seen> got;
  bool subscribed = false;
};

class Bridge : public ::testing::TestWithParam<mqtt::protocol_version> {};

TEST_P(Bridge, ExportsAndImportsUnderPrefixes) {
  mosquitto_broker upstream;
  boost::asio::io_context io;
  std::vector<seen> local;
  bridge b{
      io.get_executor(),
      options_for(upstream.port(), GetParam(),
                  {{"#", d::out, 1, "site/", "up/site/"}, {"cmd/#", d::in, 1, "dev/", "cloud/"}}),
      [&](bridged_message m) {
        local.push_back({m.topic, std::string(as_string_view(m.payload)), m.qos, m.retain});
      }};
  watcher w{io, upstream.port(), "#"};
  b.start();
  ASSERT_TRUE(run_until(io, [&] { return w.subscribed && b.stats().connected; }));
  EXPECT_TRUE(b.offer("site/lux", as_bytes("36250"), 1, false));
  EXPECT_FALSE(b.offer("elsewhere/lux", as_bytes("1"), 1, false));  // not under the prefix
  ASSERT_TRUE(run_until(io, [&] { return !w.got.empty(); }));
  EXPECT_EQ(w.got[0].topic, "up/site/lux");
  EXPECT_EQ(w.got[0].payload, "36250");

  w.client.publish("cloud/cmd/open", to_buffer("shade=1"), 1, false);
  w.client.publish("cloud/other", to_buffer("x"), 1, false);  // not imported
  ASSERT_TRUE(run_until(io, [&] { return !local.empty(); }));
  EXPECT_EQ(local[0].topic, "dev/cmd/open");
  EXPECT_EQ(local[0].payload, "shade=1");
  EXPECT_EQ(local[0].qos, 1);
  const auto s = b.stats();
  EXPECT_EQ(s.exported, 1u);
  EXPECT_EQ(s.imported, 1u);
  EXPECT_EQ(s.connects, 1u);
}

TEST_P(Bridge, BothDirectionsDoNotEchoBack) {
  mosquitto_broker upstream;
  boost::asio::io_context io;
  std::vector<seen> local;
  bridge b{io.get_executor(),
           options_for(upstream.port(), GetParam(), {{"#", d::both, 1, "l/", "r/"}}),
           [&](bridged_message m) {
             local.push_back({m.topic, std::string(as_string_view(m.payload)), m.qos, m.retain});
           }};
  watcher w{io, upstream.port(), "r/#"};
  b.start();
  ASSERT_TRUE(run_until(io, [&] { return w.subscribed && b.stats().connected; }));
  ASSERT_TRUE(b.offer("l/a", as_bytes("from-local"), 1, false));
  ASSERT_TRUE(run_until(io, [&] { return !w.got.empty(); }));
  EXPECT_EQ(w.got[0].topic, "r/a");
  // The watcher publishes after it saw r/a: an echo of r/a would reach the bridge
  // before this message, on the same connection.
  w.client.publish("r/b", to_buffer("from-remote"), 1, false);
  ASSERT_TRUE(run_until(io, [&] { return !local.empty(); }));
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].topic, "l/b");
  EXPECT_EQ(local[0].payload, "from-remote");
  const auto s = b.stats();
  if (GetParam() == mqtt::protocol_version::v5) {
    EXPECT_EQ(s.dropped_echo, 0u);  // no-local: the upstream never sent it back
  } else {
    EXPECT_EQ(s.dropped_echo, 1u);  // 3.1.1: the echo came back and was recognised
  }
  EXPECT_EQ(s.imported, 1u);
}

TEST_P(Bridge, QueuesWhileTheUpstreamIsDownBoundedAndCounted) {
  mosquitto_broker upstream;
  upstream.stop();
  boost::asio::io_context io;
  auto o = options_for(upstream.port(), GetParam(), {{"q/#", d::out, 1, "", "up/"}});
  o.client.max_queued = 40;
  bridge b{io.get_executor(), o, {}};
  b.start();
  for (int i = 0; i < 50; ++i)
    b.offer("q/" + std::to_string(i), as_bytes("m" + std::to_string(i)), 1, true);
  ASSERT_TRUE(run_until(io, [&] { return b.stats().connect_failures >= 2; }));
  auto s = b.stats();
  EXPECT_FALSE(s.connected);
  EXPECT_EQ(s.dropped_full, 10u);
  EXPECT_EQ(s.pending, 40u);

  upstream.start();
  ASSERT_TRUE(run_until(io, [&] { return b.stats().pending == 0; }));
  EXPECT_TRUE(b.stats().connected);
  // Retained upstream, so a subscriber arriving now sees what was delivered.
  watcher w{io, upstream.port(), "up/#"};
  ASSERT_TRUE(run_until(io, [&] { return w.got.size() == 40; }));
  std::vector<std::string> topics;
  for (const auto& g : w.got) topics.push_back(g.topic + "=" + g.payload);
  std::sort(topics.begin(), topics.end());
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i)
    expected.push_back("up/q/" + std::to_string(i) + "=m" + std::to_string(i));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(topics, expected);
}

TEST_P(Bridge, PublishesConnectionStateNotifications) {
  mosquitto_broker upstream;
  boost::asio::io_context io;
  auto o = options_for(upstream.port(), GetParam(), {{"n/#", d::out, 0, "", ""}});
  o.notifications = true;
  std::vector<seen> local;
  bridge b{io.get_executor(), o, [&](bridged_message m) {
             local.push_back({m.topic, std::string(as_string_view(m.payload)), m.qos, m.retain});
           }};
  watcher w{io, upstream.port(), "$SYS/broker/connection/#"};
  ASSERT_TRUE(run_until(io, [&] { return w.subscribed; }));
  b.start();
  ASSERT_TRUE(run_until(io, [&] { return local.size() == 2; }));
  const std::string topic = "$SYS/broker/connection/bridge-under-test/state";
  EXPECT_EQ(local[0].topic, topic);
  EXPECT_EQ(local[0].payload, "0");
  EXPECT_TRUE(local[0].retain);
  EXPECT_EQ(local[1].payload, "1");
  upstream.stop();
  ASSERT_TRUE(run_until(io, [&] { return local.size() == 3; }));
  EXPECT_EQ(local[2].payload, "0");
}

INSTANTIATE_TEST_SUITE_P(Versions, Bridge,
                         ::testing::Values(mqtt::protocol_version::v3_1_1,
                                           mqtt::protocol_version::v5),
                         [](const ::testing::TestParamInfo<mqtt::protocol_version>& p) {
                           return p.param == mqtt::protocol_version::v5 ? "v5" : "v3_1_1";
                         });

// Mutual TLS to the upstream, as to AWS IoT: the server certificate is verified
// against the CA file (and its IP SAN), the bridge presents its certificate.
TEST(BridgeTls, ConnectsWithAClientCertificate) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("iotblocks-bridge-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto server = testing::test_certificate::make();
  const auto client = testing::test_certificate::make();
  auto write = [&](const char* name, const std::string& text) {
    std::ofstream{dir / name} << text;
    return (dir / name).string();
  };
  const auto server_crt = write("server.crt", server.cert_pem);
  const auto server_key = write("server.key", server.key_pem);
  const auto client_crt = write("client.crt", client.cert_pem);
  const auto client_key = write("client.key", client.key_pem);
  const auto tls_port = testing::free_loopback_port();
  mosquitto_broker upstream{0, "listener " + std::to_string(tls_port) + " 127.0.0.1\n" + "cafile " +
                                   client_crt + "\ncertfile " + server_crt + "\nkeyfile " +
                                   server_key + "\nrequire_certificate true\n"};
  boost::asio::io_context io;
  watcher w{io, upstream.port(), "up/#"};
  ASSERT_TRUE(run_until(io, [&] { return w.subscribed; }));

  auto o = options_for(tls_port, mqtt::protocol_version::v3_1_1, {{"#", d::out, 1, "", "up/"}});
  o.client.tls = {.enabled = true,
                  .ca_file = server_crt,
                  .cert_file = client_crt,
                  .key_file = client_key,
                  .server_name = {},
                  .alpn = {},
                  .verify = true};
  bridge b{io.get_executor(), o, {}};
  b.start();
  b.offer("secure", as_bytes("over-tls"), 1, false);
  ASSERT_TRUE(run_until(io, [&] { return !w.got.empty(); }));
  EXPECT_EQ(w.got[0].topic, "up/secure");
  EXPECT_EQ(w.got[0].payload, "over-tls");

  // Without a client certificate the handshake fails, and keeps failing.
  auto anon = o;
  anon.client.client_id = "anonymous-bridge";
  anon.client.tls.cert_file.clear();
  anon.client.tls.key_file.clear();
  bridge refused{io.get_executor(), anon, {}};
  refused.start();
  // A server certificate that does not verify fails too.
  auto wrong_ca = o;
  wrong_ca.client.client_id = "wrong-ca-bridge";
  wrong_ca.client.tls.ca_file = client_crt;
  bridge unverified{io.get_executor(), wrong_ca, {}};
  unverified.start();
  ASSERT_TRUE(run_until(io, [&] {
    return refused.stats().connect_failures >= 2 && unverified.stats().connect_failures >= 2;
  }));
  EXPECT_EQ(refused.stats().connects, 0u);
  EXPECT_EQ(unverified.stats().connects, 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace iotblocks::net
