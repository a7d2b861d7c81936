// `iotblocks rules worker`: the rules engine as a client of any MQTT broker.
// Each rule's FROM filter is subscribed as `$share/<group>/<filter>`, so N worker
// processes with the same group split the messages between them; `republish`
// goes back to the broker. Prints JSON lines: one when subscribed, one with the
// counts when it stops (SIGINT/SIGTERM), and every --stats seconds if asked.
#include "command.hpp"

#ifdef IOTBLOCKS_RULES_WORKER  // defined by lib/rules when net has its MQTT client

#include <iotblocks/net/mqtt_client.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/topic/syntax.hpp>

#include "core/json.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include <unistd.h>

namespace iotblocks::cli {
namespace {

namespace asio = boost::asio;

struct worker_args {
  std::string broker = "mqtt://127.0.0.1:1883";
  std::string group;
  std::string rules_file;
  std::string client_id;
  std::string version = "5";
  bool no_share = false;
  unsigned stats_seconds = 0;
  unsigned qos = 1;
};

/// Republish through the worker's own connection (thread-safe: mqtt_client dispatches).
class client_publisher final : public rules::publisher {
 public:
  explicit client_publisher(net::mqtt_client& c) : c_(c) {}
  result<void> publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
                       bool retain) override {
    c_.publish(std::string(topic), to_buffer(payload), qos, retain);
    return {};
  }

 private:
  net::mqtt_client& c_;
};

void parse_broker(const std::string& url, net::mqtt_client_options& o) {
  std::string_view rest = url;
  if (rest.starts_with("mqtt://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("mqtts://")) {
    rest.remove_prefix(8);
    o.tls.enabled = true;
    o.port = 8883;
  } else {
    throw error(usage, "--broker: expected mqtt://host[:port] or mqtts://host[:port]");
  }
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    unsigned port = 0;
    const auto p = rest.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || port == 0 || port > 65535)
      throw error(usage, "--broker: bad port in " + url);
    o.port = static_cast<std::uint16_t>(port);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) throw error(usage, "--broker: no host in " + url);
  o.host = std::string(rest);
}

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
  o.reconnect = true;
  o.backoff_initial = std::chrono::milliseconds(200);
  o.backoff_max = std::chrono::milliseconds(10000);

  asio::io_context io{1};
  net::mqtt_client client{io.get_executor(), o};

  rules::engine_options eo;
  eo.publisher = std::make_shared<client_publisher>(client);
  eo.tick_interval = std::chrono::milliseconds(0);
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

  std::atomic<std::uint64_t> received{0}, matched{0};
  auto line = [&](std::string_view event) {
    const auto t = engine.totals();
    print_line(
        fmt::format(R"({{"event":"{}","client_id":"{}","group":"{}","received":{},"matched":{},)"
                    R"("actions_succeeded":{},"actions_failed":{}}})",
                    event, o.client_id, a.group, received.load(), matched.load(),
                    t.actions_succeeded, t.actions_failed));
    std::fflush(stdout);
  };

  client.on_message([&](const mqtt::publish_view& p) {
    received.fetch_add(1, std::memory_order_relaxed);
    rules::message m;
    m.topic = p.topic;
    m.payload = p.payload;
    m.qos = p.qos;
    matched.fetch_add(engine.dispatch(m), std::memory_order_relaxed);
  });
  bool announced = false;
  client.on_connect([&](std::error_code ec, bool) {
    if (ec) {
      std::fprintf(stderr, "iotblocks: worker: %s:%u: %s\n", o.host.c_str(), o.port,
                   ec.message().c_str());
      return;
    }
    client.subscribe(subs, [&](std::error_code e, std::vector<mqtt::reason_code> codes) {
      for (auto c : codes) {
        if (static_cast<int>(c) >= 0x80) {
          std::fprintf(stderr, "iotblocks: worker: subscription refused (0x%02x)\n",
                       static_cast<unsigned>(c));
        }
      }
      if (!e && !announced) {
        announced = true;
        line("subscribed");
      }
    });
  });

  asio::signal_set signals{io, SIGINT, SIGTERM};
  bool stopping = false;
  signals.async_wait([&](boost::system::error_code, int) {
    stopping = true;
    // Let queued actions (republish) finish, then leave cleanly.
    // Republishes are posted to this executor: disconnect after them.
    engine.flush(std::chrono::seconds(10));
    asio::post(io, [&] { client.disconnect([&](std::error_code) { io.stop(); }); });
  });
  asio::steady_timer stats{io};
  std::function<void()> arm = [&] {
    if (a.stats_seconds == 0) return;
    stats.expires_after(std::chrono::seconds(a.stats_seconds));
    stats.async_wait([&](boost::system::error_code e) {
      if (e || stopping) return;
      line("stats");
      arm();
    });
  };
  arm();
  client.connect();
  io.run();
  engine.stop();
  line("stopped");
}

void setup(CLI::App& root) {
  auto* rules_cmd = root.get_subcommand("rules");
  static worker_args a;
  auto* w = rules_cmd->add_subcommand(
      "worker",
      "Run rules as a client of an MQTT broker; workers sharing --group split the messages");
  w->add_option("--broker", a.broker, "mqtt://host[:port] or mqtts://host[:port]")
      ->capture_default_str();
  w->add_option("--group", a.group, "shared-subscription group ($share/<group>/<FROM>)")
      ->required();
  w->add_option("--rules", a.rules_file, "JSON object: rule name -> topic-rule document")
      ->required();
  w->add_option("--client-id", a.client_id, "MQTT client id (default <group>-worker-<pid>)");
  w->add_option("--mqtt-version", a.version, "5 (default) or 3.1.1")->capture_default_str();
  w->add_option("--qos", a.qos, "subscription QoS")->check(CLI::Range(0, 2))->capture_default_str();
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

}  // namespace
}  // namespace iotblocks::cli
#endif  // IOTBLOCKS_RULES_WORKER
