// `iotblocks jobs worker`: the AWS IoT Jobs device API as a client of any MQTT 5 broker. It
// subscribes the request topics ($aws/things/+/jobs/get, start-next, {jobId}/get,
// {jobId}/update) as `$share/<group>/…`, so N workers with one group split the requests
// (mosquitto 2.0: a bridge remaps them, --request-prefix names the prefix, as for `shadow
// worker`). Each request runs through jobs::router on the store the --store URL names
// (sqlite:PATH, postgresql://…) on one store thread; a request is acknowledged (PUBACK)
// only once its change is committed and the broker has its reply: at least once, and a
// replayed update is refused or applied again as a device's own retry would be.
//
// The notify / notify-next pushes: on SQLite (one process) the worker publishes those of
// its own changes and of its timeouts. On PostgreSQL the store announces every commit's
// things (postgres::jobs_changes, any process: gateways, other workers, `jobs` tools), and
// one worker per share group, the holder of the lease, publishes the pushes of every change
// and drives the timeouts and rollouts (tick every second); the others publish replies only.
// A killed holder's lease passes to another worker within a second.
//
// Prints JSON lines: "subscribed", "leading" (PostgreSQL: took the lease), "stats" every
// --stats seconds, and "stopped" with the counts at SIGINT/SIGTERM.
#include "command.hpp"

#ifdef IOTBLOCKS_JOBS_WORKER  // apps/iotblocks/CMakeLists.txt: net with MQTT, jobs

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/jobs/service.hpp>
#include <iotblocks/jobs/store.hpp>
#include <iotblocks/net/mqtt_client.hpp>
#ifdef IOTBLOCKS_JOBS_WORKER_POSTGRES
#include <iotblocks/postgres/jobs_changes.hpp>
#include <iotblocks/postgres/jobs_store.hpp>
#endif

#include "broker_url.hpp"
#include "service_worker_options.hpp"
#include "store_url.hpp"
#include "worker_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>

#include <unistd.h>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

namespace asio = boost::asio;

struct jobs_worker_args : service_worker_options {
  jobs_worker_args() { group = "iotblocks-jobs"; }
  unsigned tick_ms = 1000;
};

/// The request topics after "$aws/" (or --request-prefix); replies and pushes match none.
const char* const request_filters[] = {
    "things/+/jobs/get",
    "things/+/jobs/start-next",
    "things/+/jobs/+/get",
    "things/+/jobs/+/update",
};

std::unique_ptr<jobs::store> open_store(const std::string& url) {
  return open_store_url<std::unique_ptr<jobs::store>>(
      url, [](const std::string& path) { return jobs::sqlite_store::open(path); },
#ifdef IOTBLOCKS_JOBS_WORKER_POSTGRES
      [](const std::string& u) { return postgres::jobs_store::open(u); });
#else
      nullptr);
#endif
}

#ifdef IOTBLOCKS_JOBS_WORKER_POSTGRES
using changes_ptr = std::unique_ptr<postgres::jobs_changes>;
#else
using changes_ptr = std::unique_ptr<int>;  // never set
#endif

void run_jobs_worker(const jobs_worker_args& a) {
  net::mqtt_client_options o;
  parse_broker(a.broker, o);
  o.version = mqtt::protocol_version::v5;
  if (!a.ca_file.empty() || !a.cert_file.empty()) o.tls.enabled = true;
  o.tls.ca_file = a.ca_file;
  o.tls.cert_file = a.cert_file;
  o.tls.key_file = a.key_file;
  o.tls.verify = !a.insecure;
  o.client_id = a.client_id.empty() ? fmt::format("{}-jobs-{}", a.group, ::getpid()) : a.client_id;
  o.clean_start = a.client_id.empty();
  o.session_expiry = a.client_id.empty() ? 0 : a.session_expiry;
  o.receive_maximum = static_cast<std::uint16_t>(a.max_in_flight);
  o.max_in_flight = 1000;
  o.reconnect = true;
  o.backoff_initial = std::chrono::milliseconds(200);
  o.backoff_max = std::chrono::milliseconds(10000);

  asio::io_context io{1};
  auto store = open_store(a.store);
  jobs::service service{*store};
  jobs::router router{service};
  const bool shared = is_postgres_url(a.store);
  changes_ptr changes;
#ifdef IOTBLOCKS_JOBS_WORKER_POSTGRES
  if (shared) {
    auto c = postgres::jobs_changes::open(a.store, a.group);
    if (!c) throw error(bad_input, "--store: " + c.describe());
    changes = std::move(*c);
    // The lease holder publishes every change's pushes, this worker's too.
    service.notify_filter([](std::string_view) { return false; });
  }
#endif

  net::mqtt_client client{io.get_executor(), o};
  // Requests, timeouts and pushes run here, in arrival order, off the network thread.
  asio::thread_pool store_thread{1};
  const std::string prefix = a.request_prefix.empty() ? "$aws/" : a.request_prefix;
  std::vector<mqtt::subscription> subs;
  for (const char* f : request_filters) {
    mqtt::subscription s;
    s.filter = fmt::format("$share/{}/{}{}", a.group, prefix, f);
    s.options.qos = 1;
    subs.push_back(std::move(s));
  }

  std::atomic<std::uint64_t> received{0}, redelivered{0}, accepted{0}, rejected{0}, acked{0};
  std::atomic<std::uint64_t> failed{0}, held{0}, pushed{0};
  std::atomic<bool> leading{!shared};
  bool stopping = false;
  auto line = [&](std::string_view event) {
    print_line(fmt::format(
        R"({{"event":"{}","client_id":"{}","group":"{}","received":{},"redelivered":{},)"
        R"("accepted":{},"rejected":{},"acked":{},"not_acked":{},"pushed":{},"leading":{}}})",
        event, o.client_id, a.group, received.load(), redelivered.load(), accepted.load(),
        rejected.load(), acked.load(), failed.load(), pushed.load(), leading.load()));
    std::fflush(stdout);
  };

  // On the client's thread: publishes `msgs`; `ack`, if set, once the broker has them all.
  auto publish = [&](std::vector<jobs::message> msgs, net::mqtt_client::ack_fn ack) {
    struct countdown {
      std::size_t left;
      bool failed = false;
      net::mqtt_client::ack_fn ack;
    };
    auto finish = [&](countdown& c) {
      if (!c.ack) return;
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
      if (m.topic.ends_with("/notify") || m.topic.ends_with("/notify-next"))
        pushed.fetch_add(1, std::memory_order_relaxed);
      client.publish(std::move(m.topic), to_buffer(m.payload),
                     static_cast<std::uint8_t>(a.reply_qos), false,
                     [left, finish](std::error_code ec) {
                       if (ec) left->failed = true;
                       if (--left->left == 0) finish(*left);
                     });
    }
  };
  auto publish_from_store = [&](std::vector<jobs::message> msgs) {
    if (msgs.empty()) return;
    asio::post(io, [&, msgs = std::move(msgs)]() mutable { publish(std::move(msgs), {}); });
  };

  client.on_message_acked([&](const mqtt::publish_view& p, net::mqtt_client::ack_fn ack) {
    if (stopping) return;  // unacknowledged: the session gives it back later
    received.fetch_add(1, std::memory_order_relaxed);
    if (p.dup) redelivered.fetch_add(1, std::memory_order_relaxed);
    held.fetch_add(1, std::memory_order_relaxed);
    std::string topic{p.topic};
    if (!a.request_prefix.empty() && topic.starts_with(a.request_prefix)) {
      topic = "$aws/" + topic.substr(a.request_prefix.size());
    }
    asio::post(store_thread,
               [&, topic = std::move(topic), body = std::string(as_string_view(p.payload)),
                ack = std::move(ack)]() mutable {
                 auto out = router.route(topic, body);
                 asio::post(io, [&, out = std::move(out), ack = std::move(ack)]() mutable {
                   publish(out ? std::move(*out) : std::vector<jobs::message>{}, std::move(ack));
                 });
               });
  });

  // Timeouts and rollouts: by the lease holder (every worker on SQLite), every --tick-ms.
  asio::steady_timer ticker{io};
  std::function<void()> arm_tick = [&] {
    ticker.expires_after(std::chrono::milliseconds(a.tick_ms));
    ticker.async_wait([&](boost::system::error_code e) {
      if (e || stopping) return;
      asio::post(store_thread, [&] {
        if (leading.load()) {
          auto out = service.tick(default_clock().now());
          if (out) publish_from_store(std::move(*out));
        }
        asio::post(io, arm_tick);
      });
    });
  };

#ifdef IOTBLOCKS_JOBS_WORKER_POSTGRES
  // The change feed: on the store thread, the things announced; the lease holder publishes
  // the pushes that bring each thing's devices from what it last pushed to the store now.
  asio::posix::stream_descriptor watch{io};
  std::map<std::string, jobs::service::pending_view, std::less<>> pushed_views;
  bool feed_down = false;  // store thread
  // On the store thread: the things announced so far, pushed by the lease holder.
  auto drain = [&] {
    if (feed_down) return;
    auto things = changes->take();
    if (!things) {
      feed_down = true;  // the lease check reconnects
      leading = false;
      return;
    }
    if (!changes->leading()) return;
    std::vector<jobs::message> out;
    for (const auto& t : *things) {
      // Anyone who may NOTIFY on the database could announce anything.
      if (!jobs::valid_thing_name(t, service.limits().max_thing_name())) continue;
      auto it = pushed_views.try_emplace(t).first;
      for (auto& m : service.pushes_since(t, it->second)) out.push_back(std::move(m));
      if (it->second.ids.empty()) pushed_views.erase(it);  // absent means none pending
    }
    publish_from_store(std::move(out));
  };
  std::function<void()> arm_watch = [&] {
    if (!watch.is_open() || stopping) return;
    watch.async_wait(asio::posix::descriptor_base::wait_read, [&](boost::system::error_code e) {
      if (e || stopping) return;
      asio::post(store_thread, [&] {
        drain();
        if (!feed_down) asio::post(io, arm_watch);
      });
    });
  };
  auto watch_socket = [&](int fd) {  // on io
    if (watch.is_open()) (void)watch.release();
    if (fd >= 0) watch.assign(fd);
    arm_watch();
  };
  // Every second, on the store thread: reconnect a dropped feed, try for the lease.
  asio::steady_timer lease_timer{io};
  std::function<void()> check_lease = [&] {
    if (feed_down) {
      if (!changes->reconnect()) return;
      feed_down = false;
      pushed_views.clear();
      asio::post(io, [&, fd = changes->socket()] { watch_socket(fd); });
    }
    const bool was = leading.load();
    auto now_leading = changes->try_lead();
    if (!now_leading) {
      feed_down = true;
      leading = false;
      return;
    }
    leading = *now_leading;
    if (*now_leading && !was) {
      pushed_views.clear();
      asio::post(io, [&] { line("leading"); });
    }
    drain();  // what arrived during the query is in libpq's queue, not on the socket
  };
  std::function<void()> arm_lease = [&] {
    lease_timer.expires_after(std::chrono::seconds(1));
    lease_timer.async_wait([&](boost::system::error_code e) {
      if (e || stopping) return;
      asio::post(store_thread, [&] {
        check_lease();
        asio::post(io, arm_lease);
      });
    });
  };
  if (shared) {
    asio::post(store_thread, [&] {
      check_lease();
      asio::post(io, [&, fd = changes->socket()] {
        watch_socket(fd);
        arm_lease();
      });
    });
  }
#endif
  arm_tick();

  run_worker_loop(io, client, o, "jobs worker", subs, held, stopping, a.stats_seconds, line);
  store_thread.join();
#ifdef IOTBLOCKS_JOBS_WORKER_POSTGRES
  if (watch.is_open()) (void)watch.release();  // libpq closes its own socket
#endif
  line("stopped");
}

void setup(CLI::App& root) {
  auto* jobs_cmd = root.get_subcommand("jobs");
  static jobs_worker_args a;
  auto* w = jobs_cmd->add_subcommand(
      "worker",
      "Serve $aws/things/+/jobs/# from an MQTT 5 broker; workers sharing --share-group split "
      "the requests");
  add_service_worker_options(*w, a, "jobs",
                             "sqlite:PATH (one process) or postgresql://… (libpq URI)",
                             "shared-subscription group ($share/<group>/…); also names the "
                             "pushes' lease",
                             "QoS of the replies and pushes");
  w->add_option("--tick-ms", a.tick_ms, "how often timeouts and rollouts are checked")
      ->check(CLI::Range(10, 60000))
      ->capture_default_str();
  w->callback([] {
    check_service_worker_options(a);
    run_jobs_worker(a);
  });
}

// After `jobs` (order 85) so the subcommand exists.
const registrar reg{86, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
#endif  // IOTBLOCKS_JOBS_WORKER
