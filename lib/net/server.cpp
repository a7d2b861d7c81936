#include "net/connection.hpp"
#include "net/server_impl.hpp"
#include "net/tls.hpp"

#include <iotblocks/core/error.hpp>

#include <fmt/format.h>

namespace iotblocks::net {

using namespace detail;

std::string_view name(transport t) noexcept {
  switch (t) {
    case transport::tcp: return "tcp";
    case transport::tls: return "tls";
    case transport::ws: return "ws";
    case transport::wss: return "wss";
  }
  return "unknown";
}

void handler::on_protocol_error(const connection_ptr& c, mqtt::reason_code, const failure&) {
  c->close();
}

server::impl::impl(server_options o) : options(std::move(o)) {
  if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < options.threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    deadlines.push_back(std::make_unique<thread_deadlines>(*contexts.back()));
    guards.emplace_back(contexts.back()->get_executor());
  }
  tokens = options.max_accepts_per_second;
}

void server::impl::register_connection(const connection_ptr& c) {
  std::lock_guard lock(mutex);
  open.emplace(c->id(), c);
}

void server::impl::unregister_connection(std::uint64_t id) {
  std::lock_guard lock(mutex);
  open.erase(id);
}

namespace {

// Admits a new connection under the connection limit and the accept rate.
// A slot is taken at accept (not when the handshake is done, so a burst of
// accepts or of slow handshakes cannot overshoot) and given back at shutdown.
bool admit(server::impl& s) {
  if (s.admitted.fetch_add(1, std::memory_order_relaxed) >= s.options.max_connections) {
    s.admitted.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  if (s.options.max_accepts_per_second <= 0) return true;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - s.last_refill).count();
  s.last_refill = now;
  s.tokens = std::min(s.options.max_accepts_per_second,
                      s.tokens + elapsed * s.options.max_accepts_per_second);
  if (s.tokens < 1) {
    s.admitted.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  s.tokens -= 1;
  return true;
}

asio::awaitable<void> accept_loop(server::impl& s, listener& l) {
  for (;;) {
    const auto index = s.next_context.fetch_add(1) % s.contexts.size();
    auto& ctx = *s.contexts[index];
    auto [ec, socket] = co_await l.acceptor.async_accept(ctx, use_tuple);
    if (ec == asio::error::operation_aborted || !l.acceptor.is_open()) co_return;
    if (ec) continue;  // e.g. EMFILE: keep serving the others
    if (!admit(s)) {
      s.stats.rejected.fetch_add(1, std::memory_order_relaxed);
      continue;  // the socket closes as it goes out of scope
    }
    s.stats.accepted.fetch_add(1, std::memory_order_relaxed);
    socket.set_option(tcp::no_delay(true));
    const auto id = s.next_id.fetch_add(1);
    switch (l.options.kind) {
      case transport::tcp:
        std::make_shared<connection_impl<tcp::socket>>(s, *s.deadlines[index], l, id,
                                                       std::move(socket))
            ->start();
        break;
      case transport::tls:
        std::make_shared<connection_impl<tls_stream>>(s, *s.deadlines[index], l, id,
                                                      std::move(socket), *l.ssl)
            ->start();
        break;
      case transport::ws:
        std::make_shared<connection_impl<ws_stream>>(s, *s.deadlines[index], l, id,
                                                     std::move(socket))
            ->start();
        break;
      case transport::wss:
        std::make_shared<connection_impl<wss_stream>>(s, *s.deadlines[index], l, id,
                                                      std::move(socket), *l.ssl)
            ->start();
        break;
    }
  }
}

}  // namespace

server::server(server_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

server::~server() { stop(); }

result<std::uint16_t> server::listen(const listener_options& options) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) return {core::error::invalid_argument, fmt::format("bad address '{}'", options.address)};
  tcp::acceptor acceptor(*impl_->contexts.front());
  const tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return {core::error::io_error,
            fmt::format("cannot listen on {}:{}: {}", options.address, options.port, ec.message())};
  }
  std::shared_ptr<asio::ssl::context> ssl;
  if (options.kind == transport::tls || options.kind == transport::wss) {
    auto made = make_server_context(options.tls);
    if (!made) return std::move(made).take_failure();
    ssl = std::move(*made);
  }
  const auto port = acceptor.local_endpoint().port();
  impl_->listeners.push_back(listener{options, std::move(acceptor), std::move(ssl)});
  return port;
}

void server::start(handler& h) {
  if (impl_->running) return;
  impl_->callbacks = &h;
  impl_->running = true;
  for (auto& l : impl_->listeners) {
    asio::co_spawn(*impl_->contexts.front(), accept_loop(*impl_, l), asio::detached);
  }
  for (auto& ctx : impl_->contexts) {
    impl_->threads.emplace_back([&c = *ctx] { c.run(); });
  }
}

void server::stop() {
  if (!impl_ || !impl_->running) return;
  impl_->running = false;
  asio::post(*impl_->contexts.front(), [this] {
    for (auto& l : impl_->listeners) {
      boost::system::error_code ignored;
      l.acceptor.close(ignored);
    }
    for (auto& t : impl_->timers) t.cancel();
  });
  std::vector<connection_ptr> live;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [id, weak] : impl_->open) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->close();
  live.clear();
  impl_->guards.clear();
  // Connections still in a handshake keep a context busy until their timeout:
  // give the closes a moment to flush, then stop every context.
  for (auto& ctx : impl_->contexts) {
    auto grace = std::make_shared<asio::steady_timer>(*ctx, std::chrono::milliseconds(200));
    grace->async_wait([grace, &c = *ctx](auto) { c.stop(); });
  }
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

void server::every(std::chrono::milliseconds period, std::function<void()> fn) {
  auto& timer = impl_->timers.emplace_back(*impl_->contexts.front());
  asio::co_spawn(
      *impl_->contexts.front(),
      [&timer, period, fn = std::move(fn)]() -> asio::awaitable<void> {
        for (;;) {
          timer.expires_after(period);
          auto [ec] = co_await timer.async_wait(use_tuple);
          if (ec) co_return;
          fn();
        }
      },
      asio::detached);
}

server_stats server::stats() const noexcept {
  server_stats s;
  s.accepted = impl_->stats.accepted.load();
  s.rejected = impl_->stats.rejected.load();
  s.handshake_failures = impl_->stats.handshake_failures.load();
  s.bytes_in = impl_->stats.bytes_in.load();
  s.bytes_out = impl_->stats.bytes_out.load();
  std::lock_guard lock(impl_->mutex);
  s.open = impl_->open.size();
  return s;
}

const server_options& server::options() const noexcept { return impl_->options; }

}  // namespace iotblocks::net
