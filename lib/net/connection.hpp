// Private: one client connection over any of the four transports.
#pragma once

#include "net/server_impl.hpp"
#include "net/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>
#include <type_traits>

namespace iotblocks::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using tls_stream = asio::ssl::stream<tcp::socket>;
using ws_stream = beast::websocket::stream<tcp::socket>;
using wss_stream = beast::websocket::stream<tls_stream>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <class S>
inline constexpr bool is_websocket = std::is_same_v<S, ws_stream> || std::is_same_v<S, wss_stream>;
template <class S>
inline constexpr bool has_tls = std::is_same_v<S, tls_stream> || std::is_same_v<S, wss_stream>;

template <class Stream>
class connection_impl final : public connection,
                              public tls_peer_sink,
                              public std::enable_shared_from_this<connection_impl<Stream>> {
 public:
  template <class... Args>
  connection_impl(server::impl& srv, const listener& l, std::uint64_t id, tcp::socket socket,
                  Args&&... args)
      : srv_(srv),
        listener_(l),
        id_(id),
        stream_(std::move(socket), std::forward<Args>(args)...),
        timer_(stream_.get_executor()),
        decoder_(mqtt::role::server) {
    apply_limits(decoder_, srv.options.decoder);
    boost::system::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).remote_endpoint(ec);
    if (!ec) {
      peer_.address = ep.address().to_string();
      peer_.port = ep.port();
    }
    peer_.kind = l.options.kind;
    deadline_ = std::chrono::steady_clock::now() + srv.options.connect_timeout;
  }

  std::uint64_t id() const noexcept override { return id_; }
  const peer_info& peer() const noexcept override { return peer_; }

  // On the connection's own thread (inside a handler callback) these act at
  // once, so a reply queued before close() is written before the close.
  void send(byte_buffer bytes) override {
    if (on_own_thread()) return enqueue(std::move(bytes));
    post([self = this->shared_from_this(), b = std::move(bytes)]() mutable {
      self->enqueue(std::move(b));
    });
  }
  void close() override {
    if (on_own_thread()) return begin_close();
    post([self = this->shared_from_this()] { self->begin_close(); });
  }
  void set_protocol(mqtt::protocol_version v) override {
    post([self = this->shared_from_this(), v] { self->decoder_.protocol(v); });
  }
  void set_idle_timeout(std::chrono::milliseconds t) override {
    post([self = this->shared_from_this(), t] {
      self->idle_ = t;
      self->deadline_ = t.count() > 0 ? std::chrono::steady_clock::now() + t
                                      : std::chrono::steady_clock::time_point::max();
    });
  }
  void post(std::function<void()> fn) override {
    asio::post(stream_.get_executor(), std::move(fn));
  }

  // Starts the handshakes and the read loop on the connection's thread.
  void start() {
    // Coroutines start lazily: each takes a reference as a parameter, which its
    // frame holds from creation on, so the connection outlives them.
    auto self = this->shared_from_this();
    asio::co_spawn(stream_.get_executor(), watchdog(self), asio::detached);
    asio::co_spawn(stream_.get_executor(), run(self), asio::detached);
  }

  bool check_tls_peer(peer_info& from_tls) override {
    peer_.chain = std::move(from_tls.chain);
    return srv_.callbacks->on_tls_peer(peer_);
  }

 private:
  asio::awaitable<void> run(std::shared_ptr<connection_impl> self) {
    if (!co_await handshake()) {
      srv_.stats.handshake_failures.fetch_add(1, std::memory_order_relaxed);
      shutdown_now();
      co_return;
    }
    opened_ = true;
    srv_.register_connection(self);
    srv_.callbacks->on_open(self);
    std::vector<std::byte> buffer(srv_.options.read_buffer_size);
    std::error_code why;
    while (!closed_) {
      auto [ec, n] = co_await read_some(asio::buffer(buffer.data(), buffer.size()));
      if (ec) {
        why = ec;
        break;
      }
      srv_.stats.bytes_in.fetch_add(n, std::memory_order_relaxed);
      if (idle_.count() > 0) deadline_ = std::chrono::steady_clock::now() + idle_;
      if (!feed(bytes_view{buffer.data(), n})) {
        begin_close();  // after a protocol error: flush the DISCONNECT, then close
        break;
      }
    }
    if (!closing_) shutdown_now();
    finish(why);
  }

  // Decodes and dispatches; false after a protocol error.
  bool feed(bytes_view in) {
    auto self = this->shared_from_this();
    while (!in.empty() && !closed_) {
      std::error_code ec;
      in = in.subspan(decoder_.put(in, ec));
      if (decoder_.has_packet()) {
        srv_.callbacks->on_packet(self, decoder_.get());
      } else if (ec && ec != mqtt::error::need_more) {
        srv_.callbacks->on_protocol_error(self, decoder_.reason(), decoder_.last_failure());
        return false;
      }
    }
    return true;
  }

  asio::awaitable<bool> handshake() {
    if constexpr (has_tls<Stream>) {
      auto& tls = tls_layer();
      SSL_set_ex_data(tls.native_handle(), ssl_connection_index(),
                      static_cast<tls_peer_sink*>(this));
      auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server, use_tuple);
      SSL_set_ex_data(tls.native_handle(), ssl_connection_index(), nullptr);
      if (ec) co_return false;
      const unsigned char* alpn = nullptr;
      unsigned len = 0;
      SSL_get0_alpn_selected(tls.native_handle(), &alpn, &len);
      if (alpn != nullptr) peer_.alpn.assign(reinterpret_cast<const char*>(alpn), len);
    }
    if constexpr (is_websocket<Stream>) {
      beast::flat_buffer buf;
      beast::http::request<beast::http::string_body> req;
      auto [ec, n] = co_await beast::http::async_read(stream_.next_layer(), buf, req, use_tuple);
      if (ec || !beast::websocket::is_upgrade(req) || req.target() != listener_.options.ws_path ||
          req[beast::http::field::sec_websocket_protocol].find("mqtt") ==
              beast::string_view::npos) {
        co_return false;
      }
      stream_.binary(true);
      stream_.set_option(
          beast::websocket::stream_base::decorator([](beast::websocket::response_type& res) {
            res.set(beast::http::field::sec_websocket_protocol, "mqtt");
          }));
      auto [aec] = co_await stream_.async_accept(req, use_tuple);
      if (aec) co_return false;
    }
    co_return true;
  }

  bool on_own_thread() {
    auto& ctx = static_cast<asio::io_context&>(
        asio::query(stream_.get_executor(), asio::execution::context));
    return ctx.get_executor().running_in_this_thread();
  }

  auto& tls_layer() {
    if constexpr (std::is_same_v<Stream, wss_stream>) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  template <class Buffer>
  auto read_some(Buffer b) {
    return stream_.async_read_some(b, use_tuple);
  }

  void enqueue(byte_buffer b) {
    if (closed_ || closing_) return;
    queued_bytes_ += b.size();
    queue_.push_back(std::move(b));
    if (queued_bytes_ > srv_.options.max_write_queue_bytes) {
      shutdown_now();  // a reader this slow would exhaust memory
      return;
    }
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(stream_.get_executor(), write_loop(this->shared_from_this()), asio::detached);
    }
  }

  asio::awaitable<void> write_loop(std::shared_ptr<connection_impl> /*keep alive*/) {
    std::vector<byte_buffer> batch;
    std::vector<asio::const_buffer> buffers;
    while (!queue_.empty() && !closed_) {
      batch.clear();
      buffers.clear();
      while (!queue_.empty() && batch.size() < 64) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
        buffers.emplace_back(batch.back().data(), batch.back().size());
      }
      std::size_t n = 0;
      boost::system::error_code ec;
      if constexpr (is_websocket<Stream>) {
        std::tie(ec, n) = co_await stream_.async_write(buffers, use_tuple);
      } else {
        std::tie(ec, n) = co_await asio::async_write(stream_, buffers, use_tuple);
      }
      for (const auto& b : batch) queued_bytes_ -= b.size();
      if (ec) {
        shutdown_now();
        break;
      }
      srv_.stats.bytes_out.fetch_add(n, std::memory_order_relaxed);
    }
    writing_ = false;
    if (closing_ && queue_.empty()) shutdown_now();
  }

  void begin_close() {
    closing_ = true;
    if (!writing_) shutdown_now();
  }

  // Closes the socket; the read loop then ends and reports on_close.
  void shutdown_now() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    auto& sock = beast::get_lowest_layer(stream_);
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
    timer_.cancel();
  }

  void finish(std::error_code why) {
    if (!opened_) return;
    opened_ = false;
    srv_.unregister_connection(id_);
    srv_.callbacks->on_close(this->shared_from_this(), why);
  }

  // Closes connections that stay silent past their deadline (handshake and
  // CONNECT before the handler sets a keep-alive, then 1.5 x keep-alive).
  asio::awaitable<void> watchdog(std::shared_ptr<connection_impl> /*keep alive*/) {
    while (!closed_) {
      timer_.expires_at(deadline_);
      (void)co_await timer_.async_wait(use_tuple);  // cancelled or expired: both re-check
      if (closed_) break;
      if (std::chrono::steady_clock::now() >= deadline_) {
        shutdown_now();
        break;
      }
    }
  }

  server::impl& srv_;
  const listener& listener_;
  std::uint64_t id_;
  Stream stream_;
  asio::steady_timer timer_;
  mqtt::decoder decoder_;
  peer_info peer_;
  std::deque<byte_buffer> queue_;
  std::size_t queued_bytes_ = 0;
  std::chrono::milliseconds idle_{0};
  std::chrono::steady_clock::time_point deadline_;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool opened_ = false;
};

}  // namespace iotblocks::net::detail
