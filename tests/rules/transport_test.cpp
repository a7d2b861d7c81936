// The http and command actions and the webhook / TCP sinks through the transport
// interfaces, without sockets: none configured (no_such_destination), and
// transports implemented here that answer in memory, as a firmware loop would.
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/rules/transport.hpp>

#include "core/recorder.hpp"
#include "rules/util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace iotblocks::rules {
namespace {

using namespace std::chrono_literals;
using iotblocks::testing::recorder;

// Answers each request with the next status of a script (the last one repeats).
class scripted_http final : public http_transport {
 public:
  explicit scripted_http(std::vector<unsigned> statuses) : statuses_(std::move(statuses)) {}
  result<http_response> send(const http_request& req) override {
    std::size_t n = 0;
    {
      std::lock_guard lock{m_};
      n = sent_++;
    }
    requests.add(req);
    return http_response{statuses_.at(std::min(n, statuses_.size() - 1)), "ok"};
  }
  recorder<http_request> requests;

 private:
  std::mutex m_;
  std::size_t sent_ = 0;
  std::vector<unsigned> statuses_;
};

struct sent_command {
  std::string host;
  std::uint16_t port;
  std::string payload;
  std::string expect;
  bool read_reply;
  std::optional<std::chrono::milliseconds> timeout;
};

// A device that answers `reply`; a reply without the expected text fails as the
// interface says (action_failed, not retried).
class scripted_device final : public command_transport {
 public:
  explicit scripted_device(std::string reply) : reply_(std::move(reply)) {}
  result<std::string> exchange(const command_request& req) override {
    sent.add({std::string(req.host), req.port, std::string(req.payload), std::string(req.expect),
              req.read_reply, req.timeout});
    if (reply_.find(req.expect) == std::string::npos) {
      return {error::action_failed, "reply \"" + reply_ + "\""};
    }
    return reply_;
  }
  recorder<sent_command> sent;

 private:
  std::string reply_;
};

using testing::fast_options;

message probe_msg(std::string_view topic, std::string_view payload) {
  return testing::msg(topic, payload, "probe_7");
}

TEST(Transport, HttpAndCommandActionsWithoutTransportsFailWithNoSuchDestination) {
  std::vector<std::string> lines;
  std::mutex m;
  auto o = fast_options();
  o.on_unreported = [&](std::string_view l) {
    std::lock_guard lock{m};
    lines.emplace_back(l);
  };
  engine e{o};
  ASSERT_TRUE(e.add_rule("no_io", R"({"sql":"SELECT * FROM 'a'","actions":[
      {"http":{"url":"https://ops.example/hook"}},
      {"command":{"host":"192.0.2.7","port":4998,"payload":"on\r"}}]})"));
  e.dispatch(probe_msg("a", "{}"));
  ASSERT_TRUE(e.flush());
  const auto metrics = e.metrics("no_io").value();
  EXPECT_EQ(metrics.actions_failed, 2u);
  EXPECT_EQ(metrics.actions_retried, 0u);  // no transport: final, like republish without publisher
  std::lock_guard lock{m};
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("no http transport is configured"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("no command transport is configured"), std::string::npos) << lines[0];
}

TEST(Transport, SinksWithoutTransportFailWithNoSuchDestination) {
  notifier n;
  auto arn = n.create_topic("t").value();
  ASSERT_TRUE(n.subscribe(arn, webhook_sink(nullptr, "https://ops.example/hook")));
  ASSERT_TRUE(n.subscribe(arn, tcp_command_sink(nullptr, "192.0.2.7", 4998)));
  auto r = n.publish(arn, "hello");
  ASSERT_TRUE(r) << r.describe();
  ASSERT_EQ(r->failures.size(), 2u);
  EXPECT_EQ(r->failures[0].second.code, error::no_such_destination);
  EXPECT_EQ(r->failures[1].second.code, error::no_such_destination);
}

TEST(Transport, HttpActionHandsItsRequestToTheTransportAndRetries5xx) {
  auto http = std::make_shared<scripted_http>(std::vector<unsigned>{503, 200});
  auto o = fast_options();
  o.http = http;
  engine e{o};
  ASSERT_TRUE(e.add_rule("to_http", R"({"sql":"SELECT lux FROM 'greenhouse/lux/+'",
      "actions":[{"http":{"url":"https://ops.example/ingest/${topic(3)}","method":"PUT",
                          "timeoutMs":1500,
                          "headers":[{"key":"x-client","value":"${clientid()}"}]}}]})"));
  e.dispatch(probe_msg("greenhouse/lux/probe_7", R"({"lux":1200,"other":1})"));
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(http->requests.wait_for(2));
  const auto req = http->requests.items().at(1);
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.url, "https://ops.example/ingest/probe_7");
  EXPECT_EQ(req.body, R"({"lux":1200})");
  EXPECT_EQ(req.timeout, 1500ms);
  using header = std::pair<std::string, std::string>;
  EXPECT_EQ(req.headers,
            (std::vector<header>{{"x-client", "probe_7"}, {"content-type", "application/json"}}));
  const auto m = e.metrics("to_http").value();
  EXPECT_EQ(m.actions_retried, 1u);
  EXPECT_EQ(m.actions_succeeded, 1u);
}

TEST(Transport, CommandActionHandsItsRequestToTheTransport) {
  auto device = std::make_shared<scripted_device>("completeir,1:1,15\r");
  auto o = fast_options();
  o.command = device;
  engine e{o};
  ASSERT_TRUE(e.add_rule("shade", R"({"sql":"SELECT * FROM 'shade/+/set'",
      "actions":[{"command":{"host":"blaster-${topic(2)}","port":4998,
                             "payload":"sendir,1:${topic(2)},15\r","expect":"completeir"}},
                 {"command":{"host":"blaster","port":4998,"expect":"busy"}}]})"));
  e.dispatch(probe_msg("shade/1/set", R"({"position":1})"));
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(device->sent.wait_for(2));
  auto sent = device->sent.items();
  ASSERT_EQ(sent.size(), 2u);  // the failing one is not retried
  if (sent[0].host != "blaster-1") std::swap(sent[0], sent[1]);
  EXPECT_EQ(sent[0].host, "blaster-1");
  EXPECT_EQ(sent[0].port, 4998);
  EXPECT_EQ(sent[0].payload, "sendir,1:1,15\r");
  EXPECT_EQ(sent[0].expect, "completeir");
  EXPECT_TRUE(sent[0].read_reply);
  EXPECT_FALSE(sent[0].timeout);                    // the transport's default
  EXPECT_EQ(sent[1].payload, R"({"position":1})");  // no payload: the output
  const auto m = e.metrics("shade").value();
  EXPECT_EQ(m.actions_succeeded, 1u);
  EXPECT_EQ(m.actions_failed, 1u);
  EXPECT_EQ(m.actions_retried, 0u);
}

TEST(Transport, WebhookSinkBuildsTheSnsEnvelope) {
  auto http = std::make_shared<scripted_http>(std::vector<unsigned>{200});
  notifier n;
  auto arn = n.create_topic("door-alert").value();
  webhook_options w;
  w.timeout = 3s;
  ASSERT_TRUE(n.subscribe(arn, webhook_sink(http, "https://ops.example/hook", w)));
  auto r = n.publish(arn, "ding", message_format::raw, "DOORBELL");
  ASSERT_TRUE(r) << r.describe();
  EXPECT_TRUE(r->failures.empty());
  ASSERT_EQ(http->requests.size(), 1u);
  const auto req = http->requests.items().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "https://ops.example/hook");
  EXPECT_EQ(req.timeout, 3s);
  EXPECT_NE(req.body.find(R"("Type":"Notification")"), std::string::npos) << req.body;
  EXPECT_NE(req.body.find(R"("Subject":"DOORBELL")"), std::string::npos) << req.body;
}

}  // namespace
}  // namespace iotblocks::rules
