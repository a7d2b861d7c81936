// `iotblocks rules worker`: the rules engine as a client of any MQTT broker.
// Each rule's FROM filter is subscribed as `$share/<group>/<filter>`, so N worker
// processes with the same group split the messages between them; `republish`
// goes back to the broker. At least once: a QoS 1/2 message is acknowledged only
// when every action it started has finished (republishes included: acknowledged by
// the broker); with --client-id the session outlives the process, so a restarted
// worker gets again what a crashed one held. Receive Maximum (--max-in-flight)
// bounds what a worker holds. The dynamoDB actions write to --store (sqlite:PATH, a file;
// postgresql://…, shared with workers and gateways elsewhere): a redelivered message replaces
// its item, as PutItem does. Prints JSON lines: one when subscribed, one with the
// counts when it stops (SIGINT/SIGTERM), and every --stats seconds if asked.
#include "command.hpp"

#ifdef IOTBLOCKS_RULES_WORKER  // apps/iotblocks/CMakeLists.txt: net with MQTT, net_rules

#include <iotblocks/net/mqtt_client.hpp>
#include <iotblocks/net_rules/transports.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/rules/item_store.hpp>
#include <iotblocks/rules/mqtt_properties.hpp>
#include <iotblocks/topic/syntax.hpp>

#include "broker_url.hpp"
#include "core/json.hpp"
#include "store_url.hpp"
#include "worker_loop.hpp"

#ifdef IOTBLOCKS_RULES_WORKER_POSTGRES
#include <iotblocks/postgres/item_store.hpp>
#endif

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <memory>
#include <set>
#include <thread>

#include <unistd.h>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

namespace asio = boost::asio;

struct worker_args {
  std::string broker = "mqtt://127.0.0.1:1883";
  std::string group;
  std::string rules_file;
  std::string client_id;
  std::string store;  ///< of the dynamoDB actions; empty: none (they fail)
  std::string version = "5";
  bool no_share = false;
  unsigned stats_seconds = 0;
  unsigned qos = 1;
  unsigned max_in_flight = 64;
  std::uint32_t session_expiry = 3600;
};

/// Republish through the worker's own connection (thread-safe: mqtt_client dispatches).
/// QoS 1/2 waits (on the engine's worker thread) for the broker's acknowledgement, so
/// the action is done only when the broker holds the message; a timeout is retried.
class client_publisher final : public rules::publisher {
 public:
  explicit client_publisher(net::mqtt_client& c) : c_(c) {}
  result<void> publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
                       bool retain) override {
    if (qos == 0) {
      c_.publish(std::string(topic), to_buffer(payload), qos, retain);
      return {};
    }
    auto done = std::make_shared<std::promise<std::error_code>>();
    auto acked = done->get_future();
    c_.publish(std::string(topic), to_buffer(payload), qos, retain,
               [done](std::error_code ec) { done->set_value(ec); });
    // Polls so that a worker whose connection loop has ended gives up at once.
    for (int i = 0; i < 200; ++i) {
      if (acked.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready) {
        if (auto ec = acked.get()) return ec;
        return {};
      }
      if (closed_) break;
    }
    return make_error_code(net::error::timeout);
  }
  /// The client's executor no longer runs: acknowledgements will not come.
  void close() noexcept { closed_ = true; }

 private:
  net::mqtt_client& c_;
  std::atomic<bool> closed_{false};
};

/// The item store --store names (nullptr when none).
std::shared_ptr<rules::item_store> open_store(const std::string& url) {
  if (url.empty()) return nullptr;
  return open_store_url<std::shared_ptr<rules::item_store>>(
      url, [](const std::string& path) { return rules::sqlite_item_store::open(path); },
#ifdef IOTBLOCKS_RULES_WORKER_POSTGRES
      [](const std::string& u) { return postgres::item_store::open(u); });
#else
      nullptr);
#endif
}

/// A message received beyond --max-in-flight, dispatched when one finishes.
struct waiting_message {
  mqtt::publish message;
  net::mqtt_client::ack_fn ack;
};

void run_worker(const worker_args& a) {
  net::mqtt_client_options o;
  parse_broker(a.broker, o);
  if (a.version == "5" || a.version == "5.0") {
    o.version = mqtt::protocol_version::v5;
  } else if (a.version == "3.1.1") {
    o.version = mqtt::protocol_version::v3_1_1;
  } else {
    throw error(usage, "--mqtt-version: expected 5 or 3.1.1");
  }
  o.client_id =
      a.client_id.empty() ? fmt::format("{}-worker-{}", a.group, ::getpid()) : a.client_id;
  // A named worker keeps its session (and what the broker holds for it) across
  // crashes and restarts; an anonymous one (pid in its id) starts clean.
  o.clean_start = a.client_id.empty();
  o.session_expiry = a.client_id.empty() ? 0 : a.session_expiry;
  o.receive_maximum = static_cast<std::uint16_t>(a.max_in_flight);
  o.reconnect = true;
  o.backoff_initial = std::chrono::milliseconds(200);
  o.backoff_max = std::chrono::milliseconds(10000);

  asio::io_context io{1};
  net::mqtt_client client{io.get_executor(), o};

  rules::engine_options eo;
  eo.store = open_store(a.store);
  const auto publisher = std::make_shared<client_publisher>(client);
  eo.publisher = publisher;
  eo.http = std::make_shared<net_rules::http_client_transport>();
  eo.command = std::make_shared<net_rules::tcp_command_transport>();
  eo.tick_interval = std::chrono::milliseconds(0);
  // Each held message queues at most one invocation per action: no queue overflows.
  eo.queue_capacity = std::max<std::size_t>(eo.queue_capacity, 2 * a.max_in_flight);
  rules::engine engine{eo};

  // Rules: an object name -> topic-rule document (the gateway config's "rules").
  const auto text = read_input(a.rules_file);
  auto doc = json::parse(text);
  if (!doc) throw error(bad_input, a.rules_file + ": " + doc.describe());
  if (!doc->IsObject() || doc->MemberCount() == 0)
    throw error(bad_input, a.rules_file + ": expected an object of rule name: document");
  std::set<std::string> filters;
  for (const auto& m : doc->GetObject()) {
    const std::string name(json::view(m.name));
    auto ok = engine.add_rule(name, json::write(m.value));
    if (!ok) throw error(bad_input, "rule " + name + ": " + ok.describe());
    filters.insert(engine.rule(name)->from);
  }
  std::vector<mqtt::subscription> subs;
  for (const auto& f : filters) {
    mqtt::subscription s;
    s.filter = a.no_share || topic::is_shared(f) ? f : fmt::format("$share/{}/{}", a.group, f);
    s.options.qos = static_cast<std::uint8_t>(a.qos);
    subs.push_back(std::move(s));
  }

  // received: messages dispatched; redelivered: of those, flagged DUP by the broker;
  // acked: acknowledged after their actions; held: dispatched, not acknowledged yet.
  std::atomic<std::uint64_t> received{0}, matched{0}, redelivered{0}, acked{0}, unacked{0};
  std::atomic<std::uint64_t> held{0};
  bool stopping = false;
  auto line = [&](std::string_view event) {
    const auto t = engine.totals();
    print_line(fmt::format(
        R"({{"event":"{}","client_id":"{}","group":"{}","received":{},"redelivered":{},)"
        R"("matched":{},"acked":{},"not_acked":{},"actions_succeeded":{},"actions_failed":{}}})",
        event, o.client_id, a.group, received.load(), redelivered.load(), matched.load(),
        acked.load(), unacked.load(), t.actions_succeeded, t.actions_failed));
    std::fflush(stdout);
  };

  // Dispatches one message; `done` runs on an engine thread when its actions finished.
  std::size_t running = 0;  // dispatched, not finished (io thread)
  std::deque<waiting_message> backlog;
  std::function<void()> start_waiting;
  auto start = [&](const mqtt::publish_view& p, net::mqtt_client::ack_fn ack) {
    ++running;
    rules::message m;
    m.topic = p.topic;
    m.payload = p.payload;
    m.qos = p.qos;
    thread_local std::vector<sql::user_property> users;
    rules::set_mqtt_properties(m, p.properties, users);
    auto done = [&, ack = std::move(ack)](std::error_code ec) {
      // Every action finished (or the engine stopped first: no ack, the broker resends).
      if (ec) {
        unacked.fetch_add(1, std::memory_order_relaxed);
      } else {
        ack();
        acked.fetch_add(1, std::memory_order_relaxed);
      }
      held.fetch_sub(1, std::memory_order_release);
      asio::post(io, [&] {
        --running;
        start_waiting();
      });
    };
    matched.fetch_add(engine.dispatch(m, std::move(done)), std::memory_order_relaxed);
  };
  start_waiting = [&] {
    if (stopping) {  // left unacknowledged: the session gives them back
      held.fetch_sub(backlog.size(), std::memory_order_release);
      backlog.clear();
      return;
    }
    while (!backlog.empty() && running < a.max_in_flight) {
      auto w = std::move(backlog.front());
      backlog.pop_front();
      const auto& q = w.message;
      start({.dup = q.dup,
             .qos = q.qos,
             .retain = q.retain,
             .topic = q.topic,
             .packet_id = q.packet_id,
             .properties = q.properties.view(),
             .payload = bytes_view{q.payload.data(), q.payload.size()}},
            std::move(w.ack));
    }
  };

  client.on_message_acked([&](const mqtt::publish_view& p, net::mqtt_client::ack_fn ack) {
    // Stopping: leave new arrivals unacknowledged; the session gives them back later.
    if (stopping) return;
    received.fetch_add(1, std::memory_order_relaxed);
    if (p.dup) redelivered.fetch_add(1, std::memory_order_relaxed);
    held.fetch_add(1, std::memory_order_relaxed);
    if (running < a.max_in_flight && backlog.empty()) return start(p, std::move(ack));
    // Beyond our Receive Maximum: MQTT 5 forbids it, but mosquitto 2.0.11 sends up to
    // a whole Receive Maximum more after each PUBACK. Held here, not in the engine,
    // whose bounded queues would drop their actions.
    backlog.push_back({mqtt::to_owning(p), std::move(ack)});
  });
  run_worker_loop(io, client, o, "worker", subs, held, stopping, a.stats_seconds, line);
  publisher->close();
  engine.stop(std::chrono::seconds(0));
  line("stopped");
}

void setup(CLI::App& root) {
  auto* rules_cmd = root.get_subcommand("rules");
  static worker_args a;
  auto* w = rules_cmd->add_subcommand(
      "worker",
      "Run rules as a client of an MQTT broker; workers sharing --group split the messages");
  w->add_option("--broker", a.broker, "mqtt://host[:port], mqtts://host[:port] or host[:port]")
      ->capture_default_str();
  w->add_option("--group", a.group, "shared-subscription group ($share/<group>/<FROM>)")
      ->required();
  w->add_option("--rules", a.rules_file, "JSON object: rule name -> topic-rule document")
      ->required();
  w->add_option("--client-id", a.client_id, "MQTT client id (default <group>-worker-<pid>)");
  w->add_option("--store", a.store,
                "items of the dynamoDB actions: sqlite:PATH (a file; workers on this machine may "
                "share it) or postgresql://… (libpq URI; workers and gateways share it)");
  w->add_option("--mqtt-version", a.version, "5 (default) or 3.1.1")->capture_default_str();
  w->add_option("--qos", a.qos, "subscription QoS")->check(CLI::Range(0, 2))->capture_default_str();
  w->add_option("--max-in-flight", a.max_in_flight,
                "most unacknowledged messages held (MQTT 5 Receive Maximum)")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  w->add_option("--session-expiry", a.session_expiry,
                "seconds the broker keeps a named worker's session (--client-id, MQTT 5)")
      ->capture_default_str();
  w->add_option("--stats", a.stats_seconds, "print counts every N seconds (0: only at exit)");
  w->add_flag("--no-share", a.no_share,
              "subscribe to the FROM filters themselves (for brokers without $share)");
  w->callback([] {
    if (!a.no_share && (a.group.empty() || a.group.find_first_of("/+#") != std::string::npos))
      throw error(usage, "--group: expected a name without '/', '+' or '#'");
    run_worker(a);
  });
}

// After `rules` (order 90) so the subcommand exists.
const registrar reg{91, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
#endif  // IOTBLOCKS_RULES_WORKER
