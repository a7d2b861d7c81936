// `iotblocks shadow worker`: the Device Shadow service as a client of any MQTT 5
// broker. It subscribes the shadow request topics ($aws/things/+/shadow/{get,update,
// delete} and the named ones) as `$share/<group>/…`, so N workers with one group split
// the requests. mosquitto 2.0 matches no shared subscription to a topic that starts
// with `$`: there a bridge remaps the requests, and --request-prefix names the prefix.
// Each request runs through shadow::router on the store the --store URL names
// (sqlite:PATH, postgresql://…); the replies (accepted, rejected, delta, documents) go
// back on the broker. At least once: a request is acknowledged (PUBACK) only once its
// change is committed and the broker has acknowledged its replies; with --client-id the
// session outlives the process, so the broker gives a restarted worker what a killed one
// held. A replayed update is harmless when it names the version it expects (409 the
// second time); without, it applies again (same state, one version more), as a
// device's own retry would. Prints JSON lines: one when subscribed, one with the counts
// when it stops (SIGINT/SIGTERM), and every --stats seconds if asked.
#include "command.hpp"

#ifdef IOTBLOCKS_SHADOW_WORKER  // apps/iotblocks/CMakeLists.txt: net with MQTT, shadow

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/net/mqtt_client.hpp>
#include <iotblocks/shadow/service.hpp>
#include <iotblocks/shadow/store.hpp>
#ifdef IOTBLOCKS_SHADOW_WORKER_POSTGRES
#include <iotblocks/postgres/shadow_store.hpp>
#endif

#include "broker_url.hpp"
#include "service_worker_options.hpp"
#include "store_url.hpp"
#include "worker_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <memory>

#include <unistd.h>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

namespace asio = boost::asio;

struct shadow_worker_args : service_worker_options {
  shadow_worker_args() { group = "iotblocks-shadow"; }
  unsigned connections = 4;
};

/// The request topics after "$aws/" (or --request-prefix); the workers' own replies
/// (…/accepted etc.) do not match them.
const char* const request_filters[] = {
    "things/+/shadow/get",        "things/+/shadow/update",        "things/+/shadow/delete",
    "things/+/shadow/name/+/get", "things/+/shadow/name/+/update", "things/+/shadow/name/+/delete",
};

std::unique_ptr<shadow::store> open_store(const shadow_worker_args& a) {
  return open_store_url<std::unique_ptr<shadow::store>>(
      a.store, [](const std::string& path) { return shadow::sqlite_store::open(path); },
#ifdef IOTBLOCKS_SHADOW_WORKER_POSTGRES
      [&a](const std::string& url) {
        postgres::shadow_store::options o;
        o.connections = a.connections;
        o.committers = std::max(1u, a.connections / 2);
        return postgres::shadow_store::open(url, o);
      });
#else
      nullptr);
#endif
}

void run_shadow_worker(const shadow_worker_args& a) {
  net::mqtt_client_options o;
  parse_broker(a.broker, o);
  o.version = mqtt::protocol_version::v5;
  if (!a.ca_file.empty() || !a.cert_file.empty()) o.tls.enabled = true;
  o.tls.ca_file = a.ca_file;
  o.tls.cert_file = a.cert_file;
  o.tls.key_file = a.key_file;
  o.tls.verify = !a.insecure;
  o.client_id =
      a.client_id.empty() ? fmt::format("{}-shadow-{}", a.group, ::getpid()) : a.client_id;
  // A named worker keeps its session (and the requests the broker holds for it) across
  // crashes and restarts; an anonymous one (pid in its id) starts clean.
  o.clean_start = a.client_id.empty();
  o.session_expiry = a.client_id.empty() ? 0 : a.session_expiry;
  o.receive_maximum = static_cast<std::uint16_t>(a.max_in_flight);
  o.max_in_flight = 1000;  // replies awaiting PUBACK (the broker's Receive Maximum caps it)
  o.reconnect = true;
  o.backoff_initial = std::chrono::milliseconds(200);
  o.backoff_max = std::chrono::milliseconds(10000);

  asio::io_context io{1};
  auto store = open_store(a);
  shadow::service service{*store};
  shadow::router router{service};

  net::mqtt_client client{io.get_executor(), o};
  asio::thread_pool readers{2};  // gets: one statement each, off the network thread
  const std::string prefix = a.request_prefix.empty() ? "$aws/" : a.request_prefix;
  std::vector<mqtt::subscription> subs;
  for (const char* f : request_filters) {
    mqtt::subscription s;
    s.filter = fmt::format("$share/{}/{}{}", a.group, prefix, f);
    s.options.qos = 1;
    subs.push_back(std::move(s));
  }

  // received: requests; redelivered: of those, flagged DUP by the broker; accepted and
  // rejected: replies; acked: requests acknowledged; held: received, not acknowledged yet.
  std::atomic<std::uint64_t> received{0}, redelivered{0}, accepted{0}, rejected{0}, acked{0};
  std::atomic<std::uint64_t> failed{0}, held{0};
  bool stopping = false;
  auto line = [&](std::string_view event) {
    print_line(fmt::format(
        R"({{"event":"{}","client_id":"{}","group":"{}","received":{},"redelivered":{},)"
        R"("accepted":{},"rejected":{},"acked":{},"not_acked":{}}})",
        event, o.client_id, a.group, received.load(), redelivered.load(), accepted.load(),
        rejected.load(), acked.load(), failed.load()));
    std::fflush(stdout);
  };

  // On the client's thread: publishes the replies, acknowledges the request when the
  // broker has them all (QoS 1) or they are written (QoS 0).
  auto reply = [&](std::vector<shadow::message> msgs, net::mqtt_client::ack_fn ack) {
    struct countdown {
      std::size_t left;
      bool failed = false;
      net::mqtt_client::ack_fn ack;
    };
    auto finish = [&](countdown& c) {
      if (c.failed) {
        failed.fetch_add(1, std::memory_order_relaxed);  // the broker sends it again
      } else {
        c.ack();
        acked.fetch_add(1, std::memory_order_relaxed);
      }
      held.fetch_sub(1, std::memory_order_release);
    };
    auto left = std::make_shared<countdown>(countdown{msgs.size(), false, std::move(ack)});
    if (msgs.empty()) return finish(*left);
    for (auto& m : msgs) {
      if (m.topic.ends_with("/accepted")) accepted.fetch_add(1, std::memory_order_relaxed);
      if (m.topic.ends_with("/rejected")) rejected.fetch_add(1, std::memory_order_relaxed);
      client.publish(std::move(m.topic), to_buffer(m.payload),
                     static_cast<std::uint8_t>(a.reply_qos), false,
                     [left, finish](std::error_code ec) {
                       if (ec) left->failed = true;
                       if (--left->left == 0) finish(*left);
                     });
    }
  };

  client.on_message_acked([&](const mqtt::publish_view& p, net::mqtt_client::ack_fn ack) {
    // Stopping: leave new arrivals unacknowledged; the session gives them back later.
    if (stopping) return;
    received.fetch_add(1, std::memory_order_relaxed);
    if (p.dup) redelivered.fetch_add(1, std::memory_order_relaxed);
    held.fetch_add(1, std::memory_order_relaxed);
    auto done = [&, ack](std::vector<shadow::message> msgs) mutable {
      // Possibly on the store's thread: back to the client's.
      asio::post(io, [&, msgs = std::move(msgs), ack = std::move(ack)]() mutable {
        reply(std::move(msgs), std::move(ack));
      });
    };
    std::string_view topic = p.topic;
    std::string aws_topic;  // the request's $aws/ topic when it came remapped
    if (!a.request_prefix.empty() && topic.starts_with(a.request_prefix)) {
      aws_topic = "$aws/";
      aws_topic += topic.substr(a.request_prefix.size());
      topic = aws_topic;
    }
    auto not_a_request = [&, ack] {
      ack();  // nothing to do
      acked.fetch_add(1, std::memory_order_relaxed);
      held.fetch_sub(1, std::memory_order_release);
    };
    if (topic.ends_with("/get")) {
      // A get reads the store on the calling thread: a reader's, not the network's.
      asio::post(readers,
                 [&, not_a_request, t = std::string(topic),
                  body = std::string(as_string_view(p.payload)), done = std::move(done)]() mutable {
                   if (!router.route_async(t, body, {}, std::move(done))) not_a_request();
                 });
      return;
    }
    if (!router.route_async(topic, as_string_view(p.payload), {}, std::move(done))) {
      not_a_request();
    }
  });
  run_worker_loop(io, client, o, "shadow worker", subs, held, stopping, a.stats_seconds, line);
  readers.join();
  // Commits what is still queued (a drain that timed out) while the router it completes
  // through exists; the completions post to `io`, which no longer runs: not acknowledged.
  store.reset();
  line("stopped");
}

void setup(CLI::App& root) {
  auto* shadow_cmd = root.get_subcommand("shadow");
  static shadow_worker_args a;
  auto* w = shadow_cmd->add_subcommand(
      "worker",
      "Serve $aws/things/+/shadow/# from an MQTT 5 broker; workers sharing --share-group split "
      "the requests");
  add_service_worker_options(*w, a, "shadow", "sqlite:PATH or postgresql://… (libpq URI)",
                             "shared-subscription group ($share/<group>/…)", "QoS of the replies");
  w->add_option("--connections", a.connections, "PostgreSQL connections (half of them commit)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  w->callback([] {
    check_service_worker_options(a);
    run_shadow_worker(a);
  });
}

// After `shadow` (order 80) so the subcommand exists.
const registrar reg{81, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
#endif  // IOTBLOCKS_SHADOW_WORKER
