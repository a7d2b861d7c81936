// Two gateways sharing one PostgreSQL database for their jobs ("stores": {"jobs": URL}): a job
// created through A (`aws iot create-job`) is served to a device connected to B over MQTT;
// progress reports on one execution streamed through both at once are all applied, and two
// updates naming one expectedVersion get one /accepted and one VersionMismatch.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/http_client.hpp>
#include <iotblocks/net/mqtt_client.hpp>
#include <iotblocks/postgres/jobs_store.hpp>

#include "core/json.hpp"
#include "postgres/shared_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace iotblocks::postgres {
namespace {

namespace fs = std::filesystem;

class one_gateway {
 public:
  one_gateway(const std::string& name, const std::string& url)
      : dir_(fs::temp_directory_path() /
             ("iotblocks-pg-jobs-" + std::to_string(::getpid()) + "-" + name)) {
    fs::remove_all(dir_);
    auto c = gateway::parse_config(
        R"({"listeners":[{"type":"http","port":0},{"type":"mqtt","port":0}],"threads":2,
        "admin_token":"t0k3n",
        "aws_access_keys":[{"access_key_id":"AKIDPG","secret_access_key":"pg-secret"}],
        "data_dir":")" +
        dir_.string() + R"(","stores":{"jobs":")" + url + R"("}})");
    EXPECT_TRUE(c) << c.describe();
    if (!c) return;
    gw_ = std::make_unique<gateway::gateway>(*c);
    auto ok = gw_->start();
    EXPECT_TRUE(ok) << ok.describe();
    if (!ok) return;
    http_ = gw_->port("http");
    mqtt_ = gw_->port("mqtt");
  }
  ~one_gateway() {
    if (gw_) gw_->stop();
    fs::remove_all(dir_);
  }
  bool ok() const { return http_ != 0 && mqtt_ != 0; }
  std::uint16_t http_port() const { return http_; }
  std::uint16_t mqtt_port() const { return mqtt_; }
  unsigned admin_put(const std::string& path, const std::string& body) const {
    net::http_request r;
    r.method = "PUT";
    r.url = "http://127.0.0.1:" + std::to_string(http_) + path;
    r.body = body;
    r.headers.emplace_back("Authorization", "Bearer t0k3n");
    return net::http_client{}.send(r).status;
  }

 private:
  fs::path dir_;
  std::unique_ptr<gateway::gateway> gw_;
  std::uint16_t http_ = 0, mqtt_ = 0;
};

/// `aws iot …` against a gateway; the exit status, the output in `out`.
int aws_iot(std::uint16_t port, const std::string& args, std::string& out) {
  const std::string cmd =
      "env AWS_ACCESS_KEY_ID=AKIDPG AWS_SECRET_ACCESS_KEY=pg-secret AWS_DEFAULT_REGION=us-east-1 "
      "AWS_PAGER= AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null "
      "AWS_SHARED_CREDENTIALS_FILE=/dev/null aws iot --endpoint-url http://127.0.0.1:" +
      std::to_string(port) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// A device on one gateway's MQTT listener, subscribed to its thing's jobs replies. Devices
/// on one io_context run together while any of them waits.
class device {
 public:
  device(boost::asio::io_context& io, std::uint16_t port, const std::string& client_id,
         const std::string& thing)
      : io_(io) {
    net::mqtt_client_options o;
    o.port = port;
    o.client_id = client_id;
    o.version = mqtt::protocol_version::v5;
    client_ = std::make_unique<net::mqtt_client>(io_.get_executor(), o);
    client_->on_message([this](const mqtt::publish_view& p) {
      replies.push_back({std::string(p.topic), std::string(as_string_view(p.payload))});
    });
    client_->on_connect([this, thing](std::error_code ec, bool) {
      if (ec) return;
      client_->subscribe({{"$aws/things/" + thing + "/jobs/+/accepted", {.qos = 1}},
                          {"$aws/things/" + thing + "/jobs/+/rejected", {.qos = 1}},
                          {"$aws/things/" + thing + "/jobs/+/+/accepted", {.qos = 1}},
                          {"$aws/things/" + thing + "/jobs/+/+/rejected", {.qos = 1}}},
                         [this](auto, auto) { ready_ = true; });
    });
    client_->connect();
  }
  bool ready() {
    return until([&] { return ready_; });
  }
  void publish(const std::string& topic, const std::string& payload) {
    client_->publish(topic, to_buffer(payload), 1, false, [](std::error_code) {});
  }
  bool until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  struct message {
    std::string topic, payload;
  };
  std::vector<message> replies;

 private:
  boost::asio::io_context& io_;
  std::unique_ptr<net::mqtt_client> client_;
  bool ready_ = false;
};

std::string string_at(const std::string& payload, std::initializer_list<std::string_view> path) {
  auto d = json::parse(payload);
  if (!d) return {};
  const rapidjson::Value* v = &*d;
  for (auto key : path) {
    v = json::find(*v, key);
    if (v == nullptr) return {};
  }
  return v->IsString() ? std::string(json::view(*v)) : std::string{};
}

/// The first reply on `topic_prefix` + "/accepted" or "/rejected" from index `from` on.
const device::message* reply_to(const device& d, const std::string& topic_prefix,
                                std::size_t from) {
  for (std::size_t i = from; i < d.replies.size(); ++i) {
    const auto& m = d.replies[i];
    if (m.topic == topic_prefix + "/accepted" || m.topic == topic_prefix + "/rejected") return &m;
  }
  return nullptr;
}

TEST(PostgresGatewayJobs, AJobCreatedThroughAIsServedToADeviceOnB) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  one_gateway a{"a", url}, b{"b", url};
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a.admin_put("/admin/things/lamp", R"({"attributes":{}})"), 200u);
  std::string out;
  ASSERT_EQ(aws_iot(a.http_port(),
                    "create-job --job-id fw-1 --targets "
                    "arn:aws:iot:us-east-1:123456789012:thing/lamp --document "
                    "'{\"url\":\"https://x/fw.bin\"}'",
                    out),
            0)
      << out;

  boost::asio::io_context io;
  device on_b{io, b.mqtt_port(), "lamp-on-b", "lamp"};
  ASSERT_TRUE(on_b.ready());
  on_b.publish("$aws/things/lamp/jobs/start-next", R"({"clientToken":"s1"})");
  const device::message* started = nullptr;
  ASSERT_TRUE(on_b.until(
      [&] { return (started = reply_to(on_b, "$aws/things/lamp/jobs/start-next", 0)); }));
  ASSERT_EQ(started->topic, "$aws/things/lamp/jobs/start-next/accepted") << started->payload;
  EXPECT_EQ(string_at(started->payload, {"execution", "jobId"}), "fw-1") << started->payload;
  EXPECT_EQ(string_at(started->payload, {"execution", "jobDocument", "url"}), "https://x/fw.bin");
  const std::size_t mark = on_b.replies.size();
  on_b.publish("$aws/things/lamp/jobs/fw-1/update",
               R"({"status":"SUCCEEDED","expectedVersion":2})");
  const device::message* done = nullptr;
  ASSERT_TRUE(on_b.until(
      [&] { return (done = reply_to(on_b, "$aws/things/lamp/jobs/fw-1/update", mark)); }));
  EXPECT_EQ(done->topic, "$aws/things/lamp/jobs/fw-1/update/accepted") << done->payload;

  // A reports what the device did through B.
  out.clear();
  ASSERT_EQ(aws_iot(a.http_port(), "describe-job --job-id fw-1", out), 0) << out;
  EXPECT_NE(out.find("\"COMPLETED\""), std::string::npos) << out;
}

TEST(PostgresGatewayJobs, UpdatesOfOneExecutionThroughBothGatewaysLoseNoneAndConflictOnce) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  one_gateway a{"a2", url}, b{"b2", url};
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a.admin_put("/admin/things/pump", R"({"attributes":{}})"), 200u);
  std::string out;
  ASSERT_EQ(aws_iot(a.http_port(),
                    "create-job --job-id j --targets arn:aws:iot:us-east-1:123456789012:thing/pump "
                    "--document '{}'",
                    out),
            0)
      << out;
  boost::asio::io_context io;
  device on_a{io, a.mqtt_port(), "pump-on-a", "pump"}, on_b{io, b.mqtt_port(), "pump-on-b", "pump"};
  ASSERT_TRUE(on_a.ready() && on_b.ready());
  on_a.publish("$aws/things/pump/jobs/start-next", "{}");
  ASSERT_TRUE(on_a.until([&] { return reply_to(on_a, "$aws/things/pump/jobs/start-next", 0); }));

  // Two streams of progress reports without expectedVersion, one through each gateway, at
  // once: every report is applied on the version the other left (none lost).
  constexpr int reports = 30;
  const std::string topic = "$aws/things/pump/jobs/j/update";
  const std::size_t mark_a = on_a.replies.size(), mark_b = on_b.replies.size();
  for (int i = 0; i < reports; ++i) {
    on_a.publish(topic, R"({"status":"IN_PROGRESS","statusDetails":{"by":"a"}})");
    on_b.publish(topic, R"({"status":"IN_PROGRESS","statusDetails":{"by":"b"}})");
  }
  auto accepted = [&](const device& d, std::size_t from) {
    std::size_t n = 0;
    for (std::size_t i = from; i < d.replies.size(); ++i) {
      n += d.replies[i].topic == topic + "/accepted" ? 1 : 0;
    }
    return n;
  };
  ASSERT_TRUE(on_a.until([&] { return accepted(on_a, mark_a) == reports; }));
  ASSERT_TRUE(on_b.until([&] { return accepted(on_b, mark_b) == reports; }));

  // Then both name the version they saw last: one /accepted, one VersionMismatch.
  const std::string body =
      R"({"status":"IN_PROGRESS","expectedVersion":)" + std::to_string(2 + 2 * reports) + "}";
  const std::size_t last_a = on_a.replies.size(), last_b = on_b.replies.size();
  on_a.publish(topic, body);
  on_b.publish(topic, body);
  const device::message *ra = nullptr, *rb = nullptr;
  ASSERT_TRUE(on_a.until([&] { return (ra = reply_to(on_a, topic, last_a)); }));
  ASSERT_TRUE(on_b.until([&] { return (rb = reply_to(on_b, topic, last_b)); }));
  const bool a_won = ra->topic.ends_with("/accepted"), b_won = rb->topic.ends_with("/accepted");
  ASSERT_NE(a_won, b_won) << ra->payload << " / " << rb->payload;
  EXPECT_EQ(string_at((a_won ? rb : ra)->payload, {"code"}), "VersionMismatch");

  auto db = jobs_store::open(url);
  ASSERT_TRUE(db) << db.describe();
  auto e = (*db)->find_execution("pump", "j");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->version, 3 + 2 * reports);
}

}  // namespace
}  // namespace iotblocks::postgres
