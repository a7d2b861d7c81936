// Notification topics with real sinks through net_rules' transports: a webhook
// (Beast server on loopback) and a TCP command to a listener standing in for the
// infrared blaster.
#include <iotblocks/net_rules/transports.hpp>
#include <iotblocks/rules/notify.hpp>

#include "net/test_servers.hpp"

#include <gtest/gtest.h>

namespace iotblocks::rules {
namespace {

using iotblocks::testing::canned_response;
using iotblocks::testing::command_listener;
using iotblocks::testing::http_server;
using iotblocks::testing::recorded_request;

const auto http = std::make_shared<net_rules::http_client_transport>();
const auto tcp = std::make_shared<net_rules::tcp_command_transport>();

TEST(NotifierOverNet, WebhookGetsTheSnsEnvelope) {
  http_server hook;
  notifier n;
  auto arn = n.create_topic("door-alert").value();
  ASSERT_TRUE(n.subscribe(arn, webhook_sink(http, hook.url("/hook"))));
  auto r = n.publish(arn, R"({"msg":"Somebody is at the door!"})", message_format::raw, "DOORBELL");
  ASSERT_TRUE(r) << r.describe();
  EXPECT_TRUE(r->failures.empty());
  EXPECT_EQ(r->delivered.size(), 1u);
  ASSERT_TRUE(hook.requests().wait_for(1));
  const auto got = hook.requests().items().at(0);
  EXPECT_EQ(got.target, "/hook");
  EXPECT_EQ(got.header("x-amz-sns-message-type"), "Notification");
  EXPECT_EQ(got.header("x-amz-sns-topic-arn"), arn);
  EXPECT_NE(got.body.find(R"("Type":"Notification")"), std::string::npos) << got.body;
  EXPECT_NE(got.body.find(R"("Message":"{\"msg\":\"Somebody is at the door!\"}")"),
            std::string::npos)
      << got.body;
  EXPECT_NE(got.body.find(R"("Subject":"DOORBELL")"), std::string::npos);
}

TEST(NotifierOverNet, JsonFormatPicksEachProtocolsEntry) {
  http_server hook;
  std::vector<std::string> called;
  notifier n;
  auto arn = n.create_topic("t").value();
  webhook_options raw;
  raw.raw_message_delivery = true;
  ASSERT_TRUE(n.subscribe(arn, webhook_sink(http, hook.url(), raw)));
  ASSERT_TRUE(n.subscribe(arn, callback_sink([&](const notification& x) -> result<void> {
                            called.emplace_back(x.message);
                            return {};
                          })));
  auto r = n.publish(arn, R"({"default":"plain","http":"for http"})", message_format::json);
  ASSERT_TRUE(r) << r.describe();
  ASSERT_TRUE(hook.requests().wait_for(1));
  EXPECT_EQ(hook.requests().items().at(0).body, "for http");
  EXPECT_EQ(called, std::vector<std::string>{"plain"});
  EXPECT_EQ(n.publish(arn, R"({"http":"no default"})", message_format::json).error(),
            error::invalid_action);
  EXPECT_EQ(n.publish(arn, "not json", message_format::json).error(), error::invalid_action);
}

TEST(NotifierOverNet, TcpCommandSinkDrivesTheBlaster) {
  command_listener blaster;
  notifier n;
  auto arn = n.create_topic("Sunshades").value();
  const std::string ir = "sendir,1:1,15,37993,1,1,246,160,20,20,60\r";
  ASSERT_TRUE(
      n.subscribe(arn, tcp_command_sink(tcp, "127.0.0.1", blaster.port(), ir, "completeir")));
  auto r = n.publish(arn, R"({"AlarmName":"Trigger_SunShade_Open"})");
  ASSERT_TRUE(r) << r.describe();
  EXPECT_TRUE(r->failures.empty()) << r->failures[0].second.describe();
  ASSERT_TRUE(blaster.commands().wait_for(1));
  EXPECT_EQ(blaster.commands().items().at(0), ir);
}

TEST(NotifierOverNet, FailuresNameTheSubscriptionAndSkipDelivered) {
  http_server failing{[](const recorded_request&) { return canned_response{500, "down"}; }};
  std::vector<std::string> lines;
  notifier n;
  auto arn = n.create_topic("t").value();
  auto good =
      n.subscribe(arn, log_sink([&](std::string_view l) { lines.emplace_back(l); })).value();
  auto bad = n.subscribe(arn, webhook_sink(http, failing.url())).value();
  auto r = n.publish(arn, "hello");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_EQ(r->failures[0].first, bad);
  EXPECT_EQ(r->delivered, std::vector<std::string>{good});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("hello"), std::string::npos);
  r = n.publish(arn, "again", message_format::raw, {}, {good});  // a retry skips the log
  EXPECT_EQ(lines.size(), 1u);
  EXPECT_TRUE(n.unsubscribe(bad));
  EXPECT_FALSE(n.unsubscribe(bad));
}

}  // namespace
}  // namespace iotblocks::rules
