// iotblocks-bench against a real mosquitto: a broker that drops queued messages is
// reported as losing them (and one that keeps them as losing none), and the TLS
// connect storm counts the handshakes the broker resumed from a session ticket.
#include "net/child_process.hpp"
#include "net/mosquitto_broker.hpp"
#include "net/test_servers.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using iotblocks::testing::child_process;
using iotblocks::testing::mosquitto_broker;

// The number after "key": in the JSON object the bench printed; -1 when absent.
long long field(const std::string& json, const std::string& key) {
  const auto k = json.find("\"" + key + "\":");
  if (k == std::string::npos) return -1;
  return std::stoll(json.substr(k + key.size() + 3));
}

std::string run_bench(std::vector<std::string> args) {
  args.insert(args.begin(), IOTBLOCKS_BENCH_PROGRAM);
  child_process bench{std::move(args)};
  EXPECT_EQ(bench.wait(), 0);
  return bench.output();
}

// 2 persistent subscribers, each away for 0.4 s in the middle of a 1.5 s run; `drain`:
// seconds to wait for messages still owed at the end.
std::vector<std::string> persistent_run(const mosquitto_broker& b, const char* drain) {
  // clang-format off
  return {"--port", std::to_string(b.port()), "-p", "5", "-s", "2", "-q", "1", "--persistent",
          "--mqtt-version", "5", "--offline", "0.4", "--inflight", "10", "-d", "1.5",
          "--drain", drain};
  // clang-format on
}

TEST(BenchProgram, MessagesTheBrokerDropsAreLost) {
  // mosquitto queues at most 2 messages per client beyond its in-flight window and
  // drops the rest, so the subscribers that go offline miss messages.
  mosquitto_broker broker{0, "max_queued_messages 2\nmax_inflight_messages 2\n"};
  const auto out = run_bench(persistent_run(broker, "1"));
  SCOPED_TRACE(out);
  EXPECT_GT(field(out, "lost"), 0);
  EXPECT_EQ(field(out, "received") + field(out, "lost"), field(out, "expected"));
  EXPECT_EQ(field(out, "reconnects"), 2);
  EXPECT_EQ(field(out, "sessions_lost"), 0);
}

TEST(BenchProgram, NothingLostWhenTheSessionKeepsEverything) {
  mosquitto_broker broker;
  const auto out = run_bench(persistent_run(broker, "5"));
  SCOPED_TRACE(out);
  EXPECT_GT(field(out, "expected"), 0);
  EXPECT_EQ(field(out, "lost"), 0);
  EXPECT_EQ(field(out, "received"), field(out, "expected"));
  EXPECT_EQ(field(out, "reconnects"), 2);
}

TEST(BenchProgram, RetainedFanOutReceivesEveryStoredMessage) {
  mosquitto_broker broker;
  const auto out = run_bench({"--port", std::to_string(broker.port()), "-s", "2", "-q", "1",
                              "--retained", "500", "-d", "5"});
  SCOPED_TRACE(out);
  EXPECT_EQ(field(out, "expected"), 1000);
  EXPECT_EQ(field(out, "received"), 1000);
  EXPECT_EQ(field(out, "lost"), 0);
}

TEST(BenchProgram, ConnectStormCountsResumedHandshakes) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("iotblocks-bench-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto cert = iotblocks::testing::test_certificate::make();
  std::ofstream{dir / "cert.pem"} << cert.cert_pem;
  std::ofstream{dir / "key.pem"} << cert.key_pem;
  std::filesystem::permissions(dir, std::filesystem::perms::all);  // mosquitto drops root
  const auto tls_port = iotblocks::testing::free_loopback_port();
  mosquitto_broker broker{0, "per_listener_settings false\nlistener " + std::to_string(tls_port) +
                                 " 127.0.0.1\ncertfile " + (dir / "cert.pem").string() +
                                 "\nkeyfile " + (dir / "key.pem").string() + "\n"};
  const std::vector<std::string> storm{
      "--port",    std::to_string(tls_port),   "--connect-storm", "20", "--concurrency", "1",
      "--ca-file", (dir / "cert.pem").string()};
  const auto resumed = run_bench(storm);
  auto full = storm;
  full.push_back("--no-resume");
  const auto fresh = run_bench(full);
  std::filesystem::remove_all(dir);
  SCOPED_TRACE(resumed + fresh);
  EXPECT_EQ(field(resumed, "received"), 20);
  EXPECT_EQ(field(resumed, "resumed"), 19);  // every one but the first offers a ticket
  EXPECT_EQ(field(fresh, "received"), 20);
  EXPECT_EQ(field(fresh, "resumed"), 0);
}

}  // namespace
