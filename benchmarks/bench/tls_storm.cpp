#include "tls_storm.hpp"

#include <iotblocks/mqtt/encoder.hpp>
#include <iotblocks/mqtt/packet.hpp>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace iotblocks::bench {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct session_deleter {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, session_deleter>;

struct storm {
  const tls_storm_config& cfg;
  ssl::context ctx{ssl::context::tls_client};
  tcp::endpoint endpoint;
  std::atomic<unsigned> next{0};
  std::atomic<std::uint64_t> connected{0}, failed{0}, resumed{0};
  std::mutex mutex;
  std::vector<std::int64_t> latencies;  // ns, under mutex
  std::string first_error;              // under mutex

  explicit storm(const tls_storm_config& c) : cfg(c) {}

  void fail(const std::string& what) {
    ++failed;
    std::lock_guard lock{mutex};
    if (first_error.empty()) first_error = what;
  }

  // One client: connect, handshake (offering `session`), CONNECT/CONNACK, DISCONNECT.
  // Returns the session to offer next (the server's ticket), or the old one.
  asio::awaitable<session_ptr> one(unsigned index, session_ptr session) {
    auto ex = co_await asio::this_coro::executor;
    const auto start = clock_type::now();
    boost::system::error_code ec;
    ssl::stream<tcp::socket> stream{ex, ctx};
    if (session) SSL_set_session(stream.native_handle(), session.get());
    co_await stream.next_layer().async_connect(endpoint,
                                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      fail("connect: " + ec.message());
      co_return session;
    }
    stream.next_layer().set_option(tcp::no_delay{true}, ec);  // CONNECT right after Finished
    co_await stream.async_handshake(ssl::stream_base::client,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      fail("handshake: " + ec.message());
      co_return session;
    }
    mqtt::connect c;
    c.version = mqtt::protocol_version::v3_1_1;
    c.keep_alive = 60;
    c.client_id = fmt::format("storm-{}", index);
    byte_buffer out;
    mqtt::encode(mqtt::packet{std::move(c)}, mqtt::protocol_version::v3_1_1, out);
    co_await asio::async_write(stream, asio::buffer(out.data(), out.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    std::array<unsigned char, 4> connack{};
    if (!ec) {
      co_await asio::async_read(stream, asio::buffer(connack),
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      fail("CONNECT/CONNACK: " + ec.message());
      co_return session;
    }
    if (connack[0] != 0x20 || connack[1] != 2 || connack[3] != 0) {
      fail(fmt::format("CONNACK {:02x} {:02x} {:02x} {:02x}", connack[0], connack[1], connack[2],
                       connack[3]));
      co_return session;
    }
    const auto elapsed = clock_type::now() - start;
    ++connected;
    if (SSL_session_reused(stream.native_handle()) == 1) ++resumed;
    {
      std::lock_guard lock{mutex};
      latencies.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
    }
    // TLS 1.3 tickets arrive after the handshake; reading CONNACK has processed them.
    if (cfg.resume) {
      SSL_SESSION* s = SSL_get1_session(stream.native_handle());
      if (s != nullptr && SSL_SESSION_is_resumable(s) == 1) {
        session.reset(s);
      } else if (s != nullptr) {
        SSL_SESSION_free(s);
      }
    }
    // DISCONNECT, then wait for the broker to close (so the TIME_WAIT is on its side).
    static constexpr std::array<unsigned char, 2> disconnect{0xE0, 0x00};
    co_await asio::async_write(stream, asio::buffer(disconnect),
                               asio::redirect_error(asio::use_awaitable, ec));
    std::array<unsigned char, 64> sink{};
    while (!ec) {
      co_await stream.async_read_some(asio::buffer(sink),
                                      asio::redirect_error(asio::use_awaitable, ec));
    }
    // The MQTT session ended cleanly: mark the TLS one so. Freeing an SSL that is not
    // shut down would make its session non-resumable (OpenSSL's bad-session rule).
    SSL_set_shutdown(stream.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    stream.next_layer().close(ec);
    co_return session;
  }

  asio::awaitable<void> worker() {
    session_ptr session;
    for (unsigned i = next++; i < cfg.clients; i = next++) {
      session = co_await one(i, std::move(session));
      if (!cfg.resume) session.reset();
    }
  }
};

}  // namespace

int run_tls_storm(const tls_storm_config& cfg) {
  storm s{cfg};
  SSL_CTX* native = s.ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION);
  if (!cfg.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, cfg.ca_file.c_str(), nullptr) != 1) {
      fmt::print(stderr, "iotblocks-bench: cannot read CA file {}\n", cfg.ca_file);
      return 2;
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  }
  boost::system::error_code ec;
  s.endpoint = tcp::endpoint{asio::ip::make_address(cfg.host, ec), cfg.port};
  if (ec) {
    fmt::print(stderr, "iotblocks-bench: bad host {}\n", cfg.host);
    return 2;
  }
  std::vector<std::unique_ptr<asio::io_context>> ios;
  for (unsigned t = 0; t < std::max(cfg.threads, 1u); ++t)
    ios.push_back(std::make_unique<asio::io_context>(1));
  for (unsigned w = 0; w < std::max(cfg.concurrency, 1u); ++w)
    asio::co_spawn(*ios[w % ios.size()], s.worker(), asio::detached);
  const auto start = clock_type::now();
  std::vector<std::thread> threads;
  for (auto& io : ios) threads.emplace_back([&io] { io->run(); });
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();

  auto& all = s.latencies;
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) {
    if (all.empty()) return 0.0;
    return static_cast<double>(
               all[static_cast<std::size_t>(q * static_cast<double>(all.size() - 1))]) /
           1000.0;
  };
  const auto connected = s.connected.load();
  fmt::print(
      "{{\"label\":\"{}\",\"host\":\"{}\",\"port\":{},\"mode\":\"connect-storm\",\"clients\":{},"
      "\"concurrency\":{},\"resume\":{},\"duration_s\":{:.3f},\"sent\":{},\"expected\":{},"
      "\"received\":{},\"lost\":{},\"resumed\":{},\"received_per_s\":{:.0f},"
      "\"latency_us\":{{\"p50\":{:.1f},\"p99\":{:.1f},\"p999\":{:.1f},\"max\":{:.1f}}},"
      "\"first_error\":\"{}\"}}\n",
      cfg.label, cfg.host, cfg.port, cfg.clients, cfg.concurrency, cfg.resume, elapsed, cfg.clients,
      cfg.clients, connected, s.failed.load(), s.resumed.load(),
      static_cast<double>(connected) / elapsed, pct(0.5), pct(0.99), pct(0.999),
      all.empty() ? 0.0 : static_cast<double>(all.back()) / 1000.0, s.first_error);
  return 0;
}

}  // namespace iotblocks::bench
