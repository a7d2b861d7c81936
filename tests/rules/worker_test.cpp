// `iotblocks rules worker` x 2 against a real mosquitto with shared
// subscriptions: every message is processed exactly once across the two
// processes, and both get a share.
#include <iotblocks/net/mqtt_client.hpp>

#include "net/mosquitto_broker.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace iotblocks::rules {
namespace {

using iotblocks::testing::mosquitto_broker;

/// A child process with its standard output on a pipe.
class process {
 public:
  explicit process(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
    ::fcntl(out_, F_SETFL, O_NONBLOCK);
  }
  ~process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }
  /// What the process printed so far.
  const std::string& output() {
    char buf[4096];
    for (;;) {
      const auto n = ::read(out_, buf, sizeof buf);
      if (n <= 0) break;
      text_.append(buf, static_cast<std::size_t>(n));
    }
    return text_;
  }
  /// SIGTERM, then waits for the exit; returns the exit status.
  int terminate() {
    ::kill(pid_, SIGTERM);
    return wait();
  }
  /// Waits for the exit; returns the exit status.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    ::fcntl(out_, F_SETFL, 0);
    output();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string text_;
};

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  return true;
}

// The number after "key": in the last line of `text` that contains `event`.
long long field(const std::string& text, const std::string& event, const std::string& key) {
  const auto at = text.rfind("\"event\":\"" + event + "\"");
  if (at == std::string::npos) return -1;
  const auto k = text.find("\"" + key + "\":", at);
  if (k == std::string::npos) return -1;
  return std::stoll(text.substr(k + key.size() + 3));
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

TEST(RulesWorker, RefusesABadCommandLine) {
  process p{{IOTBLOCKS_CLI_PATH, "rules", "worker", "--broker", "http://x", "--group", "g",
             "--rules", "/nonexistent"}};
  EXPECT_EQ(p.wait(), 2);  // usage
  EXPECT_EQ(p.output(), "");
}

}  // namespace
}  // namespace iotblocks::rules
