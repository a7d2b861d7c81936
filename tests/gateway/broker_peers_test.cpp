// The broker against third-party clients started by the test: paho-mqtt for
// Python (Debian python3-paho-mqtt) with MQTT 3.1.1 and 5.0, and MQTT.js over
// WebSocket (benchmarks/peers/node_modules/mqtt).
#include "gateway/broker_test_client.hpp"

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/net_broker/handler.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>
#include <memory>
#include <string>

namespace iotblocks::gateway {
namespace {

// Runs a command; returns its standard output and exit status.
std::pair<std::string, int> run_peer(const std::string& command) {
  std::string out;
  int status = -1;
  if (FILE* p = ::popen((command + " 2>&1").c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    status = ::pclose(p);
  }
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

class BrokerPeers : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    broker_ = new broker::broker();
    handler_ = new net_broker::handler(*broker_);
    net::server_options o;
    o.threads = 2;
    server_ = new net::server(o);
    tcp_ = server_->listen(testing::loopback()).value();
    ws_ = server_->listen(testing::loopback(net::transport::ws)).value();
    server_->start(*handler_);
  }
  static void TearDownTestSuite() {
    server_->stop();
    delete server_;
    delete handler_;
    delete broker_;
  }
  static inline broker::broker* broker_ = nullptr;
  static inline net_broker::handler* handler_ = nullptr;
  static inline net::server* server_ = nullptr;
  static inline std::uint16_t tcp_ = 0, ws_ = 0;
};

// Parameter: "<case> <protocol>", protocol 3 (3.1.1) or 5.
TEST_P(BrokerPeers, Paho) {
  const auto [out, rc] = run_peer("/usr/bin/python3 tests/gateway/broker_paho.py " +
                                  GetParam().substr(0, GetParam().find(' ')) + " " +
                                  std::to_string(tcp_) + GetParam().substr(GetParam().find(' ')));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "ok\n");
}

INSTANTIATE_TEST_SUITE_P(Cases, BrokerPeers,
                         ::testing::Values("qos 3", "qos 5", "retained 3", "retained 5", "will 3",
                                           "will 5", "shared 3", "shared 5", "topic_alias 5",
                                           "flow_control 3", "flow_control 5", "session 3",
                                           "session 5"),
                         [](const auto& param_info) {
                           auto name = param_info.param;
                           name[name.find(' ')] = '_';
                           return name + (name.back() == '3' ? "11" : "");
                         });

TEST(BrokerMqttJs, WebSocketQoSRetainedAndUserProperties) {
  broker::broker b;
  net_broker::handler h(b);
  net::server_options o;
  o.threads = 2;
  net::server s(o);
  const auto ws = s.listen(testing::loopback(net::transport::ws)).value();
  s.start(h);
  const auto [out, rc] = run_peer("node tests/gateway/broker_mqttjs.js " + std::to_string(ws));
  s.stop();
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "ok\n");
}

}  // namespace
}  // namespace iotblocks::gateway
