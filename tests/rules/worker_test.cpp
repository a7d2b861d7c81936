// `iotblocks rules worker` against a real mosquitto with shared subscriptions:
// every message is processed exactly once across two processes, and both get a
// share; a SIGKILLed worker restarted with its client id gets back what it held
// (at least once). Also engine::dispatch's completion, which the worker acks on.
#include <iotblocks/net/mqtt_client.hpp>
#include <iotblocks/rules/engine.hpp>

#include "net/child_process.hpp"
#include "net/mosquitto_broker.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "net/run_until.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <unistd.h>

namespace iotblocks::rules {
namespace {

using iotblocks::testing::mosquitto_broker;
using namespace std::chrono_literals;

using process = testing::child_process;

using iotblocks::testing::run_until;

long long field(const std::string& text, const std::string& event, const std::string& key) {
  return testing::json_line_field(text, event, key);
}

TEST(RulesWorker, TwoWorkersShareTheMessagesExactlyOnce) {
  mosquitto_broker broker;
  const auto dir =
      std::filesystem::temp_directory_path() / ("iotblocks-worker-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto rules = (dir / "rules.json").string();
  std::ofstream{rules} << R"({"Double": {"sql": "SELECT i, i * 2 AS twice FROM 'sensors/+'",
    "actions": [{"republish": {"topic": "processed/${topic(2)}", "qos": 1}}]}})";

  const std::string url = "mqtt://127.0.0.1:" + std::to_string(broker.port());
  process a{{IOTBLOCKS_CLI_PATH, "rules", "worker", "--broker", url, "--group", "g", "--rules",
             rules, "--client-id", "worker-a"}};
  process b{{IOTBLOCKS_CLI_PATH, "rules", "worker", "--broker", url, "--group", "g", "--rules",
             rules, "--client-id", "worker-b"}};

  boost::asio::io_context io;
  net::mqtt_client_options o;
  o.port = broker.port();
  o.client_id = "test-probe";
  o.version = mqtt::protocol_version::v5;
  net::mqtt_client probe{io.get_executor(), o};
  std::map<std::string, std::string> processed;  // topic -> payload
  int duplicates = 0;
  bool subscribed = false;
  probe.on_message([&](const mqtt::publish_view& p) {
    if (!processed.emplace(std::string(p.topic), std::string(as_string_view(p.payload))).second)
      ++duplicates;
  });
  probe.on_connect([&](std::error_code ec, bool) {
    if (!ec) probe.subscribe({{"processed/#", {.qos = 1}}}, [&](auto, auto) { subscribed = true; });
  });
  probe.connect();
  ASSERT_TRUE(run_until(io,
                        [&] {
                          return subscribed &&
                                 a.output().find("\"subscribed\"") != std::string::npos &&
                                 b.output().find("\"subscribed\"") != std::string::npos;
                        }))
      << a.output() << b.output();

  constexpr int n = 200;
  for (int i = 0; i < n; ++i) {
    probe.publish("sensors/s" + std::to_string(i), to_buffer("{\"i\":" + std::to_string(i) + "}"),
                  1, false);
  }
  ASSERT_TRUE(run_until(io, [&] { return processed.size() == n; })) << processed.size();
  for (int i = 0; i < n; ++i) {
    const auto it = processed.find("processed/s" + std::to_string(i));
    ASSERT_NE(it, processed.end()) << i;
    EXPECT_EQ(it->second,
              "{\"i\":" + std::to_string(i) + ",\"twice\":" + std::to_string(2 * i) + "}");
  }
  EXPECT_EQ(a.terminate(), 0);
  EXPECT_EQ(b.terminate(), 0);
  // Anything processed twice would have been republished twice by now.
  EXPECT_EQ(duplicates, 0);
  const auto ra = field(a.output(), "stopped", "received");
  const auto rb = field(b.output(), "stopped", "received");
  EXPECT_GT(ra, 0) << a.output();
  EXPECT_GT(rb, 0) << b.output();
  EXPECT_EQ(ra + rb, n);
  EXPECT_EQ(field(a.output(), "stopped", "matched") + field(b.output(), "stopped", "matched"), n);
  EXPECT_EQ(field(a.output(), "stopped", "actions_succeeded") +
                field(b.output(), "stopped", "actions_succeeded"),
            n);
  std::filesystem::remove_all(dir);
}

/// A test client that publishes sensors/s<i> and counts each processed/s<i>.
class probe {
 public:
  explicit probe(std::uint16_t port) {
    net::mqtt_client_options o;
    o.port = port;
    o.client_id = "test-probe";
    o.version = mqtt::protocol_version::v5;
    o.max_in_flight = 1000;
    client_ = std::make_unique<net::mqtt_client>(io.get_executor(), o);
    client_->on_message([this](const mqtt::publish_view& p) {
      auto& n = copies[std::string(p.topic)];
      if (++n > 1) ++duplicates;
    });
    client_->on_connect([this](std::error_code ec, bool) {
      if (!ec)
        client_->subscribe({{"processed/#", {.qos = 1}}}, [this](auto, auto) { ready = true; });
    });
    client_->connect();
  }
  void publish(int from, int to, std::uint8_t qos = 1) {
    for (int i = from; i < to; ++i) {
      client_->publish("sensors/s" + std::to_string(i),
                       to_buffer("{\"i\":" + std::to_string(i) + "}"), qos, false,
                       [this](std::error_code ec) {
                         if (!ec) ++published;
                       });
    }
  }
  bool until(const std::function<bool()>& done) { return run_until(io, done); }

  boost::asio::io_context io;
  std::map<std::string, int> copies;  // processed topic -> how many times
  int duplicates = 0;
  int published = 0;  // acknowledged by the broker
  bool ready = false;

 private:
  std::unique_ptr<net::mqtt_client> client_;
};

std::string write_rules(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("iotblocks-worker-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::create_directories(dir);
  const auto rules = (dir / "rules.json").string();
  std::ofstream{rules} << R"({"Double": {"sql": "SELECT i, i * 2 AS twice FROM 'sensors/+'",
    "actions": [{"republish": {"topic": "processed/${topic(2)}", "qos": 1}}]}})";
  return rules;
}

std::vector<std::string> worker(const mosquitto_broker& b, const std::string& rules,
                                const std::string& id, const std::string& max_in_flight) {
  return {IOTBLOCKS_CLI_PATH,
          "rules",
          "worker",
          "--broker",
          "mqtt://127.0.0.1:" + std::to_string(b.port()),
          "--group",
          "g",
          "--rules",
          rules,
          "--client-id",
          id,
          "--max-in-flight",
          max_in_flight};
}

bool subscribed(process& p) { return p.output().find("\"subscribed\"") != std::string::npos; }

// Deterministic crash: the worker is frozen (SIGSTOP) while the broker hands it
// messages, then SIGKILLed. Nothing was acknowledged, so its session keeps all of
// them: the in-flight window (Receive Maximum) and the queue behind it.
TEST(RulesWorker, RestartedWorkerGetsBackWhatAKilledOneHeld) {
  mosquitto_broker broker;
  const auto rules = write_rules("held");
  probe pr{broker.port()};
  constexpr int n = 300;
  {
    process a{worker(broker, rules, "held-a", "16")};
    ASSERT_TRUE(pr.until([&] { return pr.ready && subscribed(a); })) << a.output();
    a.signal(SIGSTOP);
    pr.publish(0, n);
    ASSERT_TRUE(pr.until([&] { return pr.published == n; }));
    a.signal(SIGKILL);
    EXPECT_EQ(a.wait(), 128 + SIGKILL);
  }
  EXPECT_TRUE(pr.copies.empty());  // frozen before the first message
  process again{worker(broker, rules, "held-a", "16")};
  ASSERT_TRUE(pr.until([&] { return static_cast<int>(pr.copies.size()) == n; }))
      << pr.copies.size() << again.output();
  EXPECT_EQ(again.terminate(), 0);
  EXPECT_EQ(pr.duplicates, 0);
  EXPECT_EQ(field(again.output(), "stopped", "received"), n) << again.output();
  EXPECT_EQ(field(again.output(), "stopped", "acked"), n);
  // The broker had sent the first Receive Maximum of them: they come back as DUP.
  EXPECT_EQ(field(again.output(), "stopped", "redelivered"), 16) << again.output();
  std::filesystem::remove_all(std::filesystem::path(rules).parent_path());
}

// A worker SIGKILLed during a stream, restarted with its client id: every message
// is processed at least once. The second half of the stream is published while it
// is down (mosquitto queues its share in its session). Duplicates (processed, not
// yet acknowledged when killed) are counted and reported, not asserted: they depend
// on the moment.
TEST(RulesWorker, KilledMidStreamEveryMessageIsProcessedAtLeastOnce) {
  mosquitto_broker broker;
  const auto rules = write_rules("stream");
  probe pr{broker.port()};
  constexpr int n = 1000;
  process b{worker(broker, rules, "stream-b", "32")};
  auto a = std::make_unique<process>(worker(broker, rules, "stream-a", "32"));
  ASSERT_TRUE(pr.until([&] { return pr.ready && subscribed(*a) && subscribed(b); }));
  pr.publish(0, n / 2);
  ASSERT_TRUE(pr.until([&] { return pr.copies.size() >= 150; }));
  a->signal(SIGKILL);
  EXPECT_EQ(a->wait(), 128 + SIGKILL);
  const auto before = pr.copies.size();
  pr.publish(n / 2, n);
  ASSERT_TRUE(pr.until([&] { return pr.published == n; }));
  a = std::make_unique<process>(worker(broker, rules, "stream-a", "32"));
  ASSERT_TRUE(pr.until([&] { return static_cast<int>(pr.copies.size()) == n; }))
      << pr.copies.size();
  EXPECT_EQ(a->terminate(), 0);
  EXPECT_EQ(b.terminate(), 0);
  for (int i = 0; i < n; ++i) EXPECT_TRUE(pr.copies.contains("processed/s" + std::to_string(i)));
  const auto redelivered = field(a->output(), "stopped", "redelivered");
  EXPECT_GT(field(a->output(), "stopped", "received"), 0) << a->output();  // its share came back
  EXPECT_EQ(field(a->output(), "stopped", "acked"), field(a->output(), "stopped", "received"));
  EXPECT_EQ(field(b.output(), "stopped", "acked"), field(b.output(), "stopped", "received"));
  std::printf(
      "killed after %zu of %d processed; restarted worker got %lld (%lld redelivered); "
      "duplicates %d\n",
      before, n, field(a->output(), "stopped", "received"), redelivered, pr.duplicates);
  RecordProperty("duplicates", pr.duplicates);
  RecordProperty("redelivered", static_cast<int>(redelivered));
  // A duplicate is a message the killed worker republished but had not acknowledged.
  EXPECT_LE(pr.duplicates, redelivered);
  std::filesystem::remove_all(std::filesystem::path(rules).parent_path());
}

// mosquitto 2.0.11 overruns the worker's Receive Maximum (after each PUBACK it
// sends up to a whole window more). The messages beyond --max-in-flight wait in
// the worker: none of their actions is dropped by a full engine queue, and none
// is acknowledged before its republish is.
TEST(RulesWorker, ABrokerOverrunningReceiveMaximumLosesNothing) {
  mosquitto_broker broker;
  const auto rules = write_rules("overrun");
  probe pr{broker.port()};
  constexpr int n = 3000;
  process a{worker(broker, rules, "overrun-a", "4")};
  ASSERT_TRUE(pr.until([&] { return pr.ready && subscribed(a); })) << a.output();
  pr.publish(0, n);
  ASSERT_TRUE(pr.until([&] { return static_cast<int>(pr.copies.size()) == n; }))
      << pr.copies.size() << a.output();
  EXPECT_EQ(a.terminate(), 0);
  EXPECT_EQ(pr.duplicates, 0);
  EXPECT_EQ(a.output().find("queue full"), std::string::npos) << a.output();
  EXPECT_EQ(field(a.output(), "stopped", "received"), n) << a.output();
  EXPECT_EQ(field(a.output(), "stopped", "acked"), n);
  EXPECT_EQ(field(a.output(), "stopped", "actions_succeeded"), n);
  std::filesystem::remove_all(std::filesystem::path(rules).parent_path());
}

// QoS 2 with manual acks: PUBREC after the actions, each message processed once.
TEST(RulesWorker, QoS2MessagesAreProcessedOnceAndAcknowledged) {
  mosquitto_broker broker;
  const auto rules = write_rules("qos2");
  probe pr{broker.port()};
  constexpr int n = 200;
  auto args = worker(broker, rules, "qos2-a", "8");
  args.insert(args.end(), {"--qos", "2"});
  process a{args};
  ASSERT_TRUE(pr.until([&] { return pr.ready && subscribed(a); })) << a.output();
  pr.publish(0, n, 2);
  ASSERT_TRUE(pr.until([&] { return static_cast<int>(pr.copies.size()) == n; }))
      << pr.copies.size() << a.output();
  EXPECT_EQ(a.terminate(), 0);
  EXPECT_EQ(pr.duplicates, 0);
  EXPECT_EQ(field(a.output(), "stopped", "received"), n) << a.output();
  EXPECT_EQ(field(a.output(), "stopped", "acked"), n);
  std::filesystem::remove_all(std::filesystem::path(rules).parent_path());
}

// What a shell command printed (stdout).
std::string shell(const std::string& cmd) {
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    ::pclose(f);
  }
  return out;
}

TEST(RulesWorker, RuleSqlSeesTheMqtt5PropertiesOfTheMessage) {
  mosquitto_broker broker;
  const auto rules = write_rules("props");
  std::ofstream{rules} << R"({"Props": {"sql": "SELECT get_user_properties('site') AS site, )"
                          R"(get_mqtt_property('content_type') AS ct FROM 'sensors/+'",)"
                          R"("actions": [{"republish": {"topic": "processed/${topic(2)}"}}]}})";
  process a{worker(broker, rules, "props-a", "8")};
  for (int i = 0; i < 500 && !subscribed(a); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(subscribed(a)) << a.output();
  const std::string at = " -h 127.0.0.1 -p " + std::to_string(broker.port());
  auto sub = std::async(std::launch::async,
                        [&] { return shell("mosquitto_sub" + at + " -t processed/p -C 1 -W 30"); });
  for (int i = 0; i < 100 && sub.wait_for(200ms) != std::future_status::ready; ++i) {
    shell("mosquitto_pub" + at +
          " -V mqttv5 -t sensors/p -m '{}' -q 1 "
          "-D publish user-property site berlin -D publish content-type application/json");
  }
  EXPECT_EQ(sub.get(), "{\"site\":[\"berlin\"],\"ct\":\"application/json\"}\n") << a.output();
  std::filesystem::remove_all(std::filesystem::path(rules).parent_path());
}

// ---- engine::dispatch(m, done): what the worker acknowledges on -------------

engine_options quiet() {
  engine_options o;
  o.tick_interval = std::chrono::milliseconds(0);
  o.retry.max_attempts = 1;
  o.on_unreported = [](std::string_view) {};
  return o;
}

message on(std::string_view topic) {
  static const std::string payload = R"({"v":1})";
  message m;
  m.topic = topic;
  m.payload = as_bytes(payload);
  return m;
}

TEST(DispatchDone, WaitsForEveryActionOfEveryMatchingRule) {
  std::mutex gate;
  gate.lock();  // "gated" waits until the test opens it
  engine e{quiet()};
  std::atomic<int> ran{0}, calls{0};
  e.register_function("gated", [&](const function_event&) -> result<void> {
    std::lock_guard lock{gate};
    ++ran;
    return {};
  });
  e.register_function("quick", [&](const function_event&) -> result<void> {
    ++ran;
    return {};
  });
  ASSERT_TRUE(e.add_rule("a", R"({"sql":"SELECT * FROM 't/#'","actions":[
      {"function":{"functionName":"gated"}},{"function":{"functionName":"quick"}}]})"));
  ASSERT_TRUE(e.add_rule(
      "b", R"({"sql":"SELECT * FROM 't/+'","actions":[{"function":{"functionName":"quick"}}]})"));
  std::error_code got = make_error_code(error::stopped);
  EXPECT_EQ(e.dispatch(on("t/x"),
                       [&](std::error_code ec) {
                         got = ec;
                         ++calls;
                       }),
            2u);
  EXPECT_EQ(calls.load(), 0);  // "gated" cannot have finished
  gate.unlock();
  ASSERT_TRUE(e.flush());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_FALSE(got) << got.message();
  EXPECT_EQ(ran.load(), 3);
}

TEST(DispatchDone, WaitsForTheErrorActionOfAFailedAction) {
  std::mutex gate;
  gate.lock();
  engine e{quiet()};
  std::atomic<int> reports{0}, calls{0};
  e.register_function("down", [](const function_event&) -> result<void> {
    return {make_error_code(error::action_failed), "service down"};
  });
  e.register_function("report", [&](const function_event& ev) -> result<void> {
    std::lock_guard lock{gate};
    if (ev.output.find("service down") != std::string_view::npos) ++reports;
    return {};
  });
  ASSERT_TRUE(e.add_rule("r", R"({"sql":"SELECT * FROM 't/x'",
      "actions":[{"function":{"functionName":"down"}}],
      "errorAction":{"function":{"functionName":"report"}}})"));
  std::error_code got = make_error_code(error::stopped);
  e.dispatch(on("t/x"), [&](std::error_code ec) {
    got = ec;
    ++calls;
  });
  EXPECT_EQ(calls.load(), 0);  // the errorAction waits at the gate
  gate.unlock();
  ASSERT_TRUE(e.flush());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_FALSE(got);  // finished: the failure went to the errorAction
  EXPECT_EQ(reports.load(), 1);
  EXPECT_EQ(e.metrics("r")->actions_failed, 1u);
}

TEST(DispatchDone, CalledInlineWhenNothingIsQueued) {
  engine e{quiet()};
  ASSERT_TRUE(e.add_rule(
      "r",
      R"({"sql":"SELECT * FROM 't/x' WHERE v > 5","actions":[{"function":{"functionName":"f"}}]})"));
  int calls = 0;
  std::error_code got = make_error_code(error::stopped);
  auto done = [&](std::error_code ec) {
    got = ec;
    ++calls;
  };
  EXPECT_EQ(e.dispatch(on("other"), done), 0u);  // no rule
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(got);
  EXPECT_EQ(e.dispatch(on("t/x"), done), 0u);  // WHERE false
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(got);
}

TEST(DispatchDone, ReportsAStoppedEngine) {
  engine e{quiet()};
  ASSERT_TRUE(e.add_rule(
      "r", R"({"sql":"SELECT * FROM 't/x'","actions":[{"function":{"functionName":"f"}}]})"));
  e.stop();
  std::error_code got;
  e.dispatch(on("t/x"), [&](std::error_code ec) { got = ec; });
  EXPECT_EQ(got, make_error_code(error::stopped));
}

// A consumer that acknowledges on `done` must not acknowledge a message whose
// action was never tried.
TEST(DispatchDone, ReportsAnInvocationDroppedByAFullQueue) {
  std::mutex gate;
  gate.lock();
  auto o = quiet();
  o.worker_threads = 1;
  o.queue_capacity = 1;
  engine e{o};
  std::atomic<bool> running{false};
  e.register_function("gated", [&](const function_event&) -> result<void> {
    running = true;
    std::lock_guard lock{gate};
    return {};
  });
  ASSERT_TRUE(e.add_rule(
      "r", R"({"sql":"SELECT * FROM 't/x'","actions":[{"function":{"functionName":"gated"}}]})"));
  std::mutex m;
  std::vector<std::error_code> got;
  auto done = [&](std::error_code ec) {
    std::lock_guard lock{m};
    got.push_back(ec);
  };
  // The first runs (held at the gate), the second waits in the queue of 1, the
  // third finds it full.
  e.dispatch(on("t/x"), done);
  while (!running) std::this_thread::yield();
  e.dispatch(on("t/x"), done);
  e.dispatch(on("t/x"), done);
  gate.unlock();
  ASSERT_TRUE(e.flush());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], make_error_code(error::queue_full));  // inline, in the third dispatch
  EXPECT_FALSE(got[1]);
  EXPECT_FALSE(got[2]);
}

TEST(RulesWorker, RefusesABadCommandLine) {
  process p{{IOTBLOCKS_CLI_PATH, "rules", "worker", "--broker", "http://x", "--group", "g",
             "--rules", "/nonexistent"}};
  EXPECT_EQ(p.wait(), 2);  // usage
  EXPECT_EQ(p.output(), "");
}

}  // namespace
}  // namespace iotblocks::rules
