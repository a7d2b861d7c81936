// The composed gateway against real clients: mosquitto_pub / mosquitto_sub and
// HTTP (net::http_client), on free ports of 127.0.0.1, with real SQLite files.
#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/http_client.hpp>

#include <gtest/gtest.h>

#include "net/child_process.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <regex>
#include <string>

namespace iotblocks::gateway {
namespace {

using iotblocks::testing::run_capture;

using namespace std::chrono_literals;

constexpr std::string_view open_policy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:ClientId}"},
  {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/Greenhouse/${iot:ClientId}"},
  {"Effect":"Allow","Action":["iot:Subscribe"],"Resource":"arn:aws:iot:*:*:topicfilter/*"},
  {"Effect":"Allow","Action":["iot:Receive"],"Resource":"arn:aws:iot:*:*:topic/*"}]})";

class Gateway : public ::testing::Test {
 protected:
  void start(const std::string& extra = "") {
    dir_ = std::filesystem::temp_directory_path() /
           ("iotblocks-gw-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    const std::string text = R"({"listeners":[{"type":"mqtt","port":0},{"type":"http","port":0}],
      "threads":2, "admin_token":"t0k3n", "data_dir":")" +
                             dir_.string() + "\"" + extra + "}";
    auto c = parse_config(text);
    ASSERT_TRUE(c) << c.describe();
    gw_ = std::make_unique<gateway>(*c);
    auto ok = gw_->start();
    ASSERT_TRUE(ok) << ok.describe();
    mqtt_ = gw_->port("mqtt");
    http_ = gw_->port("http");
    ASSERT_NE(mqtt_, 0);
    ASSERT_NE(http_, 0);
  }
  void TearDown() override {
    if (gw_) gw_->stop();
    std::filesystem::remove_all(dir_);
  }

  std::string client(const std::string& tool, const std::string& args) const {
    return tool + " -h 127.0.0.1 -p " + std::to_string(mqtt_) + " " + args;
  }
  net::http_response http(const std::string& method, const std::string& target,
                          const std::string& body = "", const std::string& token = "") const {
    net::http_request r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(http_) + target;
    r.body = body;
    if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
    return net::http_client{}.send(r);
  }
  // Starts mosquitto_sub, then calls `send` until the subscriber exits (so the
  // SUBSCRIBE cannot race the message); returns what it printed.
  std::string until_received(const std::string& sub_args, const std::function<void()>& send) {
    auto sub = std::async(std::launch::async,
                          [&] { return run_capture(client("mosquitto_sub", sub_args)); });
    for (int i = 0; i < 100; ++i) {
      if (sub.wait_for(100ms) == std::future_status::ready) break;
      send();
    }
    return sub.get();
  }

  std::filesystem::path dir_;
  std::unique_ptr<gateway> gw_;
  std::uint16_t mqtt_ = 0, http_ = 0;
};

TEST_F(Gateway, HttpPublishReachesMqttSubscriber) {
  start();
  const auto out = until_received("-t 'sensors/#' -C 1 -W 20 -v", [&] {
    EXPECT_EQ(http("POST", "/topics/sensors/t1?qos=1", R"({"t":21})").status, 200u);
  });
  EXPECT_EQ(out, "sensors/t1 {\"t\":21}\n");
  EXPECT_EQ(http("POST", "/topics/bad/+/topic").status, 400u);
  EXPECT_EQ(http("POST", "/topics/a?qos=2").status, 400u);
  const auto health = http("GET", "/health");
  EXPECT_EQ(health.status, 200u);
  EXPECT_NE(health.body.find("\"status\":\"ok\""), std::string::npos);
  const auto metrics = http("GET", "/metrics");
  EXPECT_NE(metrics.body.find("# TYPE iotblocks_mqtt_messages_in_total counter"),
            std::string::npos);
  EXPECT_EQ(http("GET", "/nowhere").status, 404u);
}

TEST_F(Gateway, SigfoxCallbackPublishesOnSigfox) {
  start();
  const std::string body = R"({"device":"1A2B3C","data":"0a1b","time":1700000000,"snr":12.3})";
  const auto out = until_received("-t sigfox -C 1 -W 20",
                                  [&] { EXPECT_EQ(http("POST", "/sigfox", body).status, 200u); });
  EXPECT_EQ(out, body + "\n");
  EXPECT_EQ(http("POST", "/sigfox", "not json").status, 400u);
}

TEST_F(Gateway, RuleRepublishes) {
  start(R"(,"rules":{"Copy":{"sql":"SELECT lux, topic(2) AS probe FROM 'lux/+' WHERE lux > 100",
      "actions":[{"republish":{"topic":"alerts/${topic(2)}","qos":0}}]}})");
  const auto out = until_received("-t 'alerts/#' -C 1 -W 20 -v", [&] {
    run_capture(client("mosquitto_pub", "-t lux/p1 -m '{\"lux\":50}'"));
    run_capture(client("mosquitto_pub", "-t lux/p1 -m '{\"lux\":500}'"));
  });
  EXPECT_EQ(out, "alerts/p1 {\"lux\":500,\"probe\":\"p1\"}\n");
}

TEST_F(Gateway, RuleSqlSeesMqtt5PropertiesAndATraceId) {
  start(R"(,"rules":{"Props":{"sql":"SELECT get_user_properties('site') AS site, )"
        R"(get_mqtt_property('content_type') AS ct, traceid() AS trace FROM 'props'",)"
        R"("actions":[{"republish":{"topic":"props/out","qos":0}}]}})");
  const auto out = until_received("-t props/out -C 1 -W 20", [&] {
    run_capture(client("mosquitto_pub",
                       "-V mqttv5 -t props -m '{}' -D publish user-property site berlin "
                       "-D publish content-type application/json"));
  });
  const std::regex shape(
      R"re(\{"site":\["berlin"\],"ct":"application/json","trace":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"\}\n)re");
  EXPECT_TRUE(std::regex_match(out, shape)) << out;
}

TEST_F(Gateway, ShadowRoundTripOverMqttAndHttp) {
  start();
  const auto out = until_received("-t '$aws/things/lamp/shadow/update/accepted' -C 1 -W 20", [&] {
    run_capture(client("mosquitto_pub",
                       "-t '$aws/things/lamp/shadow/update' -m "
                       "'{\"state\":{\"desired\":{\"on\":true}}}'"));
  });
  EXPECT_NE(out.find("\"desired\":{\"on\":true}"), std::string::npos) << out;
  const auto get = http("GET", "/things/lamp/shadow");
  EXPECT_EQ(get.status, 200u);
  EXPECT_NE(get.body.find("\"desired\":{\"on\":true}"), std::string::npos) << get.body;
  const auto got = until_received("-t '$aws/things/lamp/shadow/get/accepted' -C 1 -W 20", [&] {
    run_capture(client("mosquitto_pub", "-t '$aws/things/lamp/shadow/get' -n"));
  });
  EXPECT_NE(got.find("\"desired\":{\"on\":true}"), std::string::npos) << got;
  EXPECT_EQ(http("GET", "/things/nothing/shadow").status, 404u);
}

TEST_F(Gateway, PolicyDeniesPublishOutsideOwnTopic) {
  start(R"(,"authorize":true,"default_policies":["Greenhouse"],"policies":{"Greenhouse":)" +
        std::string(open_policy) + "}");
  // probe_1 may publish on Greenhouse/probe_1 only: the denied message sent
  // first must never reach the subscriber, the allowed one must.
  const auto out = until_received("-i watcher -t 'Greenhouse/#' -C 1 -W 20 -v", [&] {
    run_capture(client("mosquitto_pub", "-i probe_1 -V 5 -q 1 -t Greenhouse/probe_2 -m forged"));
    run_capture(client("mosquitto_pub", "-i probe_1 -V 5 -q 1 -t Greenhouse/probe_1 -m real"));
  });
  EXPECT_EQ(out, "Greenhouse/probe_1 real\n");
}

TEST_F(Gateway, AdminApiNeedsTheToken) {
  start();
  EXPECT_EQ(http("GET", "/admin/rules").status, 401u);
  EXPECT_EQ(http("GET", "/admin/rules", "", "wrong").status, 401u);
  EXPECT_EQ(
      http("PUT", "/admin/rules/r1", R"({"sql":"SELECT * FROM 'x'","actions":[]})", "t0k3n").status,
      200u);
  const auto list = http("GET", "/admin/rules", "", "t0k3n");
  EXPECT_EQ(list.status, 200u);
  EXPECT_EQ(list.body, R"({"rules":["r1"]})");
  EXPECT_EQ(http("PUT", "/admin/rules/r2", "{", "t0k3n").status, 400u);
  EXPECT_EQ(http("DELETE", "/admin/rules/r1", "", "t0k3n").status, 200u);
  EXPECT_EQ(http("DELETE", "/admin/rules/r1", "", "t0k3n").status, 404u);
}

TEST(GatewayStart, BadRuleFailsWithItsName) {
  auto c = parse_config(R"({"listeners":[{"type":"mqtt","port":0}],"data_dir":")" +
                        (std::filesystem::temp_directory_path() / "iotblocks-gw-badrule").string() +
                        R"(","rules":{"Broken":{"sql":"SELEKT","actions":[]}}})");
  ASSERT_TRUE(c) << c.describe();
  gateway gw{*c};
  auto ok = gw.start();
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.describe().find("rule Broken"), std::string::npos) << ok.describe();
  std::filesystem::remove_all(std::filesystem::temp_directory_path() / "iotblocks-gw-badrule");
}

}  // namespace
}  // namespace iotblocks::gateway
