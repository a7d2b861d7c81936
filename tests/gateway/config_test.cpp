// gateway::config: the embedded default, a full file, and errors that name the value.
#include <iotblocks/gateway/config.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

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

TEST(GatewayConfig, FileErrorsKeepThePathAndTheJsonPathWhole) {
  // A deep directory: the message is longer than a failure holds inline.
  const auto dir = std::filesystem::path{::testing::TempDir()} /
                   "iotblocks-gateway-config-test-with-a-long-directory-name" / "etc";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "gateway.json").string();
  std::ofstream{path} << R"({"limits":{"max_conections":1}})";
  const auto c = load_config(path);
  std::filesystem::remove_all(dir.parent_path());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.fail().message, path + ": limits.max_conections: unknown key");
}

TEST(GatewayConfig, ReadsNotifyTopicsAndAlarms) {
  auto c = parse_config(R"({
    "notify": {"Sunshade_Close": [
                 {"webhook": "http://127.0.0.1:8080/hook", "rawMessageDelivery": true,
                  "headers": {"X-Token": "abc"}, "timeoutMs": 2000},
                 {"tcp": "192.0.2.7:4998", "payload": "sendir,1:1\r", "expect": "completeir"},
                 {"tcp": "[::1]:4998"},
                 {"log": true}],
               "Empty": []},
    "alarms": {"Trigger_SunShade_Close": {"Namespace": "Greenhouse", "MetricName": "ShadePosition",
                 "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 15,
                 "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 1,
                 "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:Sunshade_Close"]}}
  })");
  ASSERT_TRUE(c) << c.describe();
  ASSERT_EQ(c->notify.size(), 2u);
  const auto& t = c->notify[0];
  EXPECT_EQ(t.name, "Sunshade_Close");
  ASSERT_EQ(t.subscriptions.size(), 4u);
  using kind = notify_subscription::kind;
  EXPECT_EQ(t.subscriptions[0].type, kind::webhook);
  EXPECT_EQ(t.subscriptions[0].url, "http://127.0.0.1:8080/hook");
  EXPECT_TRUE(t.subscriptions[0].raw_message_delivery);
  ASSERT_EQ(t.subscriptions[0].headers.size(), 1u);
  EXPECT_EQ(t.subscriptions[0].headers[0].second, "abc");
  EXPECT_EQ(t.subscriptions[0].timeout_ms, 2000u);
  EXPECT_EQ(t.subscriptions[1].type, kind::tcp);
  EXPECT_EQ(t.subscriptions[1].host, "192.0.2.7");
  EXPECT_EQ(t.subscriptions[1].port, 4998);
  EXPECT_EQ(t.subscriptions[1].payload, "sendir,1:1\r");
  EXPECT_EQ(t.subscriptions[1].expect, "completeir");
  EXPECT_EQ(t.subscriptions[2].host, "::1");
  EXPECT_EQ(t.subscriptions[3].type, kind::log);
  EXPECT_TRUE(c->notify[1].subscriptions.empty());
  ASSERT_EQ(c->alarms.size(), 1u);
  EXPECT_EQ(c->alarms[0].name, "Trigger_SunShade_Close");
  // The key becomes the AlarmName.
  EXPECT_NE(c->alarms[0].json.find(R"("AlarmName":"Trigger_SunShade_Close")"), std::string::npos)
      << c->alarms[0].json;
}

TEST(GatewayConfig, StoresNameTheShadowStoreByUrl) {
  auto c = parse_config(R"({"stores": {"shadows": "postgresql://iot@127.0.0.1:5432/iot"}})");
  ASSERT_TRUE(c) << c.describe();
  EXPECT_EQ(c->shadow_store, "postgresql://iot@127.0.0.1:5432/iot");
  EXPECT_EQ(parse_config("{}")->shadow_store, "sqlite:");
  for (const auto& [text, error] : std::vector<std::pair<const char*, const char*>>{
           {R"({"stores": []})", "stores: expected an object"},
           {R"({"stores": {"shadows": "mysql://h/db"}})", "stores.shadows: expected sqlite:"},
           {R"({"stores": {"shadows": 1}})", "stores.shadows: expected a string"},
           {R"({"stores": {"rules": "sqlite:"}})", "stores.rules: unknown key"}}) {
    auto bad = parse_config(text);
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.describe().find(error), std::string::npos) << bad.describe();
  }
}

TEST(GatewayConfig, EmqxAuthIsOffUnlessPresent) {
  EXPECT_FALSE(parse_config("{}")->emqx_auth.enabled);
  auto c = parse_config(R"({"emqx_auth": {"token": "s3cret"}})");
  ASSERT_TRUE(c) << c.describe();
  EXPECT_TRUE(c->emqx_auth.enabled);
  EXPECT_EQ(c->emqx_auth.token, "s3cret");
  auto loopback = parse_config(R"({"emqx_auth": {}})");
  ASSERT_TRUE(loopback) << loopback.describe();
  EXPECT_TRUE(loopback->emqx_auth.enabled);
  EXPECT_TRUE(loopback->emqx_auth.token.empty());
  for (const auto& [text, error] : std::vector<std::pair<const char*, const char*>>{
           {R"({"emqx_auth": true})", "emqx_auth: expected an object"},
           {R"({"emqx_auth": {"tokn": "x"}})", "emqx_auth.tokn: unknown key"},
           {R"({"emqx_auth": {"token": 1}})", "emqx_auth.token: expected a string"}}) {
    auto bad = parse_config(text);
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.describe().find(error), std::string::npos) << bad.describe();
  }
}

TEST(GatewayConfig, StoresNameTheRegistryAndPolicyStoresByUrl) {
  auto c = parse_config(R"({"stores": {"registry": "postgresql://iot@127.0.0.1:5432/iot",
                                       "policies": "sqlite:/var/lib/iot/p.db"}})");
  ASSERT_TRUE(c) << c.describe();
  EXPECT_EQ(c->registry_store, "postgresql://iot@127.0.0.1:5432/iot");
  EXPECT_EQ(c->policy_store, "sqlite:/var/lib/iot/p.db");
  EXPECT_EQ(parse_config("{}")->registry_store, "sqlite:");
  EXPECT_EQ(parse_config("{}")->policy_store, "sqlite:");
  for (const auto& [text, error] : std::vector<std::pair<const char*, const char*>>{
           {R"({"stores": {"registry": "mysql://h/db"}})", "stores.registry: expected sqlite:"},
           {R"({"stores": {"policies": 2}})", "stores.policies: expected a string"}}) {
    auto bad = parse_config(text);
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.describe().find(error), std::string::npos) << bad.describe();
  }
}

TEST(GatewayConfig, StoresNameTheJobsStoreByUrl) {
  auto c = parse_config(R"({"stores": {"jobs": "postgresql://iot@127.0.0.1:5432/iot"}})");
  ASSERT_TRUE(c) << c.describe();
  EXPECT_EQ(c->jobs_store, "postgresql://iot@127.0.0.1:5432/iot");
  EXPECT_EQ(parse_config("{}")->jobs_store, "sqlite:");
  for (const auto& [text, error] : std::vector<std::pair<const char*, const char*>>{
           {R"({"stores": {"jobs": "mysql://h/db"}})", "stores.jobs: expected sqlite:"},
           {R"({"stores": {"jobs": []}})", "stores.jobs: expected a string"}}) {
    auto bad = parse_config(text);
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.describe().find(error), std::string::npos) << bad.describe();
  }
}

TEST(GatewayConfig, StoresNameTheRuleItemStoreByUrl) {
  auto c = parse_config(R"({"stores": {"rule_items": "postgresql://iot@127.0.0.1:5432/iot"}})");
  ASSERT_TRUE(c) << c.describe();
  EXPECT_EQ(c->rule_items_store, "postgresql://iot@127.0.0.1:5432/iot");
  EXPECT_EQ(parse_config("{}")->rule_items_store, "sqlite:");
  EXPECT_EQ(parse_config(R"({"stores": {"rule_items": "sqlite:/var/items.db"}})")->rule_items_store,
            "sqlite:/var/items.db");
  for (const auto& [text, error] : std::vector<std::pair<const char*, const char*>>{
           {R"({"stores": {"rule_items": "items.db"}})", "stores.rule_items: expected sqlite:"},
           {R"({"stores": {"rule_items": 3}})", "stores.rule_items: expected a string"}}) {
    auto bad = parse_config(text);
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.describe().find(error), std::string::npos) << bad.describe();
  }
}

TEST(GatewayConfig, NotifyAndAlarmErrorsNameThePath) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"notify": []})", "notify: expected an object"},
      {R"({"notify": {"a b": []}})", "notify.a b: a topic name"},
      {R"({"notify": {"T": {}}})", "notify.T: expected an array"},
      {R"({"notify": {"T": [7]}})", "notify.T[0]: expected an object"},
      {R"({"notify": {"T": [{}]}})", "notify.T[0]: expected exactly one of webhook, tcp or log"},
      {R"({"notify": {"T": [{"webhook": "http://h/x", "tcp": "h:1"}]}})",
       "notify.T[0]: expected exactly one"},
      {R"({"notify": {"T": [{"webhook": "ftp://h/x"}]}})", "notify.T[0].webhook: expected an http"},
      {R"({"notify": {"T": [{"webhook": "http://h/x", "expect": "ok"}]}})",
       "notify.T[0].expect: unknown key"},
      {R"({"notify": {"T": [{"log": true}, {"tcp": "host"}]}})", "notify.T[1].tcp: expected"},
      {R"({"notify": {"T": [{"tcp": "host:70000"}]}})", "notify.T[0].tcp: expected"},
      {R"({"notify": {"T": [{"tcp": "host:1", "expect": 3}]}})",
       "notify.T[0].expect: expected a string"},
      {R"({"notify": {"T": [{"tcp": "host:1", "timeoutMs": 0}]}})",
       "notify.T[0].timeoutMs: expected an integer"},
      {R"({"notify": {"T": [{"log": false}]}})", "notify.T[0].log: expected true"},
      {R"({"alarms": []})", "alarms: expected an object"},
      {R"({"alarms": {"A": 1}})", "alarms.A: expected an object"},
      {R"({"alarms": {"A": {"AlarmName": "B"}}})", "alarms.A.AlarmName: must be the key"},
      {R"({"alarms": {"A": {"Namespace": "n", "MetricName": "m", "Period": 30}}})",
       "alarms.A.Period: "},
      {R"({"alarms": {"A": {"Namespace": "n", "MetricName": "m", "Statistic": "Median"}}})",
       "alarms.A.Statistic: is one of Sum"},
      {R"({"alarms": {"A": {"Namespace": "n", "MetricName": "m", "Colour": "red"}}})",
       "alarms.A.Colour: is not a put-metric-alarm element"},
      {R"({"alarms": {"A": {"Namespace": "n", "MetricName": "m", "AlarmActions": "T"}}})",
       "alarms.A.AlarmActions: must be an array"},
  };
  for (const auto& [text, want] : cases) {
    auto c = parse_config(text);
    ASSERT_FALSE(c) << text;
    EXPECT_NE(c.describe().find(want), std::string::npos) << text << " -> " << c.describe();
  }
}

}  // namespace
}  // namespace iotblocks::gateway
