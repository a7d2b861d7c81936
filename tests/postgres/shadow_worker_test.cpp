// `iotblocks shadow worker` processes on a real mosquitto with shared subscriptions and a
// real PostgreSQL: two workers serve a device's requests; concurrent updates of one shadow
// through both get one winner per version and 409 for the other; a worker killed (SIGKILL)
// during a stream of 10,000 updates and restarted with its client id loses none.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/net/mqtt_client.hpp>
#include <iotblocks/postgres/shadow_store.hpp>

#include "net/child_process.hpp"
#include "net/mosquitto_broker.hpp"
#include "postgres/server.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace iotblocks::postgres {
namespace {

using iotblocks::testing::child_process;
using iotblocks::testing::json_line_field;
using iotblocks::testing::mosquitto_broker;

// mosquitto 2.0 matches no shared subscription to a topic starting with '$': a bridge
// from the broker to itself remaps the requests $aws/things/… to iotblocks/things/….
std::string bridge_config(std::uint16_t port) {
  std::string c = "connection shadow-requests\naddress 127.0.0.1:" + std::to_string(port) +
                  "\nbridge_protocol_version mqttv50\ncleansession false\n"
                  "local_clientid shadow-bridge-local\nremote_clientid shadow-bridge\n"
                  "try_private false\n";
  for (const char* op : {"get", "update", "delete"}) {
    c += std::string("topic things/+/shadow/") + op + " in 1 iotblocks/ $aws/\n";
    c += std::string("topic things/+/shadow/name/+/") + op + " in 1 iotblocks/ $aws/\n";
  }
  return c;
}

std::vector<std::string> worker(const mosquitto_broker& b, const std::string& store,
                                const std::string& id) {
  return {IOTBLOCKS_CLI_PATH,
          "shadow",
          "worker",
          "--broker",
          "127.0.0.1:" + std::to_string(b.port()),
          "--store",
          store,
          "--client-id",
          id,
          "--share-group",
          "shadows",
          "--request-prefix",
          "iotblocks/"};
}

bool subscribed(child_process& p) { return p.output().find("\"subscribed\"") != std::string::npos; }

/// One reply the device got.
struct reply {
  std::string topic;
  std::string token;
  std::int64_t version = -1;
  int code = 0;  ///< rejected: the error code
};

/// A device that publishes shadow requests and collects the replies.
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
      if (p.topic.starts_with("$aws/things/probe/")) {
        ++probe_replies;
        return;
      }
      reply r;
      r.topic = std::string(p.topic);
      rapidjson::Document d;
      const auto text = as_string_view(p.payload);
      d.Parse(text.data(), text.size());
      if (d.IsObject()) {
        if (d.HasMember("clientToken") && d["clientToken"].IsString())
          r.token = d["clientToken"].GetString();
        if (d.HasMember("version") && d["version"].IsInt64()) r.version = d["version"].GetInt64();
        if (d.HasMember("code") && d["code"].IsInt()) r.code = d["code"].GetInt();
      }
      replies.push_back(std::move(r));
    });
    client_->on_connect([this](std::error_code ec, bool) {
      if (ec) return;
      client_->subscribe({{"$aws/things/+/shadow/update/accepted", {.qos = 1}},
                          {"$aws/things/+/shadow/update/rejected", {.qos = 1}},
                          {"$aws/things/+/shadow/get/accepted", {.qos = 1}},
                          {"$aws/things/+/shadow/get/rejected", {.qos = 1}},
                          {"$aws/things/+/shadow/name/+/update/accepted", {.qos = 1}},
                          {"$aws/things/+/shadow/name/+/delete/accepted", {.qos = 1}}},
                         [this](auto, auto) { ready = true; });
    });
    client_->connect();
  }
  void publish(const std::string& topic, const std::string& payload) {
    client_->publish(topic, to_buffer(payload), 1, false, [this](std::error_code ec) {
      if (!ec) ++published;
    });
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
  /// Asks for a shadow until a reply comes: the bridge and a worker are up.
  bool serving() {
    for (int i = 0; i < 30; ++i) {
      publish("$aws/things/probe/shadow/get", "{}");
      if (until([&] { return probe_replies > 0; }, std::chrono::seconds(1))) return true;
    }
    return false;
  }
  std::size_t count(std::string_view suffix) const {
    std::size_t n = 0;
    for (const auto& r : replies) n += r.topic.ends_with(suffix) ? 1 : 0;
    return n;
  }

  boost::asio::io_context io;
  std::vector<reply> replies;
  int published = 0;  // acknowledged by the broker
  int probe_replies = 0;
  bool ready = false;

 private:
  std::unique_ptr<net::mqtt_client> client_;
};

struct fixture {
  testing::server db;
  std::uint16_t port = iotblocks::testing::free_loopback_port();
  mosquitto_broker broker{port, bridge_config(port)};
};

std::string update_topic(const std::string& thing) {
  return "$aws/things/" + thing + "/shadow/update";
}

TEST(ShadowWorker, TwoWorkersServeADevicesUpdatesAndGets) {
  fixture f;
  ASSERT_TRUE(f.db.ok());
  device dev{f.broker.port()};
  child_process a{worker(f.broker, f.db.url(), "serve-a")};
  child_process b{worker(f.broker, f.db.url(), "serve-b")};
  ASSERT_TRUE(dev.until([&] { return dev.ready && subscribed(a) && subscribed(b); }))
      << a.output() << b.output();
  ASSERT_TRUE(dev.serving());
  constexpr int n = 400, things = 8;
  for (int i = 0; i < n; ++i) {
    dev.publish(update_topic("lamp" + std::to_string(i % things)),
                R"({"state":{"reported":{"k)" + std::to_string(i) + R"(":)" + std::to_string(i) +
                    R"(}},"clientToken":"t)" + std::to_string(i) + R"("})");
  }
  ASSERT_TRUE(dev.until([&] { return dev.count("/update/accepted") == n; }))
      << dev.count("/update/accepted") << " " << dev.count("/update/rejected");
  dev.publish("$aws/things/lamp3/shadow/get", R"({"clientToken":"g"})");
  ASSERT_TRUE(dev.until([&] { return dev.count("/get/accepted") == 1; }));
  EXPECT_EQ(dev.replies.back().token, "g");
  EXPECT_EQ(dev.replies.back().version, n / things);
  // A named shadow, created and deleted through the workers.
  dev.publish("$aws/things/lamp0/shadow/name/cfg/update",
              R"({"state":{"desired":{"lux":300}},"clientToken":"n1"})");
  ASSERT_TRUE(dev.until([&] { return dev.count("/name/cfg/update/accepted") == 1; }));
  dev.publish("$aws/things/lamp0/shadow/name/cfg/delete", R"({"clientToken":"n2"})");
  ASSERT_TRUE(dev.until([&] { return dev.count("/name/cfg/delete/accepted") == 1; }));
  EXPECT_EQ(dev.replies.back().token, "n2");

  std::set<std::string> tokens;
  for (const auto& r : dev.replies) {
    if (r.topic.ends_with("/shadow/update/accepted")) tokens.insert(r.token);  // classic
  }
  EXPECT_EQ(tokens.size(), std::size_t{n});
  EXPECT_EQ(a.terminate(), 0);
  EXPECT_EQ(b.terminate(), 0);
  const auto ra = json_line_field(a.output(), "stopped", "received");
  const auto rb = json_line_field(b.output(), "stopped", "received");
  EXPECT_GT(ra, 0) << a.output();
  EXPECT_GT(rb, 0) << b.output();
  EXPECT_GE(ra + rb, n + 4);  // and the probes
  EXPECT_EQ(json_line_field(a.output(), "stopped", "acked") +
                json_line_field(b.output(), "stopped", "acked"),
            ra + rb);

  // What the workers committed, read from the database by another process's store.
  auto store = shadow_store::open(f.db.url());
  ASSERT_TRUE(store) << store.describe();
  EXPECT_TRUE((*store)->named_shadows("lamp0").value().empty());  // deleted
  for (int t = 0; t < things; ++t) {
    (void)(*store)->read({"lamp" + std::to_string(t), ""}, [&](const shadow::document& d) {
      EXPECT_EQ(d.version(), n / things) << t;
      const auto doc = d.to_storage();
      for (int i = t; i < n; i += things)
        EXPECT_NE(doc.find("\"k" + std::to_string(i) + "\":" + std::to_string(i)),
                  std::string::npos)
            << i;
    });
  }
}

// Each round sends two updates that both expect the shadow's current version, one right
// after the other: the broker hands them to the two workers (round robin), which commit
// at the same time. The row lock orders them: one is accepted, the other gets 409.
TEST(ShadowWorker, ConcurrentUpdatesThroughBothWorkersGetOneWinnerPerVersion) {
  fixture f;
  ASSERT_TRUE(f.db.ok());
  device dev{f.broker.port()};
  child_process a{worker(f.broker, f.db.url(), "race-a")};
  child_process b{worker(f.broker, f.db.url(), "race-b")};
  ASSERT_TRUE(dev.until([&] { return dev.ready && subscribed(a) && subscribed(b); }));
  ASSERT_TRUE(dev.serving());
  dev.publish(update_topic("race"), R"({"state":{"desired":{"w":"none"}},"clientToken":"init"})");
  ASSERT_TRUE(dev.until([&] { return dev.replies.size() == 1; }));
  ASSERT_EQ(dev.replies[0].version, 1);
  constexpr int rounds = 100;
  int accepted = 0, conflicts = 0;
  for (int v = 1; v <= rounds; ++v) {
    const auto before = dev.replies.size();
    for (const char* who : {"x", "y"}) {
      dev.publish(update_topic("race"), R"({"state":{"desired":{"w":")" + std::string(who) +
                                            std::to_string(v) + R"("}},"version":)" +
                                            std::to_string(v) + R"(,"clientToken":")" + who +
                                            std::to_string(v) + R"("})");
    }
    ASSERT_TRUE(dev.until([&] { return dev.replies.size() == before + 2; })) << v;
    int won = 0, lost = 0;
    for (auto i = before; i < dev.replies.size(); ++i) {
      const auto& r = dev.replies[i];
      if (r.topic.ends_with("/accepted")) {
        ++won;
        EXPECT_EQ(r.version, v + 1);
      } else if (r.code == 409) {
        ++lost;
      }
    }
    EXPECT_EQ(won, 1) << "round " << v;
    EXPECT_EQ(lost, 1) << "round " << v;
    accepted += won;
    conflicts += lost;
  }
  EXPECT_EQ(accepted, rounds);
  EXPECT_EQ(conflicts, rounds);
  EXPECT_EQ(a.terminate(), 0);
  EXPECT_EQ(b.terminate(), 0);
  // Both workers took part (the broker alternates between them).
  EXPECT_GT(json_line_field(a.output(), "stopped", "received"), rounds / 2) << a.output();
  EXPECT_GT(json_line_field(b.output(), "stopped", "received"), rounds / 2) << b.output();
  auto store = shadow_store::open(f.db.url());
  ASSERT_TRUE(store);
  (void)(*store)->read({"race", ""},
                       [&](const shadow::document& d) { EXPECT_EQ(d.version(), rounds + 1); });
}

// SIGKILL of one of two workers during a stream of 10,000 updates (100 shadows, a distinct
// key each): restarted with its client id, it gets back from its session what it held.
// Every update is then in its shadow, and the versions count every update plus at most the
// replays (requests redelivered after the kill, applied again).
TEST(ShadowWorker, KilledWorkerDuringTenThousandUpdatesLosesNone) {
  fixture f;
  ASSERT_TRUE(f.db.ok());
  device dev{f.broker.port()};
  child_process b{worker(f.broker, f.db.url(), "stream-b")};
  auto a = std::make_unique<child_process>(worker(f.broker, f.db.url(), "stream-a"));
  ASSERT_TRUE(dev.until([&] { return dev.ready && subscribed(*a) && subscribed(b); }));
  ASSERT_TRUE(dev.serving());
  constexpr int n = 10'000, things = 100;
  for (int i = 0; i < n; ++i) {
    dev.publish(update_topic("meter" + std::to_string(i % things)),
                R"({"state":{"reported":{"k)" + std::to_string(i) + R"(":1}},"clientToken":"c)" +
                    std::to_string(i) + R"("})");
  }
  ASSERT_TRUE(dev.until([&] { return dev.count("/update/accepted") >= n / 4; }));
  a->signal(SIGKILL);
  EXPECT_EQ(a->wait(), 128 + SIGKILL);
  const auto at_kill = dev.count("/update/accepted");
  a = std::make_unique<child_process>(worker(f.broker, f.db.url(), "stream-a"));
  std::set<std::string> tokens;
  std::size_t seen = 0;
  ASSERT_TRUE(dev.until([&] {
    for (; seen < dev.replies.size(); ++seen) {
      if (dev.replies[seen].topic.ends_with("/update/accepted"))
        tokens.insert(dev.replies[seen].token);
    }
    return tokens.size() == std::size_t{n};
  })) << tokens.size()
      << " " << dev.count("/update/rejected") << a->output() << b.output();
  EXPECT_EQ(a->terminate(), 0);
  EXPECT_EQ(b.terminate(), 0);
  EXPECT_EQ(dev.count("/update/rejected"), 0u);
  const auto redelivered = json_line_field(a->output(), "stopped", "redelivered");
  EXPECT_GT(json_line_field(a->output(), "stopped", "received"), 0) << a->output();

  auto store = shadow_store::open(f.db.url());
  ASSERT_TRUE(store);
  std::int64_t versions = 0;
  for (int t = 0; t < things; ++t) {
    (void)(*store)->read({"meter" + std::to_string(t), ""}, [&](const shadow::document& d) {
      versions += d.version();
      const auto doc = d.to_storage();
      for (int i = t; i < n; i += things)
        EXPECT_NE(doc.find("\"k" + std::to_string(i) + "\":1"), std::string::npos) << i;
    });
  }
  EXPECT_GE(versions, n);
  EXPECT_LE(versions, n + redelivered);
  std::printf(
      "killed after %zu of %d accepted; restarted worker: %lld redelivered; "
      "versions %lld\n",
      at_kill, n, redelivered, static_cast<long long>(versions));
  RecordProperty("redelivered", static_cast<int>(redelivered));
}

}  // namespace
}  // namespace iotblocks::postgres

namespace iotblocks::postgres {
namespace {

// A self-signed P-256 certificate for 127.0.0.1 made by the openssl program; returns false
// when openssl fails.
bool make_certificate(const std::filesystem::path& dir, const std::string& name) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-days 1 -subj /CN=" +
      name + " -addext subjectAltName=IP:127.0.0.1 -keyout '" + (dir / (name + ".key")).string() +
      "' -out '" + (dir / (name + ".crt")).string() + "' 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return false;
  // mosquitto started as root reads its files as the mosquitto user.
  std::filesystem::permissions(dir / (name + ".key"), std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  return true;
}

// The worker reaches the broker over mutual TLS (--broker mqtts://, --ca-file, --cert,
// --key) on a listener that requires a client certificate; the device uses plain TCP.
TEST(ShadowWorker, ServesOverMutualTls) {
  testing::server db;
  ASSERT_TRUE(db.ok());
  const auto dir = std::filesystem::temp_directory_path() /
                   ("iotblocks-shadow-worker-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(make_certificate(dir, "server"));
  ASSERT_TRUE(make_certificate(dir, "client"));
  const auto port = iotblocks::testing::free_loopback_port();
  const auto tls_port = iotblocks::testing::free_loopback_port();
  mosquitto_broker broker{port, bridge_config(port) + "listener " + std::to_string(tls_port) +
                                    " 127.0.0.1\ncafile " + (dir / "client.crt").string() +
                                    "\ncertfile " + (dir / "server.crt").string() + "\nkeyfile " +
                                    (dir / "server.key").string() + "\nrequire_certificate true\n"};
  auto args = worker(broker, db.url(), "tls-a");
  args[4] = "mqtts://127.0.0.1:" + std::to_string(tls_port);
  args.insert(args.end(), {"--ca-file", (dir / "server.crt").string(), "--cert",
                           (dir / "client.crt").string(), "--key", (dir / "client.key").string()});
  child_process a{args};
  device dev{broker.port()};
  ASSERT_TRUE(dev.until([&] { return dev.ready && subscribed(a); })) << a.output();
  ASSERT_TRUE(dev.serving());
  dev.publish(update_topic("secure"), R"({"state":{"reported":{"tls":true}},"clientToken":"s"})");
  ASSERT_TRUE(dev.until([&] { return dev.count("/update/accepted") == 1; }));
  EXPECT_EQ(dev.replies.back().token, "s");
  EXPECT_EQ(dev.replies.back().version, 1);
  EXPECT_EQ(a.terminate(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace iotblocks::postgres

namespace iotblocks::postgres {
namespace {

// Usage errors (exit 2) before any connection: a group with '/', a prefix without a
// trailing '/', a store URL of no known scheme, a bad broker port.
TEST(ShadowWorker, RefusesABadCommandLine) {
  const std::vector<std::vector<std::string>> bad = {
      {"--store", "sqlite:/tmp/x.db", "--share-group", "a/b"},
      {"--store", "sqlite:/tmp/x.db", "--request-prefix", "iotblocks"},
      {"--store", "sqlite:/tmp/x.db", "--request-prefix", "a/+/"},
      {"--store", "mysql://db"},
      {"--store", "sqlite:"},
      {"--store", "sqlite:/tmp/x.db", "--broker", "127.0.0.1:99999"},
      {"--store", "sqlite:/tmp/x.db", "--broker", "http://127.0.0.1"},
  };
  for (const auto& extra : bad) {
    std::vector<std::string> args{IOTBLOCKS_CLI_PATH, "shadow", "worker"};
    args.insert(args.end(), extra.begin(), extra.end());
    child_process p{args};
    EXPECT_EQ(p.wait(), 2) << extra[extra.size() - 1];
  }
}

}  // namespace
}  // namespace iotblocks::postgres
