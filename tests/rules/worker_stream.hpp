// Helpers of the `iotblocks rules worker` tests (a probe client, rules, command lines) and the
// SIGKILL-mid-stream case, which runs with the workers' dynamoDB items in any store:
// tests/rules/worker_test.cpp on one SQLite file, tests/postgres/rules_worker_test.cpp on
// PostgreSQL.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/net/mqtt_client.hpp>
#include <iotblocks/rules/item_store.hpp>

#include "net/child_process.hpp"
#include "net/mosquitto_broker.hpp"
#include "net/run_until.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace iotblocks::rules::worker_testing {

using iotblocks::testing::mosquitto_broker;
using process = iotblocks::testing::child_process;
using iotblocks::testing::run_until;

inline long long field(const std::string& text, const std::string& event, const std::string& key) {
  return iotblocks::testing::json_line_field(text, event, key);
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
  bool until(const std::function<bool()>& done) {
    return run_until(io, done, std::chrono::seconds(60));
  }

  boost::asio::io_context io;
  std::map<std::string, int> copies;  // processed topic -> how many times
  int duplicates = 0;
  int published = 0;  // acknowledged by the broker
  bool ready = false;

 private:
  std::unique_ptr<net::mqtt_client> client_;
};

/// Rules that republish sensors/s<i> as processed/s<i> (with a store: and put {"i": i} in
/// table "readings", hash key "sensors", numeric range key i).
inline std::string write_rules(const std::string& name, bool with_store = false) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("iotblocks-worker-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::create_directories(dir);
  const auto rules = (dir / "rules.json").string();
  const std::string store_action = R"(, {"dynamoDB": {"tableName": "readings",
    "hashKeyField": "topic", "hashKeyValue": "${topic(1)}", "rangeKeyField": "i",
    "rangeKeyValue": "${i}", "rangeKeyType": "NUMBER"}})";
  std::ofstream{rules} << R"({"Double": {"sql": "SELECT i, i * 2 AS twice FROM 'sensors/+'",
    "actions": [{"republish": {"topic": "processed/${topic(2)}", "qos": 1}})"
                       << (with_store ? store_action : "") << "]}}";
  return rules;
}

/// The command line of a worker; `store`: its --store, none when empty.
inline std::vector<std::string> worker(const mosquitto_broker& b, const std::string& rules,
                                       const std::string& id, const std::string& max_in_flight,
                                       const std::string& store = {}) {
  std::vector<std::string> args{IOTBLOCKS_CLI_PATH,
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
  if (!store.empty()) args.insert(args.end(), {"--store", store});
  return args;
}

inline bool subscribed(process& p) {
  return p.output().find("\"subscribed\"") != std::string::npos;
}

using store_opener = std::function<result<std::shared_ptr<item_store>>()>;

// A worker SIGKILLed during a stream, restarted with its client id: every message
// is processed at least once. The second half of the stream is published while it
// is down (mosquitto queues its share in its session). Duplicates (processed, not
// yet acknowledged when killed) are counted and reported, not asserted: they depend
// on the moment. With a store (both workers' --store), it holds every message's item
// exactly once: a redelivered message replaced its first item.
inline void killed_mid_stream(const std::string& store = {}, const store_opener& open = {}) {
  mosquitto_broker broker;
  const auto rules = write_rules("stream", !store.empty());
  probe pr{broker.port()};
  constexpr int n = 1000;
  process b{worker(broker, rules, "stream-b", "32", store)};
  auto a = std::make_unique<process>(worker(broker, rules, "stream-a", "32", store));
  ASSERT_TRUE(pr.until([&] { return pr.ready && subscribed(*a) && subscribed(b); }))
      << a->output() << b.output();
  pr.publish(0, n / 2);
  ASSERT_TRUE(pr.until([&] { return pr.copies.size() >= 150; }));
  a->signal(SIGKILL);
  EXPECT_EQ(a->wait(), 128 + SIGKILL);
  const auto before = pr.copies.size();
  pr.publish(n / 2, n);
  ASSERT_TRUE(pr.until([&] { return pr.published == n; }));
  a = std::make_unique<process>(worker(broker, rules, "stream-a", "32", store));
  ASSERT_TRUE(pr.until([&] { return static_cast<int>(pr.copies.size()) == n; }))
      << pr.copies.size();
  EXPECT_EQ(a->terminate(), 0);
  EXPECT_EQ(b.terminate(), 0);
  for (int i = 0; i < n; ++i) EXPECT_TRUE(pr.copies.contains("processed/s" + std::to_string(i)));
  const auto redelivered = field(a->output(), "stopped", "redelivered");
  EXPECT_GT(field(a->output(), "stopped", "received"), 0) << a->output();  // its share came back
  EXPECT_EQ(field(a->output(), "stopped", "acked"), field(a->output(), "stopped", "received"));
  EXPECT_EQ(field(b.output(), "stopped", "acked"), field(b.output(), "stopped", "received"));
  EXPECT_EQ(field(a->output(), "stopped", "actions_failed"), 0) << a->output();
  EXPECT_EQ(field(b.output(), "stopped", "actions_failed"), 0) << b.output();
  std::printf(
      "killed after %zu of %d processed; restarted worker got %lld (%lld redelivered); "
      "duplicates %d\n",
      before, n, field(a->output(), "stopped", "received"), redelivered, pr.duplicates);
  ::testing::Test::RecordProperty("duplicates", pr.duplicates);
  ::testing::Test::RecordProperty("redelivered", static_cast<int>(redelivered));
  // A duplicate is a message the killed worker republished but had not acknowledged.
  EXPECT_LE(pr.duplicates, redelivered);
  std::filesystem::remove_all(std::filesystem::path(rules).parent_path());
  if (store.empty()) return;
  // Both workers stopped after acknowledging everything: every item is committed.
  auto items = open();
  ASSERT_TRUE(items) << items.describe();
  EXPECT_EQ((*items)->count("readings").value(), static_cast<std::size_t>(n));
  range_query all;
  all.limit = 2 * n;
  const auto got = (*items)->query("readings", "sensors", all).value();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(got[static_cast<std::size_t>(i)].range_key, std::to_string(i));
    EXPECT_EQ(got[static_cast<std::size_t>(i)].payload,
              "{\"i\":" + std::to_string(i) + ",\"twice\":" + std::to_string(2 * i) + "}");
  }
}

}  // namespace iotblocks::rules::worker_testing
