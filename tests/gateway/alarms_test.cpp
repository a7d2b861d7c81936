// The config's "notify" topics and "alarms" end to end: mosquitto_pub publishes
// readings, a cloudwatchMetric rule turns them into datapoints, the alarm goes to
// ALARM on the gateway's own evaluation and its notify topic sends the IR command
// to a TCP "blaster" and POSTs to a webhook, both served here. Periods are 60 s at the least; the
// readings carry timestamps of the previous minutes (metricTimestamp), so nothing waits for a
// minute to pass.
#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/http_server.hpp>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/json.hpp"

namespace iotblocks::gateway {
namespace {

using namespace std::chrono_literals;

/// An HTTP listener keeping every POST body it receives.
class webhook {
 public:
  webhook() {
    server_.route("POST", "/hook", [this](const net::incoming_request& r) {
      std::lock_guard lock{m_};
      bodies_.push_back(r.body);
      cv_.notify_all();
      return net::http_reply{200, "{}"};
    });
    port_ = server_.listen({.port = 0}).value();
    server_.start();
  }
  ~webhook() { server_.stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  /// The first body, waiting up to `deadline`; empty when none came.
  std::string first(std::chrono::seconds deadline) {
    std::unique_lock lock{m_};
    cv_.wait_for(lock, deadline, [this] { return !bodies_.empty(); });
    return bodies_.empty() ? std::string{} : bodies_.front();
  }

 private:
  net::http_server server_;
  std::uint16_t port_ = 0;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::string> bodies_;
};

/// A TCP device (the infrared blaster): takes one command, answers "completeir".
class blaster {
 public:
  blaster() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), n) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n) != 0) {
      throw std::runtime_error("blaster: cannot listen");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string got;
      char buf[256];
      while (got.find('\r') == std::string::npos) {
        const auto r = ::read(c, buf, sizeof buf);
        if (r <= 0) break;
        got.append(buf, static_cast<std::size_t>(r));
      }
      const std::string reply = "completeir,1:1,15\r";
      (void)!::write(c, reply.data(), reply.size());
      ::close(c);
      std::lock_guard lock{m_};
      command_ = got;
      cv_.notify_all();
    });
  }
  ~blaster() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  /// The command received, waiting up to `deadline`; empty when none came.
  std::string command(std::chrono::seconds deadline) {
    std::unique_lock lock{m_};
    cv_.wait_for(lock, deadline, [this] { return !command_.empty(); });
    return command_;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::mutex m_;
  std::condition_variable cv_;
  std::string command_;
  std::thread thread_;
};

std::filesystem::path fresh_dir() {
  auto d = std::filesystem::temp_directory_path() /
           ("iotblocks-alarms-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(d);
  return d;
}

std::string config_text(const std::filesystem::path& dir, const std::string& hook,
                        const std::string& alarm_target, const std::string& extra_sub = "") {
  return R"({"listeners": [{"type": "mqtt", "port": 0}], "threads": 1, "data_dir": ")" +
         dir.string() + R"(",
    "rules": {"TooBright": {"sql": "SELECT * FROM 'greenhouse/lux' WHERE lux > 35000",
      "actions": [{"cloudwatchMetric": {"metricNamespace": "Greenhouse", "metricName": "ShadePosition",
                   "metricValue": "1", "metricUnit": "Count", "metricTimestamp": "${ts}"}}]}},
    "notify": {"Sunshade_Close": [{"webhook": ")" +
         hook + R"("}, {"log": true})" + extra_sub + R"(]},
    "alarms": {"Trigger_SunShade_Close": {"Namespace": "Greenhouse", "MetricName": "ShadePosition",
      "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 1,
      "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 1,
      "AlarmActions": [")" +
         alarm_target + R"("]}}})";
}

TEST(GatewayAlarms, PublishesDriveTheAlarmAndItsWebhook) {
  webhook hook;
  blaster ir;
  const auto dir = fresh_dir();
  auto c = parse_config(
      config_text(dir, hook.url(), "arn:aws:sns:us-east-1:000000000000:Sunshade_Close",
                  R"(, {"tcp": "127.0.0.1:)" + std::to_string(ir.port()) +
                      R"(", "payload": "sendir,1:1,15,37993\r", "expect": "completeir"})"));
  ASSERT_TRUE(c) << c.describe();
  gateway gw{*c};
  auto ok = gw.start();
  ASSERT_TRUE(ok) << ok.describe();
  const auto port = gw.port("mqtt");
  ASSERT_NE(port, 0);
  // Two bright readings stamped one and two minutes ago: whichever minute the
  // evaluation runs in (even after a boundary), one of its 3 periods holds one.
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  for (auto ts : {now_s - 60, now_s - 120}) {
    const std::string cmd =
        "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(port) +
        " -q 1 -t greenhouse/lux -m '{\"lux\": 41000, \"ts\": " + std::to_string(ts) + "}'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  // The engine evaluates every second of real time; give it a generous deadline.
  const std::string body = hook.first(30s);
  const std::string ir_command = ir.command(30s);
  gw.stop();
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(body.empty()) << "the webhook got nothing";
  auto envelope = json::parse(body);
  ASSERT_TRUE(envelope) << body;
  EXPECT_EQ(json::get_string(*envelope, "Type").value_or(""), "Notification");
  EXPECT_EQ(json::get_string(*envelope, "TopicArn").value_or(""),
            "arn:aws:sns:us-east-1:000000000000:Sunshade_Close");
  auto message = json::parse(json::get_string(*envelope, "Message").value_or(""));
  ASSERT_TRUE(message) << body;
  EXPECT_EQ(json::get_string(*message, "AlarmName").value_or(""), "Trigger_SunShade_Close");
  EXPECT_EQ(json::get_string(*message, "NewStateValue").value_or(""), "ALARM");
  EXPECT_EQ(json::get_string(*message, "OldStateValue").value_or(""), "INSUFFICIENT_DATA");
  // The next subscription after the webhook and the log line: the blaster.
  EXPECT_EQ(ir_command, "sendir,1:1,15,37993\r");
}

TEST(GatewayAlarms, AnAlarmActionWithoutItsNotifyTopicStopsTheStart) {
  const auto dir = fresh_dir();
  auto c = parse_config(config_text(dir, "http://127.0.0.1:9/hook", "Sunshade_Open"));
  ASSERT_TRUE(c) << c.describe();
  gateway gw{*c};
  auto ok = gw.start();
  gw.stop();
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.describe().find("alarms.Trigger_SunShade_Close"), std::string::npos)
      << ok.describe();
  EXPECT_NE(ok.describe().find("Sunshade_Open"), std::string::npos) << ok.describe();
}

}  // namespace
}  // namespace iotblocks::gateway
