// iotblocks-bench: an MQTT load generator that works against any broker.
//
//   iotblocks-bench --port 1883 --publishers 100 --subscribers 1 --qos 1
//                   --payload 128 --rate 0 --duration 10
//
// Publishers send to bench/<run>/<i>; subscribers subscribe to bench/<run>/#,
// so every message reaches every subscriber (--topics wildcard: filters with
// '+'/'#' that each match a fraction of the publishers, topic_layout.hpp). Each
// payload starts with the send time (steady clock, ns), the publisher index and
// a sequence number; latency is receive time minus send time, and a sequence
// number a subscriber already has counts as a duplicate, not as received
// (delivery_log.hpp). --rate is messages/s per publisher; 0 sends as fast as
// the window allows (--window publishes outstanding per publisher: written to
// the socket at QoS 0, acknowledged at QoS 1/2). The result is one JSON object
// on stdout: sent, received, expected, lost, duplicates, msgs/s and latency
// percentiles in microseconds. --inflight N closes the loop end to end: a
// publisher keeps at most N messages that have not reached every matching
// subscriber yet, so a saturated broker shows its throughput at a bounded queue
// instead of a queue (and latency) that grows for the whole run.
//
// Other shapes: --persistent (subscribers with clean start off, --session-expiry;
// --offline S: each disconnects once mid-run for S seconds and reconnects to its
// session), --retained N (N retained messages, then the subscribers join on a
// wildcard; latency = time from SUBSCRIBE to each message), --connect-storm N
// (TLS 1.3 connects with resumption, tls_storm.hpp), --http (HTTP publishes,
// http_publish.hpp, SigV4-signed with --aws-access-key-id).
#include "delivery_log.hpp"
#include "tls_storm.hpp"
#include "topic_layout.hpp"

#include <iotblocks/net/mqtt_client.hpp>

#ifdef IOTBLOCKS_BENCH_HTTP
#include "http_publish.hpp"
#endif

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

namespace asio = boost::asio;
namespace net = iotblocks::net;
namespace mqtt = iotblocks::mqtt;
namespace bench = iotblocks::bench;
using clock_type = std::chrono::steady_clock;

struct config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  unsigned publishers = 1;
  unsigned subscribers = 1;
  unsigned qos = 0;
  std::size_t payload = 128;
  double rate = 0;
  unsigned window = 64;
  unsigned inflight = 0;  // end-to-end window per publisher; 0: off
  double duration = 10;
  double drain = 5;
  unsigned threads = 1;
  std::string version = "3.1.1";
  std::string label;
  bool retain = false;
  bench::topic_pattern topics = bench::topic_pattern::all;
  unsigned groups = 5;
  bool persistent = false;
  std::uint32_t session_expiry = 300;
  double offline = 0;     // --persistent: seconds each subscriber stays away mid-run; 0: never
  unsigned retained = 0;  // --retained N: the retained fan-out shape
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

struct subscriber {
  unsigned index = 0;
  asio::io_context* io = nullptr;
  std::unique_ptr<net::mqtt_client> client;
  std::vector<std::unique_ptr<net::mqtt_client>> retired;  // replaced by a reconnect
  std::unique_ptr<asio::steady_timer> timer;               // --offline
  std::vector<std::int64_t> latencies;  // ns; touched on the client's thread only
  bench::delivery_log log;              // on the client's thread only
  std::int64_t subscribed_at = 0;       // --retained: when SUBSCRIBE left (ns)
  std::atomic<std::int64_t> last_at{0};
  std::atomic<std::uint64_t> received{0};  // unique messages
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<unsigned> reconnects{0};
  std::atomic<unsigned> sessions_lost{0};  // reconnected without session present
  std::atomic<bool> ready{false};
  std::atomic<bool> failed{false};
  explicit subscriber(std::size_t publishers) : log(publishers) {}
};

struct publisher {
  asio::io_context* io = nullptr;
  std::unique_ptr<net::mqtt_client> client;
  std::unique_ptr<asio::steady_timer> timer;
  std::uint32_t index = 0;
  std::uint32_t seq = 0;
  std::uint32_t fanout = 0;  // subscribers whose filter matches this publisher's topic
  std::string topic;
  std::atomic<unsigned> outstanding{0};
  clock_type::time_point next{};
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> errors{0};
  // --inflight: deliveries resolved (received, or skipped over by a later sequence).
  std::atomic<std::uint64_t> resolved{0};
  std::atomic<bool> blocked{false};
  std::uint64_t last_resolved = 0;  // stall check, on the publisher's thread
  std::unique_ptr<asio::steady_timer> stall;
  std::atomic<bool> ready{false};
  std::atomic<bool> failed{false};
};

struct runner {
  config cfg;
  bench::topic_layout layout;
  std::string session_prefix;  // client ids of this run
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::unique_ptr<subscriber>> subs;
  std::vector<std::unique_ptr<publisher>> pubs;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> connect_errors{0};

  net::mqtt_client_options options(std::string id) const {
    net::mqtt_client_options o;
    o.host = cfg.host;
    o.port = cfg.port;
    o.client_id = std::move(id);
    o.version = cfg.version == "5" ? mqtt::protocol_version::v5 : mqtt::protocol_version::v3_1_1;
    o.keep_alive = 60;
    o.max_in_flight = static_cast<std::uint16_t>(std::clamp(cfg.window, 1u, 65535u));
    o.max_queued = 1u << 22;
    return o;
  }

  net::mqtt_client_options subscriber_options(const subscriber& s, bool clean) const {
    auto o = options(fmt::format("{}sub-{}", session_prefix, s.index));
    if (cfg.persistent && !clean) {
      o.clean_start = false;
      o.session_expiry = cfg.session_expiry;
    }
    return o;
  }

  asio::io_context& io_for(std::size_t i) { return *ios[i % ios.size()]; }

  // --inflight: messages of `p` not yet resolved at every matching subscriber.
  bool credit(const publisher& p) const {
    if (cfg.inflight == 0 || p.fanout == 0) return true;
    const std::uint64_t open = std::uint64_t{p.seq} * p.fanout - p.resolved.load();
    return open < std::uint64_t{cfg.inflight} * p.fanout;
  }

  // A subscriber resolved deliveries of `p`: resume it if it waits for credit.
  void resolve(publisher& p, std::uint64_t n) {
    p.resolved.fetch_add(n);
    if (p.blocked.load(std::memory_order_relaxed) && p.blocked.exchange(false)) {
      asio::post(*p.io, [this, &p] { refill(p); });
    }
  }

  void refill(publisher& p) {
    if (stop) return;
    while (p.outstanding < cfg.window && credit(p)) send_one(p);
    if (!credit(p)) {
      p.blocked = true;
      if (credit(p) && p.blocked.exchange(false)) refill(p);  // resolved meanwhile
    }
  }

  // --inflight: deliveries the broker dropped would hold credit forever; a
  // publisher without progress for 500 ms gives its open messages up.
  void watch_stall(publisher& p) {
    p.stall->expires_after(std::chrono::milliseconds(500));
    p.stall->async_wait([this, &p](boost::system::error_code e) {
      if (e || stop) return;
      const auto now = p.resolved.load();
      if (now == p.last_resolved && !credit(p)) {
        p.resolved.store(std::uint64_t{p.seq} * p.fanout);
        p.blocked = false;
        refill(p);
      }
      p.last_resolved = p.resolved.load();
      watch_stall(p);
    });
  }

  iotblocks::byte_buffer payload(std::uint32_t index, std::uint32_t seq) const {
    iotblocks::byte_buffer b(std::max<std::size_t>(cfg.payload, 16));
    const std::int64_t t = now_ns();
    std::memcpy(b.data(), &t, 8);
    std::memcpy(b.data() + 8, &index, 4);
    std::memcpy(b.data() + 12, &seq, 4);
    return b;
  }

  void send_one(publisher& p) {
    const std::uint32_t seq = p.seq++;
    ++p.outstanding;
    p.client->publish(p.topic, payload(p.index, seq), static_cast<std::uint8_t>(cfg.qos),
                      cfg.retain, [this, &p](std::error_code ec) {
                        --p.outstanding;
                        if (ec) {
                          ++p.errors;
                        } else {
                          ++p.sent;
                        }
                        if (cfg.rate == 0 && !stop) refill(p);
                      });
  }

  void tick(publisher& p) {
    if (stop) return;
    const auto interval = std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(1.0 / cfg.rate));
    auto now = clock_type::now();
    while (p.next <= now && p.outstanding < cfg.window && credit(p)) {
      send_one(p);
      p.next += interval;
    }
    if (p.next < now - interval * 100) p.next = now;  // far behind: do not burst
    p.timer->expires_at(std::max(p.next, now + std::chrono::microseconds(100)));
    p.timer->async_wait([this, &p](boost::system::error_code e) {
      if (!e) tick(p);
    });
  }

  void start_publishing(publisher& p) {
    asio::post(*p.io, [this, &p] {
      if (cfg.inflight > 0) watch_stall(p);
      if (cfg.rate == 0) {
        refill(p);
      } else {
        p.next = clock_type::now();
        tick(p);
      }
    });
  }

  template <class F>
  static bool wait_for(F&& done, double seconds) {
    auto deadline = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                            std::chrono::duration<double>(seconds));
    while (!done()) {
      if (clock_type::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  void on_message(subscriber& s, const mqtt::publish_view& m) {
    if (m.payload.size() < 16) return;
    std::int64_t t = 0;
    std::uint32_t index = 0, seq = 0;
    std::memcpy(&t, m.payload.data(), 8);
    std::memcpy(&index, m.payload.data() + 8, 4);
    std::memcpy(&seq, m.payload.data() + 12, 4);
    const auto r = s.log.record(index, seq);
    if (!r.fresh) {
      s.duplicates.store(s.log.duplicates(), std::memory_order_relaxed);
      return;
    }
    const std::int64_t now = now_ns();
    s.latencies.push_back(now - (cfg.retained > 0 ? s.subscribed_at : t));
    s.last_at.store(now, std::memory_order_relaxed);
    s.received.fetch_add(1, std::memory_order_relaxed);
    if (cfg.inflight > 0 && r.advanced > 0 && index < pubs.size())
      resolve(*pubs[index], r.advanced);
  }

  void subscribe(subscriber& s, const std::string& filter) {
    s.subscribed_at = now_ns();
    s.client->subscribe({{filter, {.qos = static_cast<std::uint8_t>(cfg.qos)}}},
                        [&s](std::error_code e, auto) {
                          if (e) s.failed = true;
                          s.ready = true;
                        });
  }

  // A new client for `s` (first connect or --offline reconnect), subscribing unless
  // the broker kept its session; --retained subscribes later.
  void start_subscriber(subscriber& s) {
    if (s.client) s.retired.push_back(std::move(s.client));
    s.client =
        std::make_unique<net::mqtt_client>(s.io->get_executor(), subscriber_options(s, false));
    s.client->on_message([this, &s](const mqtt::publish_view& m) { on_message(s, m); });
    const bool again = !s.retired.empty();
    s.client->on_connect([this, &s, again](std::error_code ec, bool session_present) {
      if (ec) {
        s.failed = true;
        ++connect_errors;
        return;
      }
      if (again) ++s.reconnects;
      if (again && session_present) return;
      if (again) ++s.sessions_lost;
      if (cfg.retained > 0) {
        s.ready = true;
        return;
      }
      subscribe(s, layout.subscriber_filter(s.index));
    });
    s.client->connect();
  }

  // --offline: disconnect at `at` seconds after start, reconnect `offline` seconds later.
  void schedule_offline(subscriber& s, double at) {
    s.timer->expires_after(
        std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(at)));
    s.timer->async_wait([this, &s](boost::system::error_code e) {
      if (e) return;
      s.client->disconnect([this, &s](std::error_code) {
        s.timer->expires_after(std::chrono::duration_cast<clock_type::duration>(
            std::chrono::duration<double>(cfg.offline)));
        s.timer->async_wait([this, &s](boost::system::error_code e2) {
          if (!e2) start_subscriber(s);
        });
      });
    });
  }

  // Ends each subscriber's persistent session: connect once more with clean start.
  void end_sessions() {
    std::atomic<unsigned> done{0};
    std::vector<std::unique_ptr<net::mqtt_client>> cleaners;
    for (auto& s : subs) {
      auto o = subscriber_options(*s, true);
      o.session_expiry = 0;
      cleaners.push_back(std::make_unique<net::mqtt_client>(s->io->get_executor(), o));
      auto* c = cleaners.back().get();
      c->on_connect([c, &done](std::error_code ec, bool) {
        if (ec) return void(++done);
        c->disconnect([&done](std::error_code) { ++done; });
      });
      c->connect();
    }
    wait_for([&] { return done == cleaners.size(); }, 10);
    for (std::size_t i = 0; i < subs.size(); ++i)
      subs[i]->retired.push_back(std::move(cleaners[i]));
  }

  // --retained: publisher 0 stores N retained messages (QoS ≥ 1, so the broker has
  // them before anyone subscribes), or with `clear` removes them again.
  bool publish_retained(publisher& p, bool clear) {
    struct batch {
      std::atomic<std::uint32_t> next{0};
      std::atomic<std::uint32_t> done{0};
      std::atomic<std::uint32_t> errors{0};
    };
    auto b = std::make_shared<batch>();
    const auto qos = static_cast<std::uint8_t>(std::max(cfg.qos, 1u));
    // One publish; its completion sends the next (the client keeps `window` in flight).
    auto one = std::make_shared<std::function<void()>>();
    *one = [this, &p, b, clear, qos, w = std::weak_ptr(one)] {
      const std::uint32_t k = b->next++;
      if (k >= cfg.retained) return;
      auto body = clear ? iotblocks::byte_buffer{} : payload(0, k);
      p.client->publish(fmt::format("{}r/{}", layout.base, k), std::move(body), qos, true,
                        [b, w](std::error_code ec) {
                          if (ec) ++b->errors;
                          ++b->done;
                          if (auto f = w.lock()) (*f)();
                        });
    };
    asio::post(*p.io, [this, one] {
      for (unsigned i = 0; i < cfg.window; ++i) (*one)();
    });
    const bool ok = wait_for([&] { return b->done == cfg.retained; }, 60);
    // Completions after a timeout find `one` gone and stop.
    asio::post(*p.io, [one = std::move(one)]() mutable { one.reset(); });
    return ok && b->errors == 0;
  }

  void shut_down(std::vector<asio::executor_work_guard<asio::io_context::executor_type>>& guards,
                 std::vector<std::thread>& threads) {
    for (auto& p : pubs) {
      asio::post(*p->io, [pp = p.get()] {
        pp->timer->cancel();
        pp->stall->cancel();
      });
    }
    std::atomic<unsigned> closed{0};
    for (auto& s : subs) {
      asio::post(*s->io, [sp = s.get(), &closed] {
        sp->timer->cancel();
        sp->client->disconnect([&closed](std::error_code) { ++closed; });
      });
    }
    for (auto& p : pubs) p->client->disconnect([&closed](std::error_code) { ++closed; });
    wait_for([&] { return closed == subs.size() + pubs.size(); }, 10);
    if (cfg.persistent) end_sessions();
    for (auto& g : guards) g.reset();
    for (auto& io : ios) io->stop();
    for (auto& t : threads) t.join();
  }

  int run() {
    const auto run_id = fmt::format("{}-{}", ::getpid(), now_ns() % 1000000);
    layout.base = fmt::format("bench/{}/", run_id);
    layout.pattern = cfg.topics;
    layout.publishers = cfg.retained > 0 ? 1 : cfg.publishers;
    layout.groups = cfg.groups;
    session_prefix = cfg.persistent ? fmt::format("bench-{}-", run_id) : "bench-";
    const auto fanout = cfg.retained > 0 ? std::vector<std::uint32_t>{cfg.subscribers}
                                         : layout.fanout(cfg.subscribers);
    for (unsigned i = 0; i < std::max(1u, cfg.threads); ++i)
      ios.push_back(std::make_unique<asio::io_context>(1));
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    for (auto& io : ios) guards.push_back(asio::make_work_guard(*io));
    std::vector<std::thread> threads;
    for (auto& io : ios) threads.emplace_back([&io] { io->run(); });

    // Subscribers first, each ready after its SUBACK (--retained: after CONNACK).
    for (unsigned i = 0; i < cfg.subscribers; ++i) {
      auto s = std::make_unique<subscriber>(layout.publishers);
      s->index = i;
      s->io = &io_for(i);
      s->timer = std::make_unique<asio::steady_timer>(*s->io);
      auto* sp = s.get();
      subs.push_back(std::move(s));
      asio::post(*sp->io, [this, sp] { start_subscriber(*sp); });
    }
    for (unsigned i = 0; i < layout.publishers; ++i) {
      auto p = std::make_unique<publisher>();
      p->index = i;
      p->fanout = fanout[i];
      p->topic = layout.publisher_topic(i);
      p->io = &io_for(i + cfg.subscribers);
      p->timer = std::make_unique<asio::steady_timer>(*p->io);
      p->stall = std::make_unique<asio::steady_timer>(*p->io);
      p->client = std::make_unique<net::mqtt_client>(
          p->io->get_executor(), options(fmt::format("{}pub-{}", session_prefix, i)));
      auto* pp = p.get();
      p->client->on_connect([this, pp](std::error_code ec, bool) {
        if (ec) {
          pp->failed = true;
          ++connect_errors;
        }
        pp->ready = true;
      });
      p->client->connect();
      pubs.push_back(std::move(p));
    }
    const bool all_ready = wait_for(
        [&] {
          return std::all_of(subs.begin(), subs.end(),
                             [](auto& s) { return s->ready || s->failed; }) &&
                 std::all_of(pubs.begin(), pubs.end(),
                             [](auto& p) { return p->ready || p->failed; });
        },
        30);
    const bool any_failed =
        !all_ready || connect_errors > 0 ||
        std::any_of(subs.begin(), subs.end(), [](auto& s) { return s->failed.load(); });
    if (any_failed) {
      fmt::print(stderr, "iotblocks-bench: could not connect/subscribe all clients to {}:{}\n",
                 cfg.host, cfg.port);
      stop = true;
      shut_down(guards, threads);
      return 2;
    }

    auto received_total = [&] {
      std::uint64_t r = 0;
      for (auto& s : subs) r += s->received.load(std::memory_order_relaxed);
      return r;
    };
    std::vector<std::uint64_t> sent_by;
    double elapsed = 0, total = 0, retained_store_s = 0;
    if (cfg.retained > 0) {
      const auto t0 = clock_type::now();
      if (!publish_retained(*pubs[0], false)) {
        fmt::print(stderr, "iotblocks-bench: the broker did not acknowledge {} retained messages\n",
                   cfg.retained);
        stop = true;
        shut_down(guards, threads);
        return 2;
      }
      retained_store_s = std::chrono::duration<double>(clock_type::now() - t0).count();
      const auto start_ns = now_ns();
      for (auto& s : subs) {
        s->ready = false;
        asio::post(*s->io, [this, sp = s.get()] { subscribe(*sp, layout.base + "r/#"); });
      }
      wait_for([&] { return received_total() >= std::uint64_t{cfg.retained} * cfg.subscribers; },
               cfg.duration + cfg.drain);
      std::int64_t last = start_ns;
      for (auto& s : subs) last = std::max(last, s->last_at.load());
      elapsed = static_cast<double>(last - start_ns) / 1e9;
      total = elapsed;
      sent_by.push_back(cfg.retained);
      publish_retained(*pubs[0], true);
    } else {
      const auto start = clock_type::now();
      for (auto& p : pubs) start_publishing(*p);
      if (cfg.persistent && cfg.offline > 0) {
        // Each subscriber goes away once, spread over the middle half of the run.
        for (auto& s : subs) {
          const double at = cfg.duration * (0.25 + 0.5 * s->index / std::max(1u, cfg.subscribers));
          asio::post(*s->io, [this, sp = s.get(), at] { schedule_offline(*sp, at); });
        }
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(cfg.duration));
      stop = true;
      elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
      // Let outstanding publishes complete, then wait for deliveries to arrive.
      wait_for(
          [&] {
            return std::all_of(pubs.begin(), pubs.end(),
                               [](auto& p) { return p->outstanding == 0; });
          },
          cfg.drain);
      for (auto& p : pubs) sent_by.push_back(p->sent);
      const auto expected = bench::count_lost(sent_by, fanout, 0).expected;
      wait_for([&] { return received_total() >= expected; }, cfg.drain);
      total = std::chrono::duration<double>(clock_type::now() - start).count();
    }
    shut_down(guards, threads);

    std::uint64_t sent = 0, errors = 0, duplicates = 0, reconnects = 0, sessions_lost = 0;
    for (auto v : sent_by) sent += v;
    for (auto& p : pubs) errors += p->errors;
    std::vector<std::int64_t> all;
    for (auto& s : subs) {
      all.insert(all.end(), s->latencies.begin(), s->latencies.end());
      duplicates += s->log.duplicates();
      reconnects += s->reconnects;
      sessions_lost += s->sessions_lost;
    }
    std::sort(all.begin(), all.end());
    auto pct = [&](double q) {
      if (all.empty()) return 0.0;
      auto i = static_cast<std::size_t>(q * static_cast<double>(all.size() - 1));
      return static_cast<double>(all[i]) / 1000.0;
    };
    const std::uint64_t received = all.size();
    const auto loss = bench::count_lost(sent_by, fanout, received);
    const double sent_seconds = cfg.retained > 0 ? retained_store_s : elapsed;
    fmt::print(
        "{{\"label\":\"{}\",\"host\":\"{}\",\"port\":{},\"publishers\":{},\"subscribers\":{},"
        "\"qos\":{},\"payload\":{},\"rate\":{},\"window\":{},\"inflight\":{},\"topics\":\"{}\","
        "\"persistent\":{},\"retained\":{},\"duration_s\":{:.3f},"
        "\"sent\":{},\"publish_errors\":{},\"expected\":{},\"received\":{},\"lost\":{},"
        "\"extra\":{},\"duplicates\":{},\"reconnects\":{},\"sessions_lost\":{},"
        "\"sent_per_s\":{:.0f},\"received_per_s\":{:.0f},"
        "\"latency_us\":{{\"p50\":{:.1f},\"p99\":{:.1f},\"p999\":{:.1f},\"max\":{:.1f}}},"
        "\"total_s\":{:.3f}}}\n",
        cfg.label, cfg.host, cfg.port, layout.publishers, cfg.subscribers, cfg.qos, cfg.payload,
        cfg.rate, cfg.window, cfg.inflight,
        cfg.topics == bench::topic_pattern::all ? "all" : "wildcard", cfg.persistent, cfg.retained,
        elapsed, sent, errors, loss.expected, received, loss.lost, loss.extra, duplicates,
        reconnects, sessions_lost, static_cast<double>(sent) / std::max(sent_seconds, 1e-9),
        static_cast<double>(received) / std::max(elapsed, 1e-9), pct(0.5), pct(0.99), pct(0.999),
        all.empty() ? 0.0 : static_cast<double>(all.back()) / 1000.0, total);
    return 0;
  }
};

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  CLI::App app{
      "iotblocks-bench: MQTT load generator (msgs/s, latency percentiles, losses as JSON)"};
  app.add_option("--host", cfg.host, "broker host")->capture_default_str();
  app.add_option("--port", cfg.port, "broker port")->capture_default_str();
  app.add_option("-p,--publishers", cfg.publishers, "publisher connections")->capture_default_str();
  app.add_option("-s,--subscribers", cfg.subscribers, "subscriber connections")
      ->capture_default_str();
  app.add_option("-q,--qos", cfg.qos, "QoS of publishes and subscriptions")
      ->check(CLI::Range(0, 2))
      ->capture_default_str();
  app.add_option("--payload", cfg.payload, "payload bytes (at least 16)")->capture_default_str();
  app.add_option("--rate", cfg.rate, "messages/s per publisher; 0 = as fast as the window allows")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--window", cfg.window, "outstanding publishes per publisher")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  app.add_option("--inflight", cfg.inflight,
                 "end-to-end window: messages per publisher not yet received by every "
                 "subscriber (0 = off)")
      ->capture_default_str();
  app.add_option("-d,--duration", cfg.duration, "seconds of publishing")->capture_default_str();
  app.add_option("--drain", cfg.drain, "seconds to wait for late deliveries")
      ->capture_default_str();
  app.add_option("-t,--threads", cfg.threads, "io_context threads")->capture_default_str();
  app.add_option("--mqtt-version", cfg.version, "3.1.1 or 5")
      ->check(CLI::IsMember({"3.1.1", "5"}))
      ->capture_default_str();
  app.add_option("--label", cfg.label, "copied into the JSON result");
  app.add_flag("--retain", cfg.retain, "publish with the retain flag");
  std::string topics = "all";
  app.add_option("--topics", topics,
                 "all: every subscriber on <base>#; wildcard: '+'/'#' filters that each match "
                 "1/groups or 1/publishers of the publishers' topics")
      ->check(CLI::IsMember({"all", "wildcard"}))
      ->capture_default_str();
  app.add_option("--groups", cfg.groups, "with --topics wildcard: topic groups")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_flag("--persistent", cfg.persistent,
               "subscribers with clean start off (clean session 0) and --session-expiry");
  app.add_option("--session-expiry", cfg.session_expiry, "with --persistent (MQTT 5): seconds")
      ->capture_default_str();
  app.add_option("--offline", cfg.offline,
                 "with --persistent: each subscriber disconnects once mid-run for this many "
                 "seconds and reconnects to its session (0 = never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--retained", cfg.retained,
                 "retained fan-out: store N retained messages on distinct topics, then the "
                 "subscribers join on a wildcard; rate and latency from SUBSCRIBE to each message");
  iotblocks::bench::tls_storm_config storm;
  app.add_option("--connect-storm", storm.clients,
                 "TLS 1.3 connect storm: this many clients connect (CONNECT/CONNACK) and leave");
  app.add_option("--concurrency", storm.concurrency, "with --connect-storm: clients at a time")
      ->capture_default_str();
  app.add_option("--ca-file", storm.ca_file, "with --connect-storm: CA that verifies the server");
  bool no_resume = false;
  app.add_flag("--no-resume", no_resume, "with --connect-storm: full handshakes only");
#ifdef IOTBLOCKS_BENCH_HTTP
  bool http_mode = false;
  iotblocks::bench::http_publish_config http;
  app.add_flag("--http", http_mode,
               "HTTP publishes (POST /topics/...?qos=0) on -p keep-alive connections instead of "
               "MQTT; --port is the HTTP port");
  app.add_option("--aws-access-key-id", http.access_key_id,
                 "with --http: sign each request with SigV4 as `aws iot-data publish`");
  app.add_option("--aws-secret-access-key", http.secret, "with --http: the key's secret");
  app.add_option("--aws-region", http.region, "with --http: the signing region")
      ->capture_default_str();
  app.add_option("--server-pid", http.server_pid,
                 "with --http: report this process's CPU time per request (/proc)");
#endif
  CLI11_PARSE(app, argc, argv);
  iotblocks::bench::parse_topic_pattern(topics, cfg.topics);
  if (app.count("--connect-storm") > 0) {
    storm.host = cfg.host;
    storm.port = cfg.port;
    storm.threads = cfg.threads;
    storm.resume = !no_resume;
    storm.label = cfg.label;
    return iotblocks::bench::run_tls_storm(storm);
  }
#ifdef IOTBLOCKS_BENCH_HTTP
  if (http_mode) {
    http.host = cfg.host;
    http.port = cfg.port;
    http.connections = cfg.publishers;
    http.payload = cfg.payload;
    http.duration = cfg.duration;
    http.label = cfg.label;
    return iotblocks::bench::run_http_publish(http);
  }
#endif
  runner r;
  r.cfg = cfg;
  return r.run();
}
