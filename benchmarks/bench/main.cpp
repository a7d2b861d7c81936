// iotblocks-bench: an MQTT load generator that works against any broker.
//
//   iotblocks-bench --port 1883 --publishers 100 --subscribers 1 --qos 1
//                   --payload 128 --rate 0 --duration 10
//
// Publishers send to bench/<run>/<i>; subscribers subscribe to bench/<run>/#,
// so every message reaches every subscriber. Each payload starts with the send
// time (steady clock, ns), the publisher index and a sequence number; latency
// is receive time minus send time. --rate is messages/s per publisher; 0 sends
// as fast as the window allows (--window publishes outstanding per publisher:
// written to the socket at QoS 0, acknowledged at QoS 1/2). The result is one
// JSON object on stdout: sent, received, expected, lost, msgs/s and latency
// percentiles in microseconds. --inflight N closes the loop end to end: a
// publisher keeps at most N messages that have not reached every subscriber
// yet, so a saturated broker shows its throughput at a bounded queue instead
// of a queue (and latency) that grows for the whole run. --http publishes over
// HTTP instead (http_publish.hpp), SigV4-signed with --aws-access-key-id.
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
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

struct subscriber {
  std::unique_ptr<net::mqtt_client> client;
  std::vector<std::int64_t> latencies;  // ns; touched on the client's thread only
  std::vector<std::uint32_t> next_seq;  // per publisher: the sequence expected next
  std::atomic<std::uint64_t> received{0};
  std::atomic<bool> ready{false};
  std::atomic<bool> failed{false};
};

struct publisher {
  asio::io_context* io = nullptr;
  std::unique_ptr<net::mqtt_client> client;
  std::unique_ptr<asio::steady_timer> timer;
  std::uint32_t index = 0;
  std::uint32_t seq = 0;
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
  std::string base;
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

  asio::io_context& io_for(std::size_t i) { return *ios[i % ios.size()]; }

  // --inflight: messages of `p` not yet resolved at every subscriber.
  bool credit(const publisher& p) const {
    if (cfg.inflight == 0) return true;
    const std::uint64_t subscribers = std::max(1u, cfg.subscribers);
    const std::uint64_t open = std::uint64_t{p.seq} * subscribers - p.resolved.load();
    return open < std::uint64_t{cfg.inflight} * subscribers;
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
        const std::uint64_t all = std::uint64_t{p.seq} * std::max(1u, cfg.subscribers);
        p.resolved.store(all);
        p.blocked = false;
        refill(p);
      }
      p.last_resolved = p.resolved.load();
      watch_stall(p);
    });
  }

  void send_one(publisher& p) {
    iotblocks::byte_buffer payload(std::max<std::size_t>(cfg.payload, 16));
    const std::int64_t t = now_ns();
    const std::uint32_t seq = p.seq++;
    std::memcpy(payload.data(), &t, 8);
    std::memcpy(payload.data() + 8, &p.index, 4);
    std::memcpy(payload.data() + 12, &seq, 4);
    ++p.outstanding;
    p.client->publish(base + std::to_string(p.index), std::move(payload),
                      static_cast<std::uint8_t>(cfg.qos), false, [this, &p](std::error_code ec) {
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

  int run() {
    base = fmt::format("bench/{}-{}/", ::getpid(), now_ns() % 1000000);
    for (unsigned i = 0; i < std::max(1u, cfg.threads); ++i)
      ios.push_back(std::make_unique<asio::io_context>(1));
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    for (auto& io : ios) guards.push_back(asio::make_work_guard(*io));
    std::vector<std::thread> threads;
    for (auto& io : ios) threads.emplace_back([&io] { io->run(); });

    // Subscribers first, each ready after its SUBACK.
    for (unsigned i = 0; i < cfg.subscribers; ++i) {
      auto s = std::make_unique<subscriber>();
      s->client = std::make_unique<net::mqtt_client>(io_for(i).get_executor(),
                                                     options(fmt::format("bench-sub-{}", i)));
      auto* sp = s.get();
      sp->next_seq.assign(cfg.publishers, 0);
      s->client->on_message([this, sp](const mqtt::publish_view& m) {
        std::int64_t t = 0;
        if (m.payload.size() >= 8) std::memcpy(&t, m.payload.data(), 8);
        sp->latencies.push_back(now_ns() - t);
        sp->received.fetch_add(1, std::memory_order_relaxed);
        if (cfg.inflight == 0 || m.payload.size() < 16) return;
        std::uint32_t index = 0, seq = 0;
        std::memcpy(&index, m.payload.data() + 8, 4);
        std::memcpy(&seq, m.payload.data() + 12, 4);
        if (index >= pubs.size() || seq < sp->next_seq[index]) return;  // duplicate
        const std::uint64_t n = seq + 1 - sp->next_seq[index];          // gaps count as resolved
        sp->next_seq[index] = seq + 1;
        resolve(*pubs[index], n);
      });
      s->client->on_connect([this, sp](std::error_code ec, bool) {
        if (ec) {
          sp->failed = true;
          ++connect_errors;
          return;
        }
        sp->client->subscribe({{base + "#", {.qos = static_cast<std::uint8_t>(cfg.qos)}}},
                              [sp](std::error_code e, auto) {
                                if (e) sp->failed = true;
                                sp->ready = true;
                              });
      });
      s->client->connect();
      subs.push_back(std::move(s));
    }
    for (unsigned i = 0; i < cfg.publishers; ++i) {
      auto p = std::make_unique<publisher>();
      p->index = i;
      p->io = &io_for(i + cfg.subscribers);
      p->timer = std::make_unique<asio::steady_timer>(*p->io);
      p->stall = std::make_unique<asio::steady_timer>(*p->io);
      p->client = std::make_unique<net::mqtt_client>(p->io->get_executor(),
                                                     options(fmt::format("bench-pub-{}", i)));
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
      for (auto& g : guards) g.reset();
      for (auto& io : ios) io->stop();
      for (auto& t : threads) t.join();
      return 2;
    }

    const auto start = clock_type::now();
    for (auto& p : pubs) start_publishing(*p);
    std::this_thread::sleep_for(std::chrono::duration<double>(cfg.duration));
    stop = true;
    const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    // Let outstanding publishes complete, then wait for deliveries to arrive.
    wait_for(
        [&] {
          return std::all_of(pubs.begin(), pubs.end(), [](auto& p) { return p->outstanding == 0; });
        },
        cfg.drain);
    std::uint64_t sent = 0, errors = 0;
    for (auto& p : pubs) {
      sent += p->sent;
      errors += p->errors;
    }
    const std::uint64_t expected = sent * cfg.subscribers;
    auto received_total = [&] {
      std::uint64_t r = 0;
      for (auto& s : subs) r += s->received.load(std::memory_order_relaxed);
      return r;
    };
    wait_for([&] { return received_total() >= expected; }, cfg.drain);
    const double total = std::chrono::duration<double>(clock_type::now() - start).count();

    for (auto& p : pubs) {
      asio::post(*p->io, [pp = p.get()] {
        pp->timer->cancel();
        pp->stall->cancel();
      });
    }
    std::atomic<unsigned> closed{0};
    for (auto& s : subs) s->client->disconnect([&closed](std::error_code) { ++closed; });
    for (auto& p : pubs) p->client->disconnect([&closed](std::error_code) { ++closed; });
    wait_for([&] { return closed == subs.size() + pubs.size(); }, 10);
    for (auto& g : guards) g.reset();
    for (auto& io : ios) io->stop();
    for (auto& t : threads) t.join();

    std::vector<std::int64_t> all;
    for (auto& s : subs) all.insert(all.end(), s->latencies.begin(), s->latencies.end());
    std::sort(all.begin(), all.end());
    auto pct = [&](double q) {
      if (all.empty()) return 0.0;
      auto i = static_cast<std::size_t>(q * static_cast<double>(all.size() - 1));
      return static_cast<double>(all[i]) / 1000.0;
    };
    const std::uint64_t received = all.size();
    const std::uint64_t lost = expected > received ? expected - received : 0;
    fmt::print(
        "{{\"label\":\"{}\",\"host\":\"{}\",\"port\":{},\"publishers\":{},\"subscribers\":{},"
        "\"qos\":{},\"payload\":{},\"rate\":{},\"window\":{},\"inflight\":{},\"duration_s\":{:.3f},"
        "\"sent\":{},\"publish_errors\":{},\"expected\":{},\"received\":{},\"lost\":{},"
        "\"sent_per_s\":{:.0f},\"received_per_s\":{:.0f},"
        "\"latency_us\":{{\"p50\":{:.1f},\"p99\":{:.1f},\"p999\":{:.1f},\"max\":{:.1f}}},"
        "\"total_s\":{:.3f}}}\n",
        cfg.label, cfg.host, cfg.port, cfg.publishers, cfg.subscribers, cfg.qos, cfg.payload,
        cfg.rate, cfg.window, cfg.inflight, elapsed, sent, errors, expected, received, lost,
        static_cast<double>(sent) / elapsed, static_cast<double>(received) / elapsed, pct(0.5),
        pct(0.99), pct(0.999), all.empty() ? 0.0 : static_cast<double>(all.back()) / 1000.0, total);
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
