// The gateway bridged to a real mosquitto (started by the test on a free
// loopback port): topics in, out and both with prefixes, no loop, queueing
// while the upstream is down; plus the "bridges" configuration and its error
// messages.
#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/mqtt_client.hpp>

#include "gateway/bridges.hpp"
#include "net/mosquitto_broker.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <unistd.h>
#include "net/run_until.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace iotblocks::gateway {
namespace {

using iotblocks::testing::mosquitto_broker;

using iotblocks::testing::run_until;

/// An MQTT client that subscribes to `filter` and counts what it receives by
/// topic.
struct probe {
  probe(boost::asio::io_context& io, std::uint16_t port, std::string id, std::string filter)
      : client(io.get_executor(), [&] {
          net::mqtt_client_options o;
          o.port = port;
          o.client_id = std::move(id);
          return o;
        }()) {
    client.on_message([this](const mqtt::publish_view& p) {
      got[std::string(p.topic)].emplace_back(as_string_view(p.payload));
    });
    client.on_connect([this, filter](std::error_code ec, bool) {
      if (!ec) client.subscribe({{filter, {.qos = 1}}}, [this](auto, auto) { subscribed = true; });
    });
    client.connect();
  }
  std::size_t count(const std::string& topic) const {
    auto it = got.find(topic);
    return it == got.end() ? 0 : it->second.size();
  }
  /// "topic x count, …": what a failed wait saw.
  std::string seen() const {
    std::string out;
    for (const auto& [topic, payloads] : got) {
      out += topic + " x" + std::to_string(payloads.size()) + ", ";
    }
    return out;
  }
  net::mqtt_client client;
  std::map<std::string, std::vector<std::string>> got;
  bool subscribed = false;
};

std::string metric(const gateway& gw, const std::string& name) {
  const auto text = gw.metrics_text();
  const auto key = name + "{bridge=\"up\"} ";
  const auto at = text.find(key);
  if (at == std::string::npos) return "<missing>";
  return text.substr(at + key.size(), text.find('\n', at) - at - key.size());
}

class GatewayBridge : public ::testing::TestWithParam<std::string> {
 protected:
  void start(std::uint16_t upstream_port) {
    dir_ = std::filesystem::temp_directory_path() /
           ("iotblocks-gw-bridge-" + std::to_string(::getpid()) + "-" + GetParam());
    std::filesystem::remove_all(dir_);
    const std::string text =
        R"({"listeners":[{"type":"mqtt","port":0}], "threads":2,
      "data_dir":")" +
        dir_.string() +
        R"(",
      "bridges":[{"name":"up","address":"127.0.0.1:)" +
        std::to_string(upstream_port) + R"(","protocol_version":")" + GetParam() +
        R"(", "cleansession":true, "notifications":false,
        "restart_timeout":[0.05,0.2],
        "topics":["tele/# out 1 site/ cloud/site/", "cmd/# in 1 site/ cloud/",
                  {"pattern":"sync/#","direction":"both","qos":1,"local_prefix":"l/",
                   "remote_prefix":"r/"}]}]})";
    auto c = parse_config(text);
    ASSERT_TRUE(c) << c.describe();
    gw_ = std::make_unique<gateway>(*c);
    auto ok = gw_->start();
    ASSERT_TRUE(ok) << ok.describe();
  }
  void TearDown() override {
    if (gw_) gw_->stop();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<gateway> gw_;
};

TEST_P(GatewayBridge, InOutAndBothWithPrefixesWithoutLoops) {
  mosquitto_broker upstream;
  start(upstream.port());
  boost::asio::io_context io;
  probe local{io, gw_->port("mqtt"), "local-probe", "#"};
  probe remote{io, upstream.port(), "remote-probe", "#"};
  ASSERT_TRUE(run_until(io, [&] {
    return local.subscribed && remote.subscribed &&
           metric(*gw_, "iotblocks_bridge_connected") == "1";
  }));
  // out: site/tele/... -> cloud/site/tele/...
  local.client.publish("site/tele/t1", to_buffer("21.5"), 1, false);
  // in: cloud/cmd/... -> site/cmd/...
  remote.client.publish("cloud/cmd/open", to_buffer("shade=1"), 1, false);
  // both: l/sync/... <-> r/sync/...
  local.client.publish("l/sync/a", to_buffer("from-local"), 1, false);
  remote.client.publish("r/sync/b", to_buffer("from-remote"), 1, false);
  ASSERT_TRUE(run_until(io, [&] {
    return remote.count("cloud/site/tele/t1") == 1 && local.count("site/cmd/open") == 1 &&
           remote.count("r/sync/a") == 1 && local.count("l/sync/b") == 1;
  }));
  EXPECT_EQ(remote.got["cloud/site/tele/t1"][0], "21.5");
  EXPECT_EQ(local.got["site/cmd/open"][0], "shade=1");
  EXPECT_EQ(remote.got["r/sync/a"][0], "from-local");
  EXPECT_EQ(local.got["l/sync/b"][0], "from-remote");

  // A last round trip through both brokers: anything looping would have shown
  // by now.
  remote.client.publish("cloud/cmd/fence", to_buffer("end"), 1, false);
  // On a failure: what each side got and the bridge's counters (connects, imports, drops).
  auto state = [&] {
    std::string m = "local: " + local.seen() + "\nremote: " + remote.seen() + "\n";
    for (const auto* name :
         {"iotblocks_bridge_connects_total", "iotblocks_bridge_imported_total",
          "iotblocks_bridge_exported_total", "iotblocks_bridge_dropped_echo_total",
          "iotblocks_bridge_dropped_refused_total", "iotblocks_bridge_pending"}) {
      m += std::string(name) + " " + metric(*gw_, name) + "\n";
    }
    return m;
  };
  ASSERT_TRUE(run_until(io, [&] { return local.count("site/cmd/fence") == 1; })) << state();
  local.client.publish("site/tele/fence", to_buffer("end"), 1, false);
  ASSERT_TRUE(run_until(io, [&] { return remote.count("cloud/site/tele/fence") == 1; })) << state();
  EXPECT_EQ(local.count("l/sync/a"), 1u);   // its own publish, not an echo
  EXPECT_EQ(local.count("l/sync/b"), 1u);   // imported once
  EXPECT_EQ(remote.count("r/sync/a"), 1u);  // exported once
  EXPECT_EQ(remote.count("r/sync/b"), 1u);  // its own publish, not sent back
  EXPECT_EQ(local.count("cloud/cmd/open"), 0u);
  EXPECT_EQ(remote.count("site/tele/t1"), 0u);
  std::size_t local_total = 0, remote_total = 0;
  for (const auto& [t, v] : local.got) local_total += v.size();
  for (const auto& [t, v] : remote.got) remote_total += v.size();
  EXPECT_EQ(local_total,
            6u);                // site/tele/t1, site/cmd/open, l/sync/a, l/sync/b, 2 fences
  EXPECT_EQ(remote_total, 6u);  // the same six, mapped
  EXPECT_EQ(metric(*gw_, "iotblocks_bridge_exported_total"), "3");
  EXPECT_EQ(metric(*gw_, "iotblocks_bridge_imported_total"), "3");
}

TEST_P(GatewayBridge, QueuedWhileUpstreamDownDeliveredWhenUp) {
  mosquitto_broker upstream;
  start(upstream.port());
  boost::asio::io_context io;
  probe local{io, gw_->port("mqtt"), "local-probe", "nothing"};
  ASSERT_TRUE(run_until(
      io, [&] { return local.subscribed && metric(*gw_, "iotblocks_bridge_connected") == "1"; }));
  upstream.stop();
  ASSERT_TRUE(run_until(io, [&] { return metric(*gw_, "iotblocks_bridge_connected") == "0"; }));
  int acked = 0;
  for (int i = 0; i < 20; ++i) {
    local.client.publish("site/tele/q" + std::to_string(i), to_buffer("v" + std::to_string(i)), 1,
                         true, [&](std::error_code ec) { acked += ec ? 0 : 1; });
  }
  ASSERT_TRUE(run_until(
      io, [&] { return acked == 20 && metric(*gw_, "iotblocks_bridge_pending") == "20"; }));
  upstream.start();
  ASSERT_TRUE(run_until(io, [&] { return metric(*gw_, "iotblocks_bridge_pending") == "0"; }));
  // Retained upstream: a subscriber that arrives now sees all twenty.
  probe remote{io, upstream.port(), "remote-probe", "cloud/#"};
  ASSERT_TRUE(run_until(io, [&] { return remote.got.size() == 20; }));
  for (int i = 0; i < 20; ++i) {
    const auto t = "cloud/site/tele/q" + std::to_string(i);
    ASSERT_EQ(remote.count(t), 1u) << t;
    EXPECT_EQ(remote.got[t][0], "v" + std::to_string(i));
  }
  EXPECT_EQ(metric(*gw_, "iotblocks_bridge_dropped_queue_full_total"), "0");
}

INSTANTIATE_TEST_SUITE_P(Protocols, GatewayBridge, ::testing::Values("mqttv311", "mqttv50"));

}  // namespace
}  // namespace iotblocks::gateway
