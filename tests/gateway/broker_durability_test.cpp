// Durability of the broker's store (SQLite): persistent sessions, their
// subscriptions, retained messages and unacknowledged QoS 1 messages survive
// a restart; a PUBACK means the message is committed; `iotblocks gateway run`
// killed with SIGKILL mid-stream loses no acknowledged message, keeps QoS 2
// exactly once and keeps wills (also those waiting for their delay).
#include "core/sqlite.hpp"
#include "gateway/broker_test_client.hpp"

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/net_broker/handler.hpp>

#include <gtest/gtest.h>

#include <iostream>

#include <fcntl.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <thread>

extern char** environ;

namespace iotblocks::gateway {
namespace {

using broker::action;
using broker::broker_options;
using broker::client_info;
using broker::message;

namespace fs = std::filesystem;
using testing::payload_of;
using testing::raw_client;
using namespace std::chrono_literals;

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() /
             ("iotblocks-" + name + "-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::int64_t count_rows(const fs::path& db, const std::string& table) {
  auto d = sqlite::database::open(db.string(), {.read_only = true}).value();
  auto q = d.prepare("SELECT count(*) FROM " + table).value();
  EXPECT_TRUE(q.step().value());
  return q.column_int64(0);
}

// A broker with a store on a loopback port.
struct running {
  explicit running(const fs::path& db, broker_options o = {}) : b(o) {
    b.open_store(db.string()).value();
    net::server_options so;
    so.threads = 2;
    server = std::make_unique<net::server>(so);
    port = server->listen(testing::loopback()).value();
    server->start(h);
  }
  ~running() { server->stop(); }
  void wait_connected(std::uint64_t n) {
    for (int i = 0; i < 500 && b.stats().connected.load() != n; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(b.stats().connected.load(), n);
  }
  broker::broker b;
  net_broker::handler h{b};
  std::unique_ptr<net::server> server;
  std::uint16_t port = 0;
};

TEST(BrokerDurability, PersistentSessionAndRetainedSurviveARestart) {
  const auto dir = fresh_dir("durable");
  const auto db = dir / "broker.db";
  {
    running r(db);
    raw_client sub(r.port);
    ASSERT_EQ(sub.connect("keeper", true, 3600).reason, mqtt::reason_code::success);
    ASSERT_EQ(sub.subscribe("queue/#", 1, 7).size(), 1u);
    sub.send(mqtt::packet{mqtt::disconnect{}});
    r.wait_connected(0);

    raw_client pub(r.port);
    pub.connect("pub", true);
    for (int i = 1; i <= 3; ++i) {
      pub.publish("queue/a", "m" + std::to_string(i), 1);
      ASSERT_TRUE(pub.next_of<mqtt::puback>());
    }
    pub.publish("state/door", "open", 1, true);
    ASSERT_TRUE(pub.next_of<mqtt::puback>());
    // PUBACK received: the rows are committed (read through another connection).
    EXPECT_EQ(count_rows(db, "deliveries"), 3);
    EXPECT_EQ(count_rows(db, "retained"), 1);
    EXPECT_EQ(count_rows(db, "sessions"), 1);  // "pub" has a clean session: never stored
  }
  {
    running r(db);
    EXPECT_EQ(r.b.session_count(), 1u);
    EXPECT_EQ(r.b.retained_count(), 1u);
    raw_client sub(r.port);
    auto ack = sub.connect("keeper", false, 3600);
    EXPECT_TRUE(ack.session_present);
    for (int i = 1; i <= 3; ++i) {
      auto p = sub.next_of<mqtt::publish>();
      ASSERT_TRUE(p);
      EXPECT_EQ(p->topic, "queue/a");
      EXPECT_EQ(payload_of(*p), "m" + std::to_string(i));
      EXPECT_EQ(p->qos, 1);
      EXPECT_EQ(p->properties.subscription_identifier(), 7u);
      sub.ack(*p);
    }
    // The subscription itself came back too.
    raw_client pub(r.port);
    pub.connect("pub", true);
    pub.publish("queue/b", "after", 1);
    auto p = sub.next_of<mqtt::publish>();
    ASSERT_TRUE(p);
    EXPECT_EQ(payload_of(*p), "after");
    sub.ack(*p);

    raw_client late(r.port);
    late.connect("late", true);
    late.subscribe("state/#", 1);
    p = late.next_of<mqtt::publish>();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->topic, "state/door");
    EXPECT_EQ(payload_of(*p), "open");
    EXPECT_TRUE(p->retain);
    sub.send(mqtt::packet{mqtt::disconnect{}});
    late.send(mqtt::packet{mqtt::disconnect{}});
    pub.send(mqtt::packet{mqtt::disconnect{}});
    r.wait_connected(0);
  }
  // Everything acknowledged is gone from the store; the session stays.
  EXPECT_EQ(count_rows(db, "deliveries"), 0);
  EXPECT_EQ(count_rows(db, "sessions"), 1);
  {
    running r(db);
    raw_client sub(r.port);
    sub.connect("keeper", true);  // clean start: the stored session ends
    sub.send(mqtt::packet{mqtt::disconnect{}});
    r.wait_connected(0);
  }
  EXPECT_EQ(count_rows(db, "sessions"), 0);
  EXPECT_EQ(count_rows(db, "subscriptions"), 0);
  fs::remove_all(dir);
}

TEST(BrokerDurability, CleanSessionsAndQoS0NeverTouchTheStore) {
  const auto dir = fresh_dir("volatile");
  const auto db = dir / "broker.db";
  running r(db);
  raw_client sub(r.port);
  sub.connect("volatile", true);
  sub.subscribe("v/#", 1);
  raw_client pub(r.port);
  pub.connect("pub", true);
  pub.publish("v/0", "zero", 0);
  pub.publish("v/1", "one", 1);
  ASSERT_TRUE(pub.next_of<mqtt::puback>());
  ASSERT_TRUE(sub.next_of<mqtt::publish>());
  EXPECT_EQ(r.b.store_counters().writes.load(), 0u);
  fs::remove_all(dir);
}

// --- kill -9 ------------------------------------------------------------------
// `iotblocks gateway run` killed mid-stream: in builds with the CLI.
#ifdef IOTBLOCKS_CLI_PATH

fs::path cli_path() { return IOTBLOCKS_CLI_PATH; }

std::uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

pid_t spawn_gateway(const fs::path& config, const fs::path& log) {
  const std::string cli = cli_path().string();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<std::string> args{cli, "gateway", "run", "--config", config.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, cli.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

bool wait_listening(std::uint16_t port) {
  for (int i = 0; i < 1000; ++i) {
    raw_client probe(port);
    if (!probe.eof()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(BrokerDurability, KillNineLosesNoAcknowledgedMessage) {
  ASSERT_TRUE(fs::exists(cli_path())) << cli_path();
  const auto dir = fresh_dir("kill9");
  const auto port = free_port();
  const auto config = dir / "gw.json";
  std::ofstream(config) << R"({"listeners":[{"type":"mqtt","address":"127.0.0.1","port":)" << port
                        << R"(}],"data_dir":")" << (dir / "data").string()
                        << R"(","threads":2,"limits":{"max_offline_messages":1000000}})";
  const auto log = dir / "gateway.log";

  std::set<std::string> acked, received;
  int next = 0;
  for (int round = 0; round < 3; ++round) {
    const pid_t pid = spawn_gateway(config, log);
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(wait_listening(port)) << "round " << round;

    // The persistent QoS 1 subscriber (MQTT 3.1.1, clean session off) collects
    // what it is owed, acknowledging as it goes, until the gateway dies.
    // In round 1 it stays offline: everything acknowledged then must come from the store.
    std::promise<void> ready;
    std::thread subscriber([&, round] {
      if (round == 1) {
        ready.set_value();
        return;
      }
      raw_client sub(port, mqtt::protocol_version::v3_1_1);
      (void)sub.connect("durable-sub", false);
      if (round == 0) sub.subscribe("k9/#", 1);
      ready.set_value();
      while (auto p = sub.next(30s)) {
        if (auto* pub = std::get_if<mqtt::publish>(&*p)) {
          received.insert(payload_of(*pub));
          sub.ack(*pub);
        }
      }
    });
    ready.get_future().wait();  // the SUBSCRIBE of round 0 goes first

    // The publisher streams QoS 1 with up to 200 in flight and records the PUBACKs.
    raw_client pub(port, mqtt::protocol_version::v3_1_1);
    ASSERT_EQ(pub.connect("k9-pub", true).reason, mqtt::reason_code::success);
    std::map<std::uint16_t, std::string> inflight;
    const int kill_after = 2000 + round * 1500;
    int acked_this_round = 0;
    bool killed = false;
    while (!pub.eof()) {
      while (inflight.size() < 200 && !killed) {
        const auto body = "msg-" + std::to_string(next++);
        inflight[pub.publish("k9/data", body, 1)] = body;
      }
      auto p = pub.next(10s);
      if (!p) break;
      if (auto* a = std::get_if<mqtt::puback>(&*p)) {
        if (auto it = inflight.find(a->packet_id); it != inflight.end()) {
          acked.insert(it->second);
          inflight.erase(it);
          ++acked_this_round;
        }
      }
      if (!killed && acked_this_round >= kill_after) {
        ::kill(pid, SIGKILL);  // mid-stream: 200 publishes in flight
        killed = true;
      }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status));
    subscriber.join();
  }
  // A last start: the subscriber drains what it is still owed.
  const pid_t pid = spawn_gateway(config, log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_listening(port));
  {
    raw_client sub(port, mqtt::protocol_version::v3_1_1);
    EXPECT_TRUE(sub.connect("durable-sub", false).session_present);
    while (!std::includes(received.begin(), received.end(), acked.begin(), acked.end())) {
      auto p = sub.next_of<mqtt::publish>(10s);
      if (!p) break;
      received.insert(payload_of(*p));
      sub.ack(*p);
    }
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  std::vector<std::string> lost;
  std::set_difference(acked.begin(), acked.end(), received.begin(), received.end(),
                      std::back_inserter(lost));
  EXPECT_GE(acked.size(), 6000u);
  std::cout << acked.size() << " acknowledged, " << received.size() << " received\n";
  EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged messages lost, e.g. " << lost.front();
  fs::remove_all(dir);
}

// Polls a read-only view of the store until `sql` (a count) reaches `want`.
bool wait_rows(const fs::path& db, const std::string& sql, std::int64_t want) {
  for (int i = 0; i < 1000; ++i) {
    if (fs::exists(db)) {
      auto d = sqlite::database::open(db.string(), {.read_only = true});
      if (d) {
        auto q = d->prepare(sql);
        if (!q) continue;
        auto row = q->step();
        if (row && *row && q->column_int64(0) == want) return true;
      }
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

mqtt::connect with_will(const std::string& topic, std::uint32_t delay) {
  mqtt::connect c;
  mqtt::will w;
  w.topic = topic;
  w.payload = to_buffer("gone:" + topic);
  w.qos = 1;
  if (delay != 0) w.properties.set_will_delay_interval(delay);
  c.will = std::move(w);
  return c;
}

// QoS 2 is exactly once across kill -9 in both directions (incoming packet ids
// awaiting PUBREL, outgoing PUBLISH ids and PUBREL state), and wills survive:
// of connections open at the kill, and one waiting for its delay.
TEST(BrokerDurability, KillNineKeepsQoS2ExactlyOnceAndWills) {
  ASSERT_TRUE(fs::exists(cli_path())) << cli_path();
  const auto dir = fresh_dir("kill9-qos2");
  const auto port = free_port();
  const auto config = dir / "gw.json";
  std::ofstream(config) << R"({"listeners":[{"type":"mqtt","address":"127.0.0.1","port":)" << port
                        << R"(}],"data_dir":")" << (dir / "data").string() << R"(","threads":2})";
  const auto db = dir / "data" / "broker.db";
  const auto log = dir / "gateway.log";
  std::uint16_t x = 0, y = 0;  // ids the subscriber saw before the kill
  {
    const pid_t pid = spawn_gateway(config, log);
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(wait_listening(port));
    raw_client watch(port);
    ASSERT_EQ(watch.connect("watch", true, 3600).reason, mqtt::reason_code::success);
    ASSERT_EQ(watch.subscribe("will/#", 1).size(), 1u);
    watch.send(mqtt::packet{mqtt::disconnect{}});
    raw_client sub(port);
    ASSERT_EQ(sub.connect("q2-sub", true, 3600).reason, mqtt::reason_code::success);
    ASSERT_EQ(sub.subscribe("q2/#", 2).size(), 1u);
    sub.send(mqtt::packet{mqtt::disconnect{}});
    sub.close();

    raw_client pub(port);
    ASSERT_EQ(pub.connect("q2-pub", true, 3600).reason, mqtt::reason_code::success);
    EXPECT_EQ(pub.publish("q2/a", "one", 2), 1);
    EXPECT_EQ(pub.publish("q2/b", "two", 2), 2);
    for (std::uint16_t id = 1; id <= 2; ++id) {  // PUBREC: committed; no PUBREL before the kill
      auto rec = pub.next_of<mqtt::pubrec>();
      ASSERT_TRUE(rec);
      EXPECT_EQ(rec->packet_id, id);
    }
    raw_client sub2(port);
    EXPECT_TRUE(sub2.connect("q2-sub", false, 3600).session_present);
    auto a = sub2.next_of<mqtt::publish>();
    auto b = sub2.next_of<mqtt::publish>();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(payload_of(*a), "one");
    EXPECT_EQ(payload_of(*b), "two");
    x = a->packet_id;
    y = b->packet_id;
    sub2.ack(*a);  // PUBREC for "one" only
    auto rel = sub2.next_of<mqtt::pubrel>();
    ASSERT_TRUE(rel);  // sent once "released" is committed
    EXPECT_EQ(rel->packet_id, x);

    raw_client now(port), late(port), pending(port);
    ASSERT_EQ(now.connect("w-now", true, 0, with_will("will/now", 0)).reason,
              mqtt::reason_code::success);
    ASSERT_EQ(late.connect("w-late", true, 3600, with_will("will/late", 2)).reason,
              mqtt::reason_code::success);
    ASSERT_EQ(pending.connect("w-pending", true, 3600, with_will("will/pending", 3)).reason,
              mqtt::reason_code::success);
    pending.close();  // connection lost: its will waits 3 s
    ASSERT_TRUE(wait_rows(db, "SELECT count(*) FROM wills WHERE due_ms != 0", 1));
    ASSERT_TRUE(wait_rows(db, "SELECT count(*) FROM wills", 3));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  const pid_t pid = spawn_gateway(config, log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_listening(port));
  {
    // The publisher's QoS 2 ids are known: a resent PUBLISH is not routed again.
    raw_client pub(port);
    EXPECT_TRUE(pub.connect("q2-pub", false, 3600).session_present);
    mqtt::publish again;
    again.topic = "q2/a";
    again.payload = to_buffer("one");
    again.qos = 2;
    again.dup = true;
    again.packet_id = 1;
    pub.send(mqtt::packet{again});
    auto rec = pub.next_of<mqtt::pubrec>();
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->packet_id, 1);
    for (std::uint16_t id = 1; id <= 2; ++id) {
      mqtt::pubrel rel;
      rel.packet_id = id;
      pub.send(mqtt::packet{rel});
      auto comp = pub.next_of<mqtt::pubcomp>();
      ASSERT_TRUE(comp);
      EXPECT_EQ(comp->packet_id, id);
      EXPECT_EQ(comp->reason, mqtt::reason_code::success);  // the id was known
    }

    // The subscriber gets PUBREL for "one" and "two" again under its old id, once each.
    raw_client sub(port);
    EXPECT_TRUE(sub.connect("q2-sub", false, 3600).session_present);
    std::vector<std::string> got;
    bool released_x = false;
    for (int i = 0; i < 2; ++i) {
      auto p = sub.next();
      ASSERT_TRUE(p);
      if (auto* rel = std::get_if<mqtt::pubrel>(&*p)) {
        EXPECT_EQ(rel->packet_id, x);
        released_x = true;
        mqtt::pubcomp comp;
        comp.packet_id = x;
        sub.send(mqtt::packet{comp});
      } else if (auto* m = std::get_if<mqtt::publish>(&*p)) {
        EXPECT_EQ(m->packet_id, y);
        EXPECT_TRUE(m->dup);
        got.push_back(payload_of(*m));
        sub.ack(*m);
        auto rel2 = sub.next_of<mqtt::pubrel>();
        ASSERT_TRUE(rel2);
        mqtt::pubcomp comp;
        comp.packet_id = y;
        sub.send(mqtt::packet{comp});
      } else {
        ADD_FAILURE() << "unexpected packet " << p->index();
      }
    }
    EXPECT_TRUE(released_x);
    EXPECT_EQ(got, std::vector<std::string>{"two"});
    // Nothing else is owed: the next message is a new one.
    pub.publish("q2/c", "three", 1);
    ASSERT_TRUE(pub.next_of<mqtt::puback>());
    auto p = sub.next_of<mqtt::publish>();
    ASSERT_TRUE(p);
    EXPECT_EQ(payload_of(*p), "three");
    sub.ack(*p);

    // Wills: "now" and "late" (open at the kill, "late" after its 2 s delay) and "pending".
    raw_client watch(port);
    EXPECT_TRUE(watch.connect("watch", false, 3600).session_present);
    std::multiset<std::string> wills;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (wills.size() < 3 && std::chrono::steady_clock::now() < deadline) {
      if (auto w = watch.next_of<mqtt::publish>(1s)) {
        wills.insert(w->topic);
        watch.ack(*w);
      }
    }
    while (auto w = watch.next_of<mqtt::publish>(1500ms)) wills.insert(w->topic);  // no more
    EXPECT_EQ(wills, (std::multiset<std::string>{"will/late", "will/now", "will/pending"}));
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  EXPECT_EQ(count_rows(db, "wills"), 0);
  EXPECT_EQ(count_rows(db, "incoming_qos2"), 0);
  fs::remove_all(dir);
}

#endif  // IOTBLOCKS_CLI_PATH

}  // namespace
}  // namespace iotblocks::gateway
