// gateway::config: the embedded default, a full file, and errors that name the value.
#include <iotblocks/gateway/config.hpp>

#include <gtest/gtest.h>

namespace iotblocks::gateway {
namespace {

TEST(GatewayConfig, DefaultListensOnLocalhost) {
  const auto c = default_config();
  ASSERT_EQ(c.listeners.size(), 3u);
  EXPECT_EQ(c.listeners[0].type, "mqtt");
  EXPECT_EQ(c.listeners[0].port, 1883);
  EXPECT_EQ(c.listeners[1].type, "ws");
  EXPECT_EQ(c.listeners[1].port, 8083);
  EXPECT_EQ(c.listeners[2].type, "http");
  EXPECT_EQ(c.listeners[2].port, 8080);
  for (const auto& l : c.listeners) EXPECT_EQ(l.address, "127.0.0.1");
  EXPECT_EQ(c.data_dir, "./iotblocks-data");
}

TEST(GatewayConfig, ParsesEverySection) {
  auto c = parse_config(R"({
    "listeners": [{"type": "mqtt", "port": 0},
                  {"type": "mqtts", "port": 8883, "tls": {"cert_file": "s.pem", "key_file": "s.key",
                   "ca_file": "ca.pem", "require_client_cert": true, "alpn": ["x-amzn-mqtt-ca"]}},
                  {"type": "http", "address": "0.0.0.0", "port": 0}],
    "data_dir": "/tmp/gw", "threads": 2, "admin_token": "secret",
    "limits": {"max_connections": 10, "receive_maximum": 16, "connect_timeout_ms": 500},
    "rules": {"Copy": {"sql": "SELECT * FROM 'a'", "actions": []}},
    "policies": {"Open": {"Version": "2012-10-17", "Statement": []}},
    "authorize": true, "default_policies": ["Open"], "bridges": []
  })");
  ASSERT_TRUE(c) << c.describe();
  ASSERT_EQ(c->listeners.size(), 3u);
  EXPECT_EQ(c->listeners[1].tls.cert_file, "s.pem");
  EXPECT_TRUE(c->listeners[1].tls.require_client_cert);
  EXPECT_EQ(c->listeners[1].tls.alpn, std::vector<std::string>{"x-amzn-mqtt-ca"});
  EXPECT_EQ(c->listeners[2].address, "0.0.0.0");
  EXPECT_EQ(c->data_dir, "/tmp/gw");
  EXPECT_EQ(c->threads, 2u);
  EXPECT_EQ(c->server.max_connections, 10u);
  EXPECT_EQ(c->server.connect_timeout.count(), 500);
  EXPECT_EQ(c->broker.receive_maximum, 16);
  ASSERT_EQ(c->rules.size(), 1u);
  EXPECT_EQ(c->rules[0].name, "Copy");
  EXPECT_TRUE(c->authorize);
  EXPECT_EQ(c->default_policies, std::vector<std::string>{"Open"});
}

TEST(GatewayConfig, ErrorsNameTheValue) {
  auto port = parse_config(R"({"listeners":[{"type":"mqtt"},{"type":"mqtt","port":70000}]})");
  ASSERT_FALSE(port);
  EXPECT_NE(port.describe().find("listeners[1].port"), std::string::npos) << port.describe();
  auto type = parse_config(R"({"listeners":[{"type":"coap"}]})");
  ASSERT_FALSE(type);
  EXPECT_NE(type.describe().find("listeners[0].type"), std::string::npos);
  auto unknown = parse_config(R"({"limits":{"max_conections":1}})");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.describe().find("limits.max_conections: unknown key"), std::string::npos);
  auto tls = parse_config(R"({"listeners":[{"type":"mqtts","port":8883}]})");
  ASSERT_FALSE(tls);
  EXPECT_NE(tls.describe().find("cert_file and key_file"), std::string::npos);
  auto syntax = parse_config("{\n  \"threads\": ,\n}");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.fail().where.line, 2u) << syntax.describe();
  EXPECT_FALSE(load_config("/nonexistent/gw.json"));
}

}  // namespace
}  // namespace iotblocks::gateway
