// `iotblocks jobs worker` processes on a real mosquitto with shared subscriptions and a real
// PostgreSQL: two workers run a device's jobs to SUCCEEDED; jobs created and canceled through
// the store by another process (this one) reach the device as notify-next, once, also after
// the worker publishing them is killed; a worker killed (SIGKILL) during a stream of updates
// loses none; a step timeout times out without a gateway; malformed requests get AWS's
// rejected replies.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/jobs/service.hpp>
#include <iotblocks/jobs/store.hpp>
#include <iotblocks/net/mqtt_client.hpp>
#include <iotblocks/postgres/jobs_store.hpp>

#include "net/child_process.hpp"
#include "net/mosquitto_broker.hpp"
#include "postgres/server.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace iotblocks::postgres {
namespace {

using iotblocks::testing::child_process;
using iotblocks::testing::json_line_field;
using iotblocks::testing::mosquitto_broker;

// mosquitto 2.0 matches no shared subscription to a topic starting with '$': a bridge from
// the broker to itself remaps the requests $aws/things/… to iotblocks/things/….
std::string bridge_config(std::uint16_t port) {
  std::string c = "connection jobs-requests\naddress 127.0.0.1:" + std::to_string(port) +
                  "\nbridge_protocol_version mqttv50\ncleansession false\n"
                  "local_clientid jobs-bridge-local\nremote_clientid jobs-bridge\n"
                  "try_private false\n";
  for (const char* f : {"get", "start-next", "+/get", "+/update"}) {
    c += std::string("topic things/+/jobs/") + f + " in 1 iotblocks/ $aws/\n";
  }
  return c;
}

std::vector<std::string> worker(const mosquitto_broker& b, const std::string& store,
                                const std::string& id) {
  return {IOTBLOCKS_CLI_PATH,
          "jobs",
          "worker",
          "--broker",
          "127.0.0.1:" + std::to_string(b.port()),
          "--store",
          store,
          "--client-id",
          id,
          "--share-group",
          "jobs",
          "--request-prefix",
          "iotblocks/",
          "--tick-ms",
          "50"};
}

bool has_line(child_process& p, std::string_view event) {
  return p.output().find("\"event\":\"" + std::string(event) + "\"") != std::string::npos;
}

/// One message the device got.
struct received {
  std::string topic;
  std::string token;
  std::string code;    ///< rejected: AWS's error code
  std::string job_id;  ///< execution.jobId (start-next, notify-next), or ""
  std::string status;  ///< execution.status
  std::int64_t version = -1;
  bool has_document = false;
};

/// A device that publishes jobs requests and collects the replies and pushes.
class device {
 public:
  explicit device(std::uint16_t port) {
    net::mqtt_client_options o;
    o.port = port;
    o.client_id = "device";
    o.version = mqtt::protocol_version::v5;
    o.max_in_flight = 1000;
    client_ = std::make_unique<net::mqtt_client>(io.get_executor(), o);
    client_->on_message([this](const mqtt::publish_view& p) {
      received r;
      r.topic = std::string(p.topic);
      rapidjson::Document d;
      const auto text = as_string_view(p.payload);
      d.Parse(text.data(), text.size());
      auto str = [](const rapidjson::Value& v, const char* k) {
        return v.IsObject() && v.HasMember(k) && v[k].IsString() ? std::string(v[k].GetString())
                                                                 : std::string();
      };
      r.token = str(d, "clientToken");
      r.code = str(d, "code");
      if (d.IsObject() && d.HasMember("execution") && d["execution"].IsObject()) {
        const auto& e = d["execution"];
        r.job_id = str(e, "jobId");
        r.status = str(e, "status");
        if (e.HasMember("versionNumber") && e["versionNumber"].IsInt64())
          r.version = e["versionNumber"].GetInt64();
        r.has_document = e.HasMember("jobDocument");
      }
      got.push_back(std::move(r));
    });
    client_->on_connect([this](std::error_code ec, bool) {
      if (ec) return;
      client_->subscribe({{"$aws/things/+/jobs/+/accepted", {.qos = 1}},
                          {"$aws/things/+/jobs/+/rejected", {.qos = 1}},
                          {"$aws/things/+/jobs/+/+/accepted", {.qos = 1}},
                          {"$aws/things/+/jobs/+/+/rejected", {.qos = 1}},
                          {"$aws/things/+/jobs/notify", {.qos = 1}},
                          {"$aws/things/+/jobs/notify-next", {.qos = 1}}},
                         [this](auto, auto) { ready = true; });
    });
    client_->connect();
  }
  void publish(const std::string& topic, const std::string& payload) {
    client_->publish(topic, to_buffer(payload), 1, false, [](std::error_code) {});
  }
  bool until(const std::function<bool()>& done,
             std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.restart();
      io.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  /// Asks for the pending jobs of "probe" until a reply comes: the bridge and a worker are up.
  bool serving() {
    for (int i = 0; i < 30; ++i) {
      publish("$aws/things/probe/jobs/get", "{}");
      if (until([&] { return count("probe/jobs/get/accepted") > 0; }, std::chrono::seconds(1)))
        return true;
    }
    return false;
  }
  std::size_t count(std::string_view suffix) const {
    std::size_t n = 0;
    for (const auto& r : got) n += r.topic.ends_with(suffix) ? 1 : 0;
    return n;
  }
  const received* last(std::string_view suffix) const {
    for (auto it = got.rbegin(); it != got.rend(); ++it)
      if (it->topic.ends_with(suffix)) return &*it;
    return nullptr;
  }

  boost::asio::io_context io;
  std::vector<received> got;
  bool ready = false;

 private:
  std::unique_ptr<net::mqtt_client> client_;
};

struct fixture {
  testing::server db;
  std::uint16_t port = iotblocks::testing::free_loopback_port();
  mosquitto_broker broker{port, bridge_config(port)};
};

/// The jobs service of another process on the workers' database (this test's).
struct other_process {
  explicit other_process(const std::string& url) : store(jobs_store::open(url).value()) {}
  std::unique_ptr<jobs_store> store;
  jobs::service service{*store};
};

std::string topic(const std::string& thing, const std::string& rest) {
  return "$aws/things/" + thing + "/jobs/" + rest;
}

TEST(JobsWorker, TwoWorkersRunADevicesJobsToSucceeded) {
  fixture f;
  ASSERT_TRUE(f.db.ok());
  other_process admin{f.db.url()};
  constexpr int things = 8;
  for (int i = 0; i < things; ++i) {
    const auto t = "lamp" + std::to_string(i);
    ASSERT_TRUE(admin.service.create_job(
        {.id = "fw-" + t, .document = R"({"url":"https://x/fw.bin"})", .targets = {t}}));
  }
  device dev{f.broker.port()};
  child_process a{worker(f.broker, f.db.url(), "run-a")};
  child_process b{worker(f.broker, f.db.url(), "run-b")};
  ASSERT_TRUE(dev.until([&] {
    return dev.ready && has_line(a, "subscribed") && has_line(b, "subscribed");
  })) << a.output()
      << b.output();
  ASSERT_TRUE(dev.serving());
  for (int i = 0; i < things; ++i) {
    dev.publish(topic("lamp" + std::to_string(i), "start-next"),
                R"({"clientToken":"s)" + std::to_string(i) + R"("})");
  }
  ASSERT_TRUE(dev.until([&] { return dev.count("/start-next/accepted") == things; }));
  for (const auto& r : dev.got) {
    if (!r.topic.ends_with("/start-next/accepted")) continue;
    const auto thing = r.topic.substr(12, r.topic.find("/jobs/") - 12);
    EXPECT_EQ(r.job_id, "fw-" + thing);
    EXPECT_EQ(r.status, "IN_PROGRESS");
    EXPECT_EQ(r.version, 2);
    EXPECT_TRUE(r.has_document);
    EXPECT_EQ(r.token, "s" + thing.substr(4));
  }
  for (int i = 0; i < things; ++i) {
    const auto t = "lamp" + std::to_string(i);
    dev.publish(topic(t, "fw-" + t + "/update"),
                R"({"status":"SUCCEEDED","expectedVersion":2,"clientToken":"u)" +
                    std::to_string(i) + R"("})");
  }
  ASSERT_TRUE(dev.until([&] { return dev.count("/update/accepted") == things; }))
      << dev.count("/update/rejected");
  EXPECT_EQ(a.terminate(), 0);
  EXPECT_EQ(b.terminate(), 0);
  // Both took requests, and acknowledged all they took.
  const auto ra = json_line_field(a.output(), "stopped", "received");
  const auto rb = json_line_field(b.output(), "stopped", "received");
  EXPECT_GT(ra, 0) << a.output();
  EXPECT_GT(rb, 0) << b.output();
  EXPECT_EQ(json_line_field(a.output(), "stopped", "acked") +
                json_line_field(b.output(), "stopped", "acked"),
            ra + rb);
  for (int i = 0; i < things; ++i) {
    const auto t = "lamp" + std::to_string(i);
    auto e = admin.store->find_execution(t, "fw-" + t);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, jobs::execution_status::succeeded);
    EXPECT_EQ(e->version, 3);
    auto j = admin.store->find_job("fw-" + t);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->status, jobs::job_status::completed);
  }
}

// One worker holds the pushes' lease; a job created through the store by this process
// reaches the device as one notify-next, a cancel as an empty one. The holder killed, the
// other takes the lease and pushes the next job.
TEST(JobsWorker, JobsCreatedElsewhereReachTheDeviceAsNotifyNextOnce) {
  fixture f;
  ASSERT_TRUE(f.db.ok());
  other_process admin{f.db.url()};
  device dev{f.broker.port()};
  auto a = std::make_unique<child_process>(worker(f.broker, f.db.url(), "push-a"));
  auto b = std::make_unique<child_process>(worker(f.broker, f.db.url(), "push-b"));
  ASSERT_TRUE(dev.until([&] {
    return dev.ready && has_line(*a, "subscribed") && has_line(*b, "subscribed") &&
           (has_line(*a, "leading") || has_line(*b, "leading"));
  })) << a->output()
      << b->output();
  ASSERT_TRUE(dev.serving());
  ASSERT_TRUE(admin.service.create_job({.id = "cfg-1", .document = "{}", .targets = {"gate"}}));
  ASSERT_TRUE(dev.until([&] { return dev.count("gate/jobs/notify-next") == 1; }));
  EXPECT_EQ(dev.last("gate/jobs/notify-next")->job_id, "cfg-1");
  EXPECT_EQ(dev.last("gate/jobs/notify-next")->status, "QUEUED");
  EXPECT_EQ(dev.count("gate/jobs/notify"), 1u);
  // A second job behind the first: notify (the list), no notify-next (same next).
  ASSERT_TRUE(admin.service.create_job({.id = "cfg-2", .document = "{}", .targets = {"gate"}}));
  ASSERT_TRUE(dev.until([&] { return dev.count("gate/jobs/notify") == 2; }));
  // The cancel of the first: cfg-2 is next; of the second: an empty notify-next.
  ASSERT_TRUE(admin.service.cancel_job("cfg-1"));
  ASSERT_TRUE(dev.until([&] { return dev.last("gate/jobs/notify-next")->job_id == "cfg-2"; }));
  ASSERT_TRUE(admin.service.cancel_job("cfg-2"));
  ASSERT_TRUE(dev.until([&] {
    auto* n = dev.last("gate/jobs/notify-next");
    return dev.count("gate/jobs/notify-next") >= 2 && n->job_id.empty();
  }));
  // A round trip through the broker after the pushes: no duplicate arrived meanwhile.
  dev.publish(topic("gate", "get"), R"({"clientToken":"after"})");
  ASSERT_TRUE(dev.until([&] { return dev.count("gate/jobs/get/accepted") == 1; }));
  EXPECT_EQ(dev.count("gate/jobs/notify-next"), 3u);  // cfg-1, cfg-2, none
  EXPECT_EQ(dev.count("gate/jobs/notify"), 4u);

  // The lease holder killed: the other worker takes over and pushes.
  auto& holder = has_line(*a, "leading") ? a : b;
  auto& other = has_line(*a, "leading") ? b : a;
  holder->signal(SIGKILL);
  EXPECT_EQ(holder->wait(), 128 + SIGKILL);
  ASSERT_TRUE(dev.until([&] { return has_line(*other, "leading"); })) << other->output();
  ASSERT_TRUE(admin.service.create_job({.id = "cfg-3", .document = "{}", .targets = {"gate"}}));
  ASSERT_TRUE(dev.until([&] { return dev.last("gate/jobs/notify-next")->job_id == "cfg-3"; }));
  EXPECT_EQ(other->terminate(), 0);
}

// SIGKILL of one of two workers during a stream of progress updates (no expectedVersion,
// a distinct clientToken each): restarted with its client id, it gets back from its session
// what it held. Every update gets a reply, and the versions count every update plus at most
// the replays.
TEST(JobsWorker, KilledWorkerDuringAStreamOfUpdatesLosesNone) {
  fixture f;
  ASSERT_TRUE(f.db.ok());
  other_process admin{f.db.url()};
  constexpr int things = 20, per_thing = 60, n = things * per_thing;
  std::vector<std::string> targets;
  for (int i = 0; i < things; ++i) targets.push_back("meter" + std::to_string(i));
  ASSERT_TRUE(admin.service.create_job({.id = "stream", .document = "{}", .targets = targets}));
  device dev{f.broker.port()};
  child_process b{worker(f.broker, f.db.url(), "stream-b")};
  auto a = std::make_unique<child_process>(worker(f.broker, f.db.url(), "stream-a"));
  ASSERT_TRUE(dev.until(
      [&] { return dev.ready && has_line(*a, "subscribed") && has_line(b, "subscribed"); }));
  ASSERT_TRUE(dev.serving());
  for (const auto& t : targets) dev.publish(topic(t, "start-next"), "{}");
  ASSERT_TRUE(dev.until([&] { return dev.count("/start-next/accepted") == things; }));
  for (int i = 0; i < n; ++i) {
    dev.publish(topic(targets[static_cast<std::size_t>(i % things)], "stream/update"),
                R"({"status":"IN_PROGRESS","statusDetails":{"step":")" + std::to_string(i) +
                    R"("},"clientToken":"c)" + std::to_string(i) + R"("})");
  }
  ASSERT_TRUE(dev.until([&] { return dev.count("/stream/update/accepted") >= n / 4; }));
  a->signal(SIGKILL);
  EXPECT_EQ(a->wait(), 128 + SIGKILL);
  const auto at_kill = dev.count("/stream/update/accepted");
  a = std::make_unique<child_process>(worker(f.broker, f.db.url(), "stream-a"));
  std::set<std::string> tokens;
  std::size_t seen = 0;
  ASSERT_TRUE(dev.until([&] {
    for (; seen < dev.got.size(); ++seen) {
      if (dev.got[seen].topic.ends_with("/stream/update/accepted"))
        tokens.insert(dev.got[seen].token);
    }
    return tokens.size() == std::size_t{n};
  })) << tokens.size()
      << " " << dev.count("/update/rejected") << a->output() << b.output();
  EXPECT_EQ(a->terminate(), 0);
  EXPECT_EQ(b.terminate(), 0);
  EXPECT_EQ(dev.count("/update/rejected"), 0u);
  const auto redelivered = json_line_field(a->output(), "stopped", "redelivered");
  EXPECT_GT(json_line_field(a->output(), "stopped", "received"), 0) << a->output();
  std::int64_t versions = 0;
  for (const auto& t : targets) {
    auto e = admin.store->find_execution(t, "stream");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, jobs::execution_status::in_progress);
    versions += e->version - 2;  // after start-next
  }
  EXPECT_GE(versions, n);
  EXPECT_LE(versions, n + redelivered);
  std::printf("killed after %zu of %d accepted; restarted worker: %lld redelivered\n", at_kill, n,
              redelivered);
}

// A step timeout expires with no gateway running: the lease holder's tick times the
// execution out, the device's next get and its notify-next say so.
TEST(JobsWorker, StepTimeoutTimesOutWithoutAGateway) {
  fixture f;
  ASSERT_TRUE(f.db.ok());
  other_process admin{f.db.url()};
  ASSERT_TRUE(admin.service.create_job({.id = "slow", .document = "{}", .targets = {"pump"}}));
  device dev{f.broker.port()};
  child_process a{worker(f.broker, f.db.url(), "tick-a")};
  ASSERT_TRUE(dev.until([&] { return dev.ready && has_line(a, "leading"); })) << a.output();
  ASSERT_TRUE(dev.serving());
  dev.publish(topic("pump", "start-next"), R"({"stepTimeoutInMinutes":1})");
  ASSERT_TRUE(dev.until([&] { return dev.count("pump/jobs/start-next/accepted") == 1; }));
  // The minute passes: the step deadline moved into the past by another process.
  const std::string cmd = "psql -q '" + f.db.url() +
                          "' -c \"UPDATE iotblocks_job_executions SET step_deadline = 1, "
                          "deadline = 1, revision = revision + 1 WHERE thing = 'pump'\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_TRUE(dev.until([&] {
    auto e = admin.store->find_execution("pump", "slow");
    return e && e->status == jobs::execution_status::timed_out;
  }));
  ASSERT_TRUE(dev.until([&] {
    auto* n = dev.last("pump/jobs/notify-next");
    return n != nullptr && n->job_id.empty();
  }));
  dev.publish(topic("pump", "slow/get"), R"({"clientToken":"g"})");
  ASSERT_TRUE(dev.until([&] { return dev.count("pump/jobs/slow/get/accepted") == 1; }));
  EXPECT_EQ(dev.last("pump/jobs/slow/get/accepted")->status, "TIMED_OUT");
  EXPECT_EQ(a.terminate(), 0);
}

// Malformed requests: AWS's /rejected replies with the code, the clientToken echoed.
TEST(JobsWorker, MalformedRequestsGetRejectedReplies) {
  fixture f;
  ASSERT_TRUE(f.db.ok());
  other_process admin{f.db.url()};
  ASSERT_TRUE(admin.service.create_job({.id = "j1", .document = "{}", .targets = {"cam"}}));
  device dev{f.broker.port()};
  child_process a{worker(f.broker, f.db.url(), "bad-a")};
  ASSERT_TRUE(dev.until([&] { return dev.ready && has_line(a, "subscribed"); }));
  ASSERT_TRUE(dev.serving());
  struct request {
    std::string topic, payload, reply, code, token;
  };
  const std::vector<request> cases = {
      {topic("cam", "start-next"), "{not json", "cam/jobs/start-next/rejected", "InvalidJson", ""},
      {topic("cam", "j1/update"), R"({"status":"DONE","clientToken":"t1"})",
       "cam/jobs/j1/update/rejected", "InvalidRequest", "t1"},
      {topic("cam", "nope/update"), R"({"status":"SUCCEEDED","clientToken":"t2"})",
       "cam/jobs/nope/update/rejected", "ResourceNotFound", "t2"},
      {topic("cam", "j1/update"),
       R"({"status":"SUCCEEDED","expectedVersion":7,"clientToken":"t3"})",
       "cam/jobs/j1/update/rejected", "VersionMismatch", "t3"},
      {topic("cam", "bad!id/get"), R"({"clientToken":"t4"})", "cam/jobs/bad!id/get/rejected",
       "InvalidTopic", "t4"},
      {topic("cam", "j1/get"), R"({"clientToken":5})", "cam/jobs/j1/get/rejected", "InvalidRequest",
       ""},
  };
  for (const auto& c : cases) {
    const auto before = dev.count(c.reply);
    dev.publish(c.topic, c.payload);
    ASSERT_TRUE(
        dev.until([&] { return dev.count(c.reply) == before + 1; }, std::chrono::seconds(20)))
        << c.topic << " " << c.payload;
    EXPECT_EQ(dev.last(c.reply)->code, c.code) << c.payload;
    EXPECT_EQ(dev.last(c.reply)->token, c.token) << c.payload;
  }
  EXPECT_EQ(a.terminate(), 0);
  auto e = admin.store->find_execution("cam", "j1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, jobs::execution_status::queued);  // none of them changed it
}

// One worker on a SQLite file publishes the pushes of its own changes: the first job's
// SUCCEEDED makes the second the next (notify-next), and the store has both as the
// device left them.
TEST(JobsWorker, OneWorkerOnSqlitePushesItsOwnChanges) {
  const auto port = iotblocks::testing::free_loopback_port();
  mosquitto_broker broker{port, bridge_config(port)};
  const auto dir = std::filesystem::temp_directory_path() /
                   ("iotblocks-jobs-worker-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "jobs.db").string();
  {
    auto store = jobs::sqlite_store::open(path).value();
    jobs::service svc{*store};
    ASSERT_TRUE(svc.create_job({.id = "a", .document = "{}", .targets = {"fan"}}));
    ASSERT_TRUE(svc.create_job({.id = "b", .document = "{}", .targets = {"fan"}}));
  }
  device dev{broker.port()};
  child_process w{worker(broker, "sqlite:" + path, "lite")};
  ASSERT_TRUE(dev.until([&] { return dev.ready && has_line(w, "subscribed"); })) << w.output();
  ASSERT_TRUE(dev.serving());
  dev.publish(topic("fan", "start-next"), "{}");
  ASSERT_TRUE(dev.until([&] { return dev.count("fan/jobs/start-next/accepted") == 1; }));
  EXPECT_EQ(dev.last("fan/jobs/start-next/accepted")->job_id, "a");
  dev.publish(topic("fan", "a/update"), R"({"status":"SUCCEEDED","expectedVersion":2})");
  ASSERT_TRUE(dev.until([&] {
    auto* n = dev.last("fan/jobs/notify-next");
    return dev.count("fan/jobs/a/update/accepted") == 1 && n != nullptr && n->job_id == "b";
  }));
  EXPECT_EQ(w.terminate(), 0);
  auto store = jobs::sqlite_store::open(path).value();
  EXPECT_EQ(store->find_execution("fan", "a")->status, jobs::execution_status::succeeded);
  EXPECT_EQ(store->find_execution("fan", "b")->status, jobs::execution_status::queued);
  std::filesystem::remove_all(dir);
}

// Usage errors (exit 2) before any connection.
TEST(JobsWorker, RefusesABadCommandLine) {
  const std::vector<std::vector<std::string>> bad = {
      {"--store", "sqlite:/tmp/x.db", "--share-group", "a/b"},
      {"--store", "sqlite:/tmp/x.db", "--request-prefix", "iotblocks"},
      {"--store", "mysql://db"},
      {"--store", "sqlite:"},
      {"--store", "sqlite:/tmp/x.db", "--tick-ms", "0"},
  };
  for (const auto& extra : bad) {
    std::vector<std::string> args{IOTBLOCKS_CLI_PATH, "jobs", "worker"};
    args.insert(args.end(), extra.begin(), extra.end());
    child_process p{args};
    EXPECT_EQ(p.wait(), 2) << extra[extra.size() - 1];
  }
}

}  // namespace
}  // namespace iotblocks::postgres
