// The engine end to end without sockets: a SQLite file, alarms on a manual clock,
// error actions, queue overflow, rules replaced under load and cross-account
// resource policies. The http and command actions over real servers are in
// tests/net_rules; transports without sockets in transport_test.cpp.
#include <iotblocks/policy/document.hpp>
#include <iotblocks/policy/resource_policy.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/sql/error.hpp>

#include "rules/util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace iotblocks::rules {
namespace {

using namespace std::chrono_literals;
using testing::data;
using testing::fast_options;
using testing::msg;
using testing::recording_publisher;
using testing::temp_dir;

TEST(Engine, RejectsBadRulesWithPositions) {
  engine e{fast_options()};
  auto r = e.add_rule("bad", R"({"sql":"SELECT * FROM 'a' WHERE","actions":[]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), sql::error_category());
  EXPECT_EQ(r.fail().where.column, 8u) << r.describe();  // the "sql" value
  EXPECT_NE(r.describe().find("sql:"), std::string::npos);
  r = e.add_rule("bad", R"({"sql":"SELECT * FROM 'a'","actions":[{"smoke":{}}]})");
  EXPECT_EQ(r.error(), error::unknown_action);
  EXPECT_EQ(r.fail().where.column, 48u) << r.describe();  // its parameter object
  r = e.add_rule("bad", R"({"sql":"SELECT * FROM 'a'","actions":[{"http":{"url":"ftp://x"}}]})");
  EXPECT_EQ(r.error(), error::invalid_action) << r.describe();
  r = e.add_rule("bad",
                 R"({"sql":"SELECT * FROM 'a'","actions":[{"republish":{"topic":"${nope(}"}}]})");
  EXPECT_FALSE(r);
  EXPECT_NE(r.describe().find("actions[0].republish"), std::string::npos) << r.describe();
  EXPECT_EQ(e.add_rule("bad-name", R"({"sql":"SELECT * FROM 'a'"})").error(),
            error::invalid_rule_name);
  ASSERT_TRUE(e.add_rule("ok", R"({"sql":"SELECT * FROM 'a'"})"));
  EXPECT_EQ(e.add_rule("ok", R"({"sql":"SELECT * FROM 'a'"})").error(), error::rule_exists);
  EXPECT_EQ(e.replace_rule("missing", R"({"sql":"SELECT * FROM 'a'"})").error(),
            error::no_such_rule);
  EXPECT_EQ(e.rule_count(), 1u);
}

TEST(Engine, SigfoxReadingsStoredByDeviceAndTimestamp) {
  temp_dir dir;
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  auto o = fast_options();
  o.time = &clock;
  o.store_path = dir.file("items.db");
  engine e{o};
  ASSERT_TRUE(e.add_rule("sigfox_to_store", data("sigfox_to_store.json")));
  for (int i = 0; i < 3; ++i) {
    clock.advance(1s);
    const std::string payload =
        R"({"device":"1A2B3C","data":"0)" + std::to_string(i) + R"(","snr":"17.2"})";
    EXPECT_EQ(e.dispatch(msg("sigfox", payload)), 1u);
  }
  EXPECT_EQ(e.dispatch(msg("sigfox", R"({"device":"FFEE00","data":"99"})")), 1u);
  ASSERT_TRUE(e.flush());
  auto items = e.items()->query("sigfox", "1A2B3C").value();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].range_key, "1700000001000");
  EXPECT_EQ(items[2].range_key, "1700000003000");
  EXPECT_TRUE(items[0].range_is_number);
  EXPECT_NE(items[0].to_json().find(R"("deviceid":"1A2B3C")"), std::string::npos);
  EXPECT_NE(items[0].payload.find(R"("data":"00")"), std::string::npos);
  EXPECT_EQ(e.items()->count("sigfox").value(), 4u);
  EXPECT_EQ(e.metrics("sigfox_to_store")->actions_succeeded, 4u);
}

TEST(Engine, GreenhouseLuxStoredByThing) {
  temp_dir dir;
  auto o = fast_options();
  o.store_path = dir.file("items.db");
  engine e{o};
  ASSERT_TRUE(e.add_rule("Lux_telemetry_to_DynamoDB", data("lux_to_store.json")));
  message m = msg("/topic/Greenhouse/LuxSensors/probe_1",
                  R"({"Thing":"greenhouse_lux_probe_1","lux":36250})");
  m.timestamp_ms = 1'700'000'000'123;
  EXPECT_EQ(e.dispatch(m), 1u);
  ASSERT_TRUE(e.flush());
  auto items = e.items()->query("Greenhouse_Lux_Sensor", "greenhouse_lux_probe_1").value();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].range_key, "1700000000123");
  EXPECT_EQ(items[0].hash_key_field, "item");
}

TEST(Engine, FailuresWithoutErrorActionAreReportedNotLost) {
  std::vector<std::string> lines;
  std::mutex m;
  auto o = fast_options();
  o.on_unreported = [&](std::string_view l) {
    std::lock_guard lock{m};
    lines.emplace_back(l);
  };
  engine e{o};
  ASSERT_TRUE(e.add_rule("nopub",
                         R"({"sql":"SELECT * FROM 'a'","actions":[{"republish":{"topic":"b"}}]})"));
  e.dispatch(msg("a", "{}"));
  ASSERT_TRUE(e.flush());
  std::lock_guard lock{m};
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("no publisher"), std::string::npos) << lines[0];
  EXPECT_EQ(e.metrics("nopub")->unreported, 1u);
}

TEST(Engine, FullQueueIsCountedAndReported) {
  std::mutex gate;
  gate.lock();  // the function blocks until the test opens the gate
  auto pub = std::make_shared<recording_publisher>();
  auto o = fast_options();
  o.queue_capacity = 4;
  o.worker_threads = 2;  // one blocks in the function, the other runs the error action
  o.publisher = pub;
  engine e{o};
  e.register_function("slow", [&](const function_event&) -> result<void> {
    std::lock_guard lock{gate};
    return {};
  });
  ASSERT_TRUE(e.add_rule(
      "busy", R"({"sql":"SELECT * FROM 'q'","actions":[{"function":{"functionName":"slow"}}],
      "errorAction":{"republish":{"topic":"errors"}}})"));
  for (int i = 0; i < 20; ++i) e.dispatch(msg("q", "{}"));
  gate.unlock();
  ASSERT_TRUE(e.flush());
  const auto m = e.metrics("busy").value();
  EXPECT_GE(m.actions_dropped, 15u);  // 1 running + 4 queued at most
  // Succeeded counts the function's invocations and the error action's.
  EXPECT_EQ(m.actions_dropped + m.actions_succeeded - m.error_actions_sent, 20u);
  EXPECT_EQ(m.error_actions_sent, m.actions_dropped);
  ASSERT_TRUE(pub->got.wait_for(m.actions_dropped));
  EXPECT_NE(pub->got.items().at(0).payload.find("queue full"), std::string::npos);
}

TEST(Engine, BlockingOverflowWaitsForRoom) {
  auto o = fast_options();
  o.queue_capacity = 2;
  o.overflow = overflow_policy::block;
  o.block_timeout = 10s;
  engine e{o};
  std::atomic<int> n{0};
  e.register_function("count", [&](const function_event&) -> result<void> {
    ++n;
    return {};
  });
  ASSERT_TRUE(e.add_rule(
      "r", R"({"sql":"SELECT * FROM 'q'","actions":[{"function":{"functionName":"count"}}]})"));
  for (int i = 0; i < 200; ++i) e.dispatch(msg("q", "{}"));
  ASSERT_TRUE(e.flush());
  EXPECT_EQ(n.load(), 200);
  EXPECT_EQ(e.metrics("r")->actions_dropped, 0u);
}

TEST(Engine, RulesReplacedWhileMessagesFlow) {
  auto pub = std::make_shared<recording_publisher>();
  auto o = fast_options();
  o.publisher = pub;
  o.queue_capacity = 1 << 16;
  engine e{o};
  ASSERT_TRUE(e.add_rule(
      "live",
      R"({"sql":"SELECT 1 AS v FROM 'in/#'","actions":[{"republish":{"topic":"out/v1"}}]})"));
  std::atomic<bool> done{false};
  std::atomic<int> sent{0};
  std::thread producer([&] {
    while (!done) {
      e.dispatch(msg("in/x", "{}"));
      ++sent;
    }
  });
  for (int i = 0; i < 50; ++i) {
    const std::string v = std::to_string(i % 2 ? 1 : 2);
    ASSERT_TRUE(
        e.replace_rule("live", R"({"sql":"SELECT )" + v +
                                   R"( AS v FROM 'in/#'","actions":[{"republish":{"topic":"out/v)" +
                                   v + R"("}}]})"));
  }
  done = true;
  producer.join();
  ASSERT_TRUE(e.flush());
  const auto got = pub->got.items();
  ASSERT_EQ(static_cast<int>(got.size()),
            sent.load());  // every message went to exactly one version
  for (const auto& p : got) {
    // A message sees either version, whole: output and topic agree.
    EXPECT_EQ(p.topic, "out/v" + p.payload.substr(5, 1)) << p.payload;
  }
  EXPECT_EQ(e.metrics("live")->matched, static_cast<std::uint64_t>(sent.load()));
  EXPECT_TRUE(e.remove_rule("live"));
  EXPECT_EQ(e.dispatch(msg("in/x", "{}")), 0u);
}

TEST(Engine, DisabledRulesAreNotEvaluated) {
  engine e{fast_options()};
  ASSERT_TRUE(e.add_rule("off", R"({"sql":"SELECT * FROM 'a'","ruleDisabled":true})"));
  EXPECT_EQ(e.dispatch(msg("a", "{}")), 0u);
  ASSERT_TRUE(e.set_rule_enabled("off", true));
  EXPECT_EQ(e.dispatch(msg("a", "{}")), 1u);
  EXPECT_EQ(e.metrics("off")->evaluated, 1u);
  EXPECT_FALSE(e.rule("off")->document.disabled);
}

TEST(Engine, CrossAccountAllowedAndDenied) {
  // Weather Corp (123456789012) invokes Forecast Corp's (987654321012) function.
  auto o = fast_options();
  o.account = "123456789012";
  std::vector<std::string> unreported;
  std::mutex m;
  o.on_unreported = [&](std::string_view l) {
    std::lock_guard lock{m};
    unreported.emplace_back(l);
  };
  engine e{o};
  std::atomic<int> invoked{0};
  e.register_function("LambdaForWeatherCorp", [&](const function_event& ev) -> result<void> {
    EXPECT_EQ(ev.rule.arn, "arn:aws:iot:us-east-1:123456789012:rule/WeatherCorpRule");
    ++invoked;
    return {};
  });
  ASSERT_TRUE(e.add_rule("WeatherCorpRule", data("cross_account_lambda.json")));
  ASSERT_TRUE(e.add_rule("OtherRule", data("cross_account_lambda.json")));

  // No resource policy yet: another account's destination is denied.
  e.dispatch(msg("Weather/Corp/Temperature", R"({"t":21})"));
  ASSERT_TRUE(e.flush());
  EXPECT_EQ(invoked.load(), 0);
  EXPECT_EQ(e.metrics("WeatherCorpRule")->actions_failed, 1u);

  const std::string fn = "arn:aws:lambda:us-east-1:987654321012:function:LambdaForWeatherCorp";
  auto text = policy::add_permission(
                  "", {.statement_id = "weather",
                       .action = "lambda:InvokeFunction",
                       .destination_arn = fn,
                       .source_account = "123456789012",
                       .source_arn = "arn:aws:iot:us-east-1:123456789012:rule/WeatherCorpRule"})
                  .value();
  auto doc = policy::parse_document(text, policy::resource_policy_options()).value();
  e.set_resource_policy(fn, &doc);
  e.dispatch(msg("Weather/Corp/Temperature", R"({"t":22})"));
  ASSERT_TRUE(e.flush());
  EXPECT_EQ(invoked.load(), 1);  // WeatherCorpRule allowed, OtherRule denied
  EXPECT_EQ(e.metrics("WeatherCorpRule")->actions_succeeded, 1u);
  EXPECT_EQ(e.metrics("OtherRule")->actions_failed, 2u);
  std::lock_guard lock{m};
  ASSERT_FALSE(unreported.empty());
  EXPECT_NE(unreported.back().find("denied"), std::string::npos) << unreported.back();
}

TEST(Engine, CustomActionType) {
  struct audit final : action {
    std::vector<std::string>* out;
    explicit audit(std::vector<std::string>* o) : out(o) {}
    std::vector<std::string> templates() const override { return {"${topic()}"}; }
    action_status execute(const action_input& in) override {
      out->push_back(in.values[0] + " " + std::string(in.output));
      return {};
    }
  };
  std::vector<std::string> log;
  engine e{fast_options()};
  e.register_action("audit", [&](std::string_view) -> result<std::unique_ptr<action>> {
    return std::unique_ptr<action>(new audit(&log));
  });
  ASSERT_TRUE(e.add_rule("a", R"({"sql":"SELECT x FROM 't/#'","actions":[{"audit":{}}]})"));
  e.dispatch(msg("t/1", R"({"x":5,"y":6})"));
  ASSERT_TRUE(e.flush());
  EXPECT_EQ(log, std::vector<std::string>{R"(t/1 {"x":5})"});
}

}  // namespace
}  // namespace iotblocks::rules

namespace iotblocks::rules::testing {
namespace {

TEST(Engine, DispatchToRunsTheNamedRuleWhateverItsFrom) {
  auto pub = std::make_shared<recording_publisher>();
  auto o = fast_options();
  o.publisher = pub;
  engine e{o};
  ASSERT_TRUE(e.add_rule("ingest", R"({"sql":"SELECT topic() AS t, v FROM 'never/used'",
      "actions":[{"republish":{"topic":"out"}}]})"));
  ASSERT_TRUE(e.add_rule("other", R"({"sql":"SELECT * FROM '#'",
      "actions":[{"republish":{"topic":"other"}}]})"));
  EXPECT_EQ(e.dispatch_to("ingest", msg("a/b", R"({"v":1})")), std::optional<std::size_t>{1});
  ASSERT_TRUE(pub->got.wait_for(1));
  ASSERT_TRUE(e.flush());
  const auto got = pub->got.items();
  ASSERT_EQ(got.size(), 1u);  // "other" (FROM '#') did not run
  EXPECT_EQ(got[0].topic, "out");
  EXPECT_EQ(got[0].payload, R"({"t":"a/b","v":1})");
  EXPECT_EQ(e.dispatch_to("missing", msg("a/b", "{}")), std::nullopt);
  ASSERT_TRUE(e.set_rule_enabled("ingest", false));
  EXPECT_EQ(e.dispatch_to("ingest", msg("a/b", "{}")), std::optional<std::size_t>{0});
}

}  // namespace
}  // namespace iotblocks::rules::testing
