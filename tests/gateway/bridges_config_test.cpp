// The "bridges" section of the gateway configuration: every key, mosquitto topic
// lines, and error messages that name the JSON path.
#include <iotblocks/gateway/config.hpp>

#include "gateway/bridges.hpp"

#include <gtest/gtest.h>

namespace iotblocks::gateway {
namespace {

TEST(GatewayBridgeConfig, ReadsEveryKey) {
  auto c = parse_config(R"({"bridges":[{"name":"aws","address":"abc.iot.eu-central-1.amazonaws.com",
    "protocol_version":"mqttv50","client_id":"bridgeawsiot","cleansession":true,
    "keepalive_interval":30,"username":"u","password":"p","notifications":false,
    "notifications_local_only":true,"notification_topic":"state/aws","outgoing_retain":false,
    "restart_timeout":[1,60],"max_queued":500,"max_in_flight":20,"echo_window_ms":0,
    "tls":{"ca_file":"rootCA.pem","cert_file":"cert.crt","key_file":"private.key",
           "server_name":"abc.example","alpn":["x-amzn-mqtt-ca"]},
    "topics":["awsiot_to_localgateway in 1","localgateway_to_awsiot out 1",
              "both_directions both 1", "# both 2 \"\" remote/", "\"\" in 0 local remote"]}]})");
  ASSERT_TRUE(c) << c.describe();
  ASSERT_EQ(c->bridges.size(), 1u);
  const auto& b = c->bridges[0];
  EXPECT_EQ(b.name, "aws");
  EXPECT_EQ(b.client.host, "abc.iot.eu-central-1.amazonaws.com");
  EXPECT_EQ(b.client.port, 8883);  // TLS default
  EXPECT_EQ(b.client.version, mqtt::protocol_version::v5);
  EXPECT_EQ(b.client.client_id, "bridgeawsiot");
  EXPECT_TRUE(b.client.clean_start);
  EXPECT_EQ(b.client.keep_alive, 30);
  EXPECT_EQ(b.client.username, "u");
  EXPECT_EQ(b.client.password, "p");
  EXPECT_FALSE(b.notifications);
  EXPECT_TRUE(b.notifications_local_only);
  EXPECT_EQ(b.notification_topic, "state/aws");
  EXPECT_FALSE(b.outgoing_retain);
  EXPECT_EQ(b.client.backoff_initial, std::chrono::seconds(1));
  EXPECT_EQ(b.client.backoff_max, std::chrono::seconds(60));
  EXPECT_EQ(b.client.max_queued, 500u);
  EXPECT_EQ(b.client.max_in_flight, 20);
  EXPECT_EQ(b.echo_window.count(), 0);
  EXPECT_TRUE(b.client.tls.enabled);
  EXPECT_TRUE(b.client.tls.verify);
  EXPECT_EQ(b.client.tls.ca_file, "rootCA.pem");
  EXPECT_EQ(b.client.tls.alpn, std::vector<std::string>{"x-amzn-mqtt-ca"});
  ASSERT_EQ(b.topics.size(), 5u);
  EXPECT_EQ(b.topics[0].pattern, "awsiot_to_localgateway");
  EXPECT_EQ(b.topics[0].direction, net::bridge_direction::in);
  EXPECT_EQ(b.topics[0].qos, 1);
  EXPECT_EQ(b.topics[1].direction, net::bridge_direction::out);
  EXPECT_EQ(b.topics[2].direction, net::bridge_direction::both);
  EXPECT_EQ(b.topics[3].local_prefix, "");
  EXPECT_EQ(b.topics[3].remote_prefix, "remote/");
  EXPECT_EQ(b.topics[4].pattern, "");
  EXPECT_EQ(b.topics[4].local_prefix, "local");

  auto d = parse_config(R"({"bridges":[{"name":"x","address":"[::1]:1884","topics":["a"]}]})");
  ASSERT_TRUE(d) << d.describe();
  EXPECT_EQ(d->bridges[0].client.host, "::1");
  EXPECT_EQ(d->bridges[0].client.port, 1884);
  EXPECT_FALSE(d->bridges[0].client.clean_start);  // mosquitto's default
  EXPECT_EQ(d->bridges[0].topics[0].direction, net::bridge_direction::out);
  EXPECT_EQ(d->bridges[0].topics[0].qos, 0);
}

TEST(GatewayBridgeConfig, ErrorsNameTheJsonPath) {
  auto error = [](const std::string& bridges) {
    auto c = parse_config(R"({"bridges":)" + bridges + "}");
    return c ? std::string("ok") : std::string{c.fail().message.view()};
  };
  EXPECT_EQ(error(R"({})"), "bridges: expected an array");
  EXPECT_EQ(error(R"([{"address":"h","topics":["a"]}])"), "bridges[0].name: required");
  EXPECT_EQ(error(R"([{"name":"a","address":"h","topics":["a"],"colour":1}])"),
            "bridges[0].colour: unknown key");
  EXPECT_EQ(error(R"([{"name":"a","address":"h:0","topics":["a"]}])"),
            "bridges[0].address: expected host[:port] with a port in 1..65535");
  EXPECT_EQ(error(R"([{"name":"a","address":"h","protocol_version":"mqttv31","topics":["a"]}])"),
            "bridges[0].protocol_version: expected mqttv311 or mqttv50, got \"mqttv31\"");
  EXPECT_EQ(error(R"([{"name":"a","address":"h","topics":[]}])"),
            "bridges[0].topics: expected a non-empty array");
  EXPECT_EQ(error(R"([{"name":"a","address":"h","topics":["a","b sideways"]}])"),
            "bridges[0].topics[1]: expected out, in or both, got \"sideways\"");
  EXPECT_EQ(error(R"([{"name":"a","address":"h","topics":[{"pattern":"a","qos":3}]}])"),
            "bridges[0].topics[0].qos: expected an integer in 0..2");
  EXPECT_EQ(error(R"([{"name":"a","address":"h","topics":["\"\" in 0 local \"\""]}])"),
            "bridges[0].topics[0]: an empty pattern maps one topic and needs both local_prefix "
            "and remote_prefix");
  EXPECT_EQ(error(R"([{"name":"a","address":"h","topics":["a"]},
                      {"name":"a","address":"h","topics":["a"]}])"),
            "bridges[1].name: duplicate name \"a\"");
  EXPECT_EQ(error(R"([{"name":"a","address":"h","topics":["a"],"tls":{"cert_file":"c"}}])"),
            "bridges[0].tls: cert_file and key_file go together");
  EXPECT_EQ(error(R"([{"name":"a","address":"h","topics":["a"],"restart_timeout":[5,1]}])"),
            "bridges[0].restart_timeout: expected [base, cap] in seconds with base <= cap");
}

TEST(GatewayBridgeConfig, TopicLinesFollowMosquitto) {
  auto t = parse_topic_line("  #   both 2 local/topic/ remote/topic/ ");
  ASSERT_TRUE(t) << t.describe();
  EXPECT_EQ(t->pattern, "#");
  EXPECT_EQ(t->qos, 2);
  EXPECT_EQ(t->local_prefix, "local/topic/");
  EXPECT_EQ(t->remote_prefix, "remote/topic/");
  EXPECT_FALSE(parse_topic_line(""));
  EXPECT_FALSE(parse_topic_line("a out 1 only-one-prefix"));
  EXPECT_FALSE(parse_topic_line("a out 7"));
  EXPECT_FALSE(parse_topic_line("a out 1 l/ r/ extra"));
}

}  // namespace
}  // namespace iotblocks::gateway
