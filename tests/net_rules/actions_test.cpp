// The engine's http and command actions and its webhook / TCP command sinks through
// net_rules' transports, against real counterparts on 127.0.0.1: Beast HTTP(S)
// servers and a TCP listener standing in for the infrared blaster.
#include <iotblocks/net_rules/transports.hpp>
#include <iotblocks/rules/engine.hpp>

#include "net/test_servers.hpp"
#include "rules/util.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace iotblocks::rules {
namespace {

using namespace std::chrono_literals;
using iotblocks::testing::canned_response;
using iotblocks::testing::command_listener;
using iotblocks::testing::http_server;
using iotblocks::testing::recorded_request;
using iotblocks::testing::test_certificate;
using testing::data;
using testing::msg;
using testing::recording_publisher;

// The test engine options with the Asio transports.
engine_options fast_options(net_rules::http_options h = {}) {
  engine_options o = testing::fast_options();
  h.timeout = 2s;
  o.http = std::make_shared<net_rules::http_client_transport>(h);
  o.command = std::make_shared<net_rules::tcp_command_transport>();
  return o;
}

TEST(EngineOverNet, GreenhouseEndToEnd) {
  // Lux readings -> TooBright/NotTooBright -> ShadePosition metric -> alarms over 15
  // periods of 60 s -> Sunshades topic -> infrared blaster over TCP and a webhook.
  manual_clock clock{from_unix_ms(1'700'000'040'000)};
  command_listener blaster;
  http_server ops;
  auto o = fast_options();
  o.time = &clock;
  engine e{o};
  ASSERT_TRUE(e.add_rule("TooBright", data("too_bright.json")));
  ASSERT_TRUE(e.add_rule("NotTooBright", data("not_too_bright.json")));
  auto sunshades = e.notifier().create_topic("Sunshades").value();
  const std::string ir = "sendir,1:1,15,37993,1,1,246,160,20,20,60\r";
  ASSERT_TRUE(e.notifier().subscribe(
      sunshades, tcp_command_sink(o.command, "127.0.0.1", blaster.port(), ir, "completeir")));
  ASSERT_TRUE(e.notifier().subscribe(sunshades, webhook_sink(o.http, ops.url("/sms"))));
  ASSERT_TRUE(e.notifier().create_topic("SunshadesClose"));
  ASSERT_TRUE(e.metrics_store().put_alarm(
      alarm_definition::from_json(data("sunshade_open_alarm.json")).value()));
  ASSERT_TRUE(e.metrics_store().put_alarm(
      alarm_definition::from_json(data("sunshade_close_alarm.json")).value()));

  for (int minute = 0; minute < 15; ++minute) {
    clock.advance(30s);
    EXPECT_EQ(e.dispatch(msg("/topic/Greenhouse/LuxSensors", R"({"lux":36250})")), 1u);
    ASSERT_TRUE(e.flush());
    clock.advance(30s);
    e.tick();
    if (minute < 14) {
      EXPECT_NE(e.metrics_store().describe_alarm("Trigger_SunShade_Open")->state,
                alarm_state::alarm);
    }
  }
  ASSERT_TRUE(e.flush());
  EXPECT_EQ(e.metrics_store().describe_alarm("Trigger_SunShade_Open")->state, alarm_state::alarm);
  EXPECT_EQ(e.metrics_store().describe_alarm("Trigger_SunShade_Close")->state, alarm_state::ok);
  ASSERT_TRUE(blaster.commands().wait_for(1));
  EXPECT_EQ(blaster.commands().items().at(0), ir);
  ASSERT_TRUE(ops.requests().wait_for(1));
  EXPECT_NE(ops.requests().items().at(0).body.find("Trigger_SunShade_Open"), std::string::npos);
  EXPECT_EQ(e.metrics("TooBright")->matched, 15u);
  EXPECT_EQ(e.metrics("NotTooBright")->evaluated, 15u);
  EXPECT_EQ(e.metrics("NotTooBright")->matched, 0u);
  EXPECT_EQ(e.totals().unreported, 0u);
}

TEST(EngineOverNet, DoorbellTextsThroughTheNotifyTopic) {
  http_server sms;
  auto o = fast_options();
  o.region = "us-west-2";
  o.account = "012345678901";
  engine e{o};
  auto topic = e.notifier().create_topic("door-alert").value();
  ASSERT_TRUE(e.notifier().subscribe(topic, webhook_sink(o.http, sms.url("/sms"))));
  ASSERT_TRUE(e.add_rule("sendToSNS", data("doorbell_sns.json")));
  EXPECT_EQ(e.dispatch(msg("doorbell/front",
                           R"({"msg":"Somebody is at the door!","ts":"1468958915.41"})")),
            1u);
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(sms.requests().wait_for(1));
  EXPECT_NE(sms.requests().items().at(0).body.find("Somebody is at the door!"), std::string::npos);
  EXPECT_EQ(e.dispatch(msg("doorbell", "{}")), 0u);  // 'doorbell/+' needs one more level
}

TEST(EngineOverNet, HttpActionPostsTheOutputWithTemplatesAndRetries) {
  std::atomic<int> calls{0};
  http_server server{[&](const recorded_request&) {
    return ++calls <= 2 ? canned_response{503, "busy"} : canned_response{200, "ok"};
  }};
  engine e{fast_options()};
  const std::string rule = R"({"sql":"SELECT lux, topic(3) AS probe FROM 'greenhouse/lux/+'",
    "actions":[{"http":{"url":")" +
                           server.url("/ingest/${topic(3)}") +
                           R"(","headers":[{"key":"x-client","value":"${clientid()}"}]}}]})";
  ASSERT_TRUE(e.add_rule("to_http", rule)) << e.add_rule("to_http", rule).describe();
  e.dispatch(msg("greenhouse/lux/probe_7", R"({"lux":1200,"other":1})", "probe_7"));
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(server.requests().wait_for(3));
  const auto got = server.requests().items().at(2);
  EXPECT_EQ(got.target, "/ingest/probe_7");
  EXPECT_EQ(got.header("x-client"), "probe_7");
  EXPECT_EQ(got.body, R"({"lux":1200,"probe":"probe_7"})");
  const auto m = e.metrics("to_http").value();
  EXPECT_EQ(m.actions_retried, 2u);
  EXPECT_EQ(m.actions_succeeded, 1u);
  EXPECT_EQ(m.actions_failed, 0u);
}

TEST(EngineOverNet, HttpsActionWithTheTestsCertificate) {
  const auto cert = test_certificate::make();
  http_server server{{}, &cert};
  net_rules::http_options h;
  h.ca_pem = cert.cert_pem;
  auto o = fast_options(h);
  engine e{o};
  ASSERT_TRUE(e.add_rule("to_https", R"({"sql":"SELECT * FROM 'a/b'","actions":[{"http":{"url":")" +
                                         server.url("/secure") + R"("}}]})"));
  e.dispatch(msg("a/b", R"({"x":1})"));
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(server.requests().wait_for(1));
  EXPECT_EQ(server.requests().items().at(0).body, R"({"x":1})");
  EXPECT_EQ(e.metrics("to_https")->actions_succeeded, 1u);
}

TEST(EngineOverNet, ACaPemThatDoesNotLoadFailsTheTransportsConstruction) {
  net_rules::http_options h;
  h.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  EXPECT_THROW(net_rules::http_client_transport{h}, std::system_error);
}

TEST(EngineOverNet, CommandActionSendsTheInfraredCode) {
  command_listener blaster;
  engine e{fast_options()};
  const std::string rule =
      R"({"sql":"SELECT * FROM 'shade/+/set' WHERE position = 1",
    "actions":[{"command":{"host":"127.0.0.1","port":)" +
      std::to_string(blaster.port()) +
      R"(,"payload":"sendir,1:${topic(2)},15,37993,1,1,246,160,20,20,60\r","expect":"completeir"}}]})";
  ASSERT_TRUE(e.add_rule("shade", rule)) << e.add_rule("shade", rule).describe();
  EXPECT_EQ(e.dispatch(msg("shade/1/set", R"({"position":1})")), 1u);
  EXPECT_EQ(e.dispatch(msg("shade/1/set", R"({"position":0})")), 0u);
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(blaster.commands().wait_for(1));
  EXPECT_EQ(blaster.commands().items().at(0), "sendir,1:1,15,37993,1,1,246,160,20,20,60\r");
  EXPECT_EQ(e.metrics("shade")->actions_succeeded, 1u);
}

TEST(EngineOverNet, ErrorActionGetsOneMessageWithEveryFailure) {
  command_listener silent{""};
  http_server down{[](const recorded_request&) { return canned_response{404, "no"}; }};
  auto pub = std::make_shared<recording_publisher>();
  auto o = fast_options();
  o.publisher = pub;
  o.command = std::make_shared<net_rules::tcp_command_transport>(net_rules::command_options{100ms});
  o.retry.max_attempts = 2;
  engine e{o};
  const std::string rule = R"({"sql":"SELECT * FROM 'dev/+/data'",
    "actions":[{"http":{"url":")" +
                           down.url("/x") + R"("}},
               {"command":{"host":"127.0.0.1","port":)" +
                           std::to_string(silent.port()) + R"(,"payload":"on\r"}},
               {"republish":{"topic":"ok/${topic(2)}"}}],
    "errorAction":{"republish":{"topic":"errors/${topic(2)}","qos":1}}})";
  ASSERT_TRUE(e.add_rule("failing", rule)) << e.add_rule("failing", rule).describe();
  e.dispatch(msg("dev/d1/data", "\x01\x02 binary", "d1"));
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(pub->got.wait_for(2));
  const auto all = pub->got.items();
  ASSERT_EQ(all.size(), 2u);  // the republish action, then the error message
  const auto& err = all[0].topic == "errors/d1" ? all[0] : all[1];
  EXPECT_EQ(err.topic, "errors/d1");
  EXPECT_EQ(err.qos, 1);
  EXPECT_NE(err.payload.find(R"("ruleName":"failing")"), std::string::npos) << err.payload;
  EXPECT_NE(err.payload.find(R"("topic":"dev/d1/data")"), std::string::npos);
  EXPECT_NE(err.payload.find(R"("clientId":"d1")"), std::string::npos);
  EXPECT_NE(err.payload.find(R"("base64OriginalPayload":"AQIgYmluYXJ5")"), std::string::npos)
      << err.payload;
  EXPECT_NE(err.payload.find(R"("failedAction":"HttpAction")"), std::string::npos);
  EXPECT_NE(err.payload.find(R"("failedAction":"CommandAction")"), std::string::npos);
  EXPECT_NE(err.payload.find("HTTP status 404"), std::string::npos);
  const auto m = e.metrics("failing").value();
  EXPECT_EQ(m.actions_failed, 2u);
  EXPECT_EQ(m.actions_succeeded, 2u);  // republish and the error action
  EXPECT_EQ(m.actions_retried, 1u);    // the command timed out once, then gave up (404 is final)
  EXPECT_EQ(m.error_actions_sent, 1u);
  EXPECT_EQ(m.unreported, 0u);
}

}  // namespace
}  // namespace iotblocks::rules
