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

#include <mutex>
#include <optional>
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

/// Sends up to this size are copied into the connection's batch (one contiguous
/// write); larger shared bodies are referenced until written.
constexpr std::size_t copy_limit = 1024;

/// Bytes waiting for one gather write: copies in one contiguous buffer, and the
/// shared bodies they reference, in order. Distinct objects: safe. Shared: unsafe.
class write_batch {
 public:
  void copy(bytes_view b) {
    if (b.empty()) return;
    if (pieces_.empty() || pieces_.back().shared) pieces_.push_back({small_.size(), 0, nullptr});
    pieces_.back().size += b.size();
    small_.insert(small_.end(), b.begin(), b.end());
    bytes_ += b.size();
  }
  void share(shared_bytes b) {
    if (!b || b->empty()) return;
    bytes_ += b->size();
    pieces_.push_back({0, b->size(), std::move(b)});
  }
  bool empty() const noexcept { return pieces_.empty(); }
  std::size_t bytes() const noexcept { return bytes_; }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& p : pieces_) {
      f(p.shared ? bytes_view{p.shared->data(), p.size}
                 : bytes_view{small_.data() + p.offset, p.size});
    }
  }
  /// Empties the batch; capacity a burst left behind is given back.
  void clear() noexcept {
    small_.clear();
    pieces_.clear();
    bytes_ = 0;
    if (small_.capacity() > keep_bytes) byte_buffer{}.swap(small_);
    if (pieces_.capacity() > keep_pieces) std::vector<piece>{}.swap(pieces_);
  }
  /// Empties the batch and frees all its memory (an idle connection holds none).
  void release() noexcept {
    byte_buffer{}.swap(small_);
    std::vector<piece>{}.swap(pieces_);
    bytes_ = 0;
  }
  void swap(write_batch& o) noexcept {
    small_.swap(o.small_);
    pieces_.swap(o.pieces_);
    std::swap(bytes_, o.bytes_);
  }

 private:
  struct piece {
    std::size_t offset = 0;  ///< in small_, when not shared
    std::size_t size = 0;
    shared_bytes shared;
  };
  static constexpr std::size_t keep_bytes = 4096;
  static constexpr std::size_t keep_pieces = 16;
  byte_buffer small_;
  std::vector<piece> pieces_;
  std::size_t bytes_ = 0;
};

template <class Stream>
class connection_impl final : public connection,
                              public tls_peer_sink,
                              public buffer_holder,
                              private deadline_heap::entry,
                              public std::enable_shared_from_this<connection_impl<Stream>> {
 public:
  template <class... Args>
  connection_impl(server::impl& srv, thread_deadlines& deadlines, const listener& l,
                  std::uint64_t id, tcp::socket socket, Args&&... args)
      : srv_(srv),
        deadlines_(deadlines),
        listener_(l),
        id_(id),
        stream_(std::move(socket), std::forward<Args>(args)...) {
    boost::system::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).remote_endpoint(ec);
    if (!ec) {
      peer_.address = ep.address().to_string();
      peer_.port = ep.port();
    }
    peer_.kind = l.options.kind;
    peer_.transport = name(l.options.kind);
  }

  std::uint64_t id() const noexcept override { return id_; }
  const peer_info& peer() const noexcept override { return peer_; }

  // Writes from any thread go into one batch under a small lock; the connection's
  // thread writes the batch with one gather write (writes queued meanwhile form
  // the next). Queued before close() on the connection's thread: written first.
  void send(byte_buffer bytes) override {
    if (bytes.size() > copy_limit) {
      return queue({}, std::make_shared<const byte_buffer>(std::move(bytes)));
    }
    queue(bytes, nullptr);
  }
  void send(bytes_view head, shared_bytes body) override { queue(head, std::move(body)); }
  void close() override {
    if (on_own_thread()) return begin_close();
    post([self = this->shared_from_this()] { self->begin_close(); });
  }
  void set_protocol(mqtt::protocol_version v) override {
    post([self = this->shared_from_this(), v] {
      if (self->decoder_) {
        self->decoder_->protocol(v);
      } else {
        self->between_packets_.version = v;
        self->between_packets_.version_preset = true;
      }
    });
  }
  std::optional<mqtt::protocol_version> protocol() const noexcept override {
    return decoder_ ? decoder_->protocol() : between_packets_.version;
  }
  void set_idle_timeout(std::chrono::milliseconds t) override {
    post([self = this->shared_from_this(), t] {
      if (self->closing_ || self->closed_) return;  // a closing one keeps its close deadline
      self->idle_ = t;
      if (t.count() > 0) {
        self->deadlines_.arm(*self, std::chrono::steady_clock::now() + t);
      } else {
        self->deadlines_.cancel(*self);
      }
    });
  }
  void post(std::function<void()> fn) override {
    asio::post(stream_.get_executor(), std::move(fn));
  }

  // Starts the handshakes and the read loop on the connection's thread.
  void start() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      // Plain TCP has no handshake: completion handlers instead of a coroutine,
      // so an idle connection holds one pending wait (a shared_ptr), not
      // coroutine frames (about 1.5 KB with GCC 12).
      asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->open_plain(); });
    } else {
      // The coroutine starts lazily: it takes a reference as a parameter, which its
      // frame holds from creation on, so the connection outlives it.
      asio::co_spawn(stream_.get_executor(), run(this->shared_from_this()), asio::detached);
    }
  }

  bool check_tls_peer(peer_info& from_tls) override {
    peer_.chain = std::move(from_tls.chain);
    tls_decided_ = !srv_.callbacks->on_tls_peer(peer_);  // refused: the handler knows why
    return !tls_decided_;
  }
  void tls_chain_refused(peer_info& from_tls, const tls_refusal& why) override {
    peer_.chain = std::move(from_tls.chain);
    tls_decided_ = true;
    srv_.callbacks->on_tls_refused(peer_, why);
  }

 private:
  asio::awaitable<void> run(std::shared_ptr<connection_impl> self) {
    // Handshakes and CONNECT must finish in time; the handler then sets the keep-alive.
    deadlines_.arm(*this, std::chrono::steady_clock::now() + srv_.options.connect_timeout);
    if (!co_await handshake()) {
      srv_.stats.handshake_failures.fetch_add(1, std::memory_order_relaxed);
      shutdown_now();
      co_return;
    }
    opened_ = true;
    srv_.register_connection(self);
    srv_.callbacks->on_open(self);
    // (Named, not an argument of the call: GCC 12 miscompiles a co_await there.)
    const auto why = co_await read_loop();
    end_reading(why);
  }

  // The read side ended (peer closed, error, protocol error, our close).
  void end_reading(std::error_code why) {
    reading_ = false;
    // The peer ended first: a close still writing finishes its write (no linger then).
    if (!closing_ || lingering_) shutdown_now();
    finish(why);
  }

  // Plain TCP, on the connection's thread: what run() does for the other transports.
  void open_plain() {
    deadlines_.arm(*this, std::chrono::steady_clock::now() + srv_.options.connect_timeout);
    opened_ = true;
    auto self = this->shared_from_this();
    srv_.register_connection(self);
    srv_.callbacks->on_open(self);
    boost::system::error_code ec;
    stream_.non_blocking(true, ec);
    if (ec) return end_reading(ec);
    read_plain();
  }

  // Non-blocking reads into the thread's buffer until the socket is drained;
  // an idle connection only waits for readability and holds no buffer of its own.
  void read_plain() {
    auto& buffer = thread_buffer(srv_.options.read_buffer_size);
    boost::system::error_code ec;
    while (!closed_) {
      const std::size_t n = stream_.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) return wait_plain();
      if (ec) return end_reading(ec);
      if (!consume(bytes_view{buffer.data(), n})) break;
      if (n == buffer.size()) {  // more may be waiting: let the thread's other work run first
        return asio::post(stream_.get_executor(),
                          [self = this->shared_from_this()] { self->read_plain(); });
      }
      // A short read drained the socket: wait for the next bytes. (Same thread as
      // the reactor, so bytes arriving since the read still signal the wait.)
      return wait_plain();
    }
    end_reading({});
  }

  void wait_plain() {
    stream_.async_wait(tcp::socket::wait_read,
                       [self = this->shared_from_this()](const boost::system::error_code& ec) {
                         if (ec) return self->end_reading(ec);
                         self->read_plain();
                       });
  }

  // Reads and dispatches until the peer closes, an error, or a protocol error
  // (TLS and WebSocket; plain TCP uses read_plain()).
  asio::awaitable<std::error_code> read_loop() {
    // TLS and WebSocket streams keep their own buffers anyway: one per
    // connection, small at first, grown while reads fill it, shrunk back.
    const std::size_t small = std::min<std::size_t>(2048, srv_.options.read_buffer_size);
    std::vector<std::byte> buffer(small);
    while (!closed_) {
      auto [ec, n] =
          co_await stream_.async_read_some(asio::buffer(buffer.data(), buffer.size()), use_tuple);
      if (ec) co_return ec;
      if (!consume(bytes_view{buffer.data(), n})) break;
      if (n == buffer.size() && buffer.size() < srv_.options.read_buffer_size) {
        buffer.resize(std::min(buffer.size() * 2, srv_.options.read_buffer_size));
      } else if (n < small / 2 && buffer.size() > small) {
        std::vector<std::byte>(small).swap(buffer);
      }
    }
    co_return std::error_code{};
  }

  static std::vector<std::byte>& thread_buffer(std::size_t size) {
    static thread_local std::vector<std::byte> buffer;
    if (const auto want = std::max<std::size_t>(size, 512); buffer.size() != want) {
      buffer.resize(want);
    }
    return buffer;
  }

  // Bytes read: feeds them; false once the socket is closed. After a close
  // began, input is read and discarded (see linger()), up to close_linger_bytes.
  bool consume(bytes_view in) {
    srv_.stats.bytes_in.fetch_add(in.size(), std::memory_order_relaxed);
    if (closing_) {
      discarded_ += in.size();
      if (discarded_ > srv_.options.close_linger_bytes) shutdown_now();
      return !closed_;
    }
    if (idle_.count() > 0) deadlines_.arm(*this, std::chrono::steady_clock::now() + idle_);
    if (!feed(in)) {
      begin_close();  // after a protocol error: flush the DISCONNECT, then close
      return !closed_;
    }
    // Between packets: the decoder (and any reassembly buffer) goes back.
    if (!decoder_->in_packet()) {
      between_packets_ = decoder_->between_packets();
      decoder_.reset();
    }
    return true;
  }

  // Decodes and dispatches; false after a protocol error. Stops once the
  // handler closed the connection: what follows is not processed.
  bool feed(bytes_view in) {
    auto self = this->shared_from_this();
    auto& decoder = decoding();
    while (!in.empty() && !closing_ && !closed_) {
      std::error_code ec;
      in = in.subspan(decoder.put(in, ec));
      if (decoder.has_packet()) {
        srv_.callbacks->on_packet(self, decoder.get());
      } else if (ec && ec != mqtt::error::need_more) {
        srv_.callbacks->on_protocol_error(self, decoder.reason(), decoder.last_failure());
        return false;
      }
    }
    return true;
  }

  // The decoder, made when bytes arrive: between packets a connection keeps
  // only the stream's state (an idle one holds no decoder, about 300 bytes).
  mqtt::decoder& decoding() {
    if (!decoder_) {
      decoder_ = std::make_unique<mqtt::decoder>(mqtt::role::server);
      apply_limits(*decoder_, srv_.options.decoder);
      decoder_->resume(between_packets_);
    }
    return *decoder_;
  }

  asio::awaitable<bool> handshake() {
    if constexpr (has_tls<Stream>) {
      auto& tls = tls_layer();
      SSL_set_ex_data(tls.native_handle(), ssl_connection_index(),
                      static_cast<tls_peer_sink*>(this));
      auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server, use_tuple);
      SSL_set_ex_data(tls.native_handle(), ssl_connection_index(), nullptr);
      if (ec) {
        // Refused inside TLS (no certificate where one is required, an alert): the
        // handler hears of it; a peer that just closed or timed out is no refusal.
        if (!tls_decided_ && ec.category() == asio::error::get_ssl_category()) {
          srv_.callbacks->on_tls_refused(peer_, {0, ec.message()});
        }
        co_return false;
      }
      const unsigned char* alpn = nullptr;
      unsigned len = 0;
      SSL_get0_alpn_selected(tls.native_handle(), &alpn, &len);
      if (alpn != nullptr) peer_.alpn.assign(reinterpret_cast<const char*>(alpn), len);
      if (const char* sni = SSL_get_servername(tls.native_handle(), TLSEXT_NAMETYPE_host_name)) {
        peer_.server_name = sni;
      }
    }
    if constexpr (is_websocket<Stream>) {
      beast::flat_buffer buf;
      beast::http::request<beast::http::string_body> req;
      auto [ec, n] = co_await beast::http::async_read(stream_.next_layer(), buf, req, use_tuple);
      if (ec) co_return false;
      const std::string_view target = req.target();
      const auto path = target.substr(0, target.find('?'));  // any query string (AWS SigV4 URLs)
      const auto subprotocol = mqtt_subprotocol(req[beast::http::field::sec_websocket_protocol]);
      // (Named, not a temporary in the co_await: GCC 12 frees such temporaries twice.)
      upgrade_verdict refusal;
      if (!beast::websocket::is_upgrade(req)) {
        refusal = {426, "expected a WebSocket upgrade\n"};
      } else if (path != listener_.options.ws_path) {
        refusal = {404, "no MQTT endpoint at this path\n"};
      } else if (subprotocol.empty()) {
        refusal = {400, "Sec-WebSocket-Protocol must offer mqtt or mqttv3.1\n"};
      } else {
        peer_.ws_target = std::string(target);
        for (const auto& h : req) {
          peer_.ws_headers.emplace_back(std::string(h.name_string()), std::string(h.value()));
        }
        refusal = co_await upgrade_check();
      }
      if (refusal.status != 0) {
        co_await refuse_upgrade(req, refusal);
        co_return false;
      }
      stream_.binary(true);
      stream_.set_option(beast::websocket::stream_base::decorator(
          [subprotocol](beast::websocket::response_type& res) {
            res.set(beast::http::field::sec_websocket_protocol, subprotocol);
          }));
      auto [aec] = co_await stream_.async_accept(req, use_tuple);
      if (aec) co_return false;
    }
    co_return true;
  }

  // The handler's verdict on the upgrade request (on_ws_upgrade_async), awaited
  // on this connection's thread.
  asio::awaitable<upgrade_verdict> upgrade_check() {
    struct waiter {
      explicit waiter(const asio::any_io_executor& ex)
          : timer(ex, asio::steady_timer::time_point::max()) {}
      asio::steady_timer timer;
      std::mutex mutex;
      std::optional<upgrade_verdict> verdict;
    };
    auto w = std::make_shared<waiter>(stream_.get_executor());
    srv_.callbacks->on_ws_upgrade_async(peer_, [w](upgrade_verdict v) {
      {
        std::lock_guard lock(w->mutex);
        if (w->verdict) return;
        w->verdict = std::move(v);
      }
      asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    });
    bool answered = false;
    {
      std::lock_guard lock(w->mutex);
      answered = w->verdict.has_value();
    }
    if (!answered) {
      auto [ec] = co_await w->timer.async_wait(use_tuple);  // cancelled by the answer
      (void)ec;
    }
    upgrade_verdict out{503, "the upgrade check did not answer\n"};
    {
      std::lock_guard lock(w->mutex);
      if (w->verdict) out = std::move(*w->verdict);
    }
    co_return out;
  }

  // The first MQTT subprotocol the client offers: "mqtt" (MQTT 3.1.1 and 5), or
  // "mqttv3.1" (what AWS IoT Device SDK v1 asks for, answered as asked); empty: none.
  static std::string mqtt_subprotocol(std::string_view offered) {
    while (!offered.empty()) {
      const auto comma = offered.find(',');
      auto token = offered.substr(0, comma);
      offered = comma == std::string_view::npos ? std::string_view{} : offered.substr(comma + 1);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
        token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
      if (token == "mqtt" || token == "mqttv3.1") return std::string(token);
    }
    return {};
  }

  // Answers an upgrade request with an HTTP error and ends the handshake (false).
  template <class Request>
  asio::awaitable<void> refuse_upgrade(const Request& req, const upgrade_verdict& verdict) {
    beast::http::response<beast::http::string_body> res{
        static_cast<beast::http::status>(verdict.status), req.version()};
    res.set(beast::http::field::content_type, "text/plain");
    res.set(beast::http::field::connection, "close");
    res.body() = verdict.body;
    res.prepare_payload();
    (void)co_await beast::http::async_write(stream_.next_layer(), res, use_tuple);
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

  void queue(bytes_view head, shared_bytes body) {
    bool start = false;
    bool overflow = false;
    {
      std::lock_guard lock(write_mutex_);
      if (write_closed_) return;
      if (!out_) out_ = std::make_unique<write_buffers>();
      auto& pending = out_->pending;
      pending.copy(head);
      if (body && body->size() <= copy_limit) {
        pending.copy(*body);
      } else if (body) {
        pending.share(std::move(body));
      }
      if (pending.bytes() + writing_bytes_ > srv_.options.max_write_queue_bytes) {
        overflow = true;  // a reader this slow would exhaust memory
        write_closed_ = true;
      } else if (!write_active_) {
        write_active_ = true;
        start = true;
      }
    }
    if (overflow) {
      asio::post(stream_.get_executor(),
                 [self = this->shared_from_this()] { self->shutdown_now(); });
    } else if (start) {
      // Posted, also from this thread: what the current callback still sends joins the batch.
      asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->flush(); });
    }
  }

  // On the connection's thread: writes the pending batch, or ends the write phase.
  void flush() {
    write_buffers* out = nullptr;
    bool holding = false;
    {
      std::lock_guard lock(write_mutex_);
      if (!out_ || out_->pending.empty() || closed_) {
        write_active_ = false;
        writing_bytes_ = 0;
        // The write phase is over. After a quiet spell the buffers go back, so an idle
        // connection holds none; one writing steadily keeps them rather than allocating
        // them again for its next phase. One that goes quiet holding them has them
        // taken back by its thread's sweep (release_buffers_if_quiet).
        const auto now = std::chrono::steady_clock::now();
        if (now - last_phase_end_ > keep_buffers_between_phases) out_.reset();
        last_phase_end_ = now;
        holding = out_ != nullptr;
      } else {
        out = out_.get();  // stays while write_active_: only this thread frees it
        out->writing.swap(out->pending);
        writing_bytes_ = out->writing.bytes();
      }
    }
    if (out == nullptr) {
      if (holding && !holding_listed_) {
        holding_listed_ = true;
        deadlines_.holds_buffers(this->weak_from_this());
      }
      if (closing_) linger();
      return;
    }
    out->iov.clear();
    out->writing.for_each([out](bytes_view b) { out->iov.emplace_back(b.data(), b.size()); });
    auto done = [self = this->shared_from_this()](boost::system::error_code ec, std::size_t n) {
      self->written(ec, n);
    };
    if constexpr (is_websocket<Stream>) {
      stream_.async_write(out->iov, std::move(done));
    } else {
      asio::async_write(stream_, out->iov, std::move(done));
    }
  }

  bool release_buffers_if_quiet(std::chrono::steady_clock::time_point now) override {
    std::lock_guard lock(write_mutex_);
    if (write_active_ || now - last_phase_end_ < keep_buffers_between_phases) return false;
    out_.reset();
    holding_listed_ = false;
    return true;
  }

  void written(boost::system::error_code ec, std::size_t n) {
    out_->writing.clear();  // out_ stays while write_active_
    if (ec) {
      {
        std::lock_guard lock(write_mutex_);
        write_active_ = false;
        writing_bytes_ = 0;
      }
      shutdown_now();
      return;
    }
    srv_.stats.bytes_out.fetch_add(n, std::memory_order_relaxed);
    flush();
  }

  void begin_close() {
    if (!closing_ && !closed_) {
      closing_ = true;
      idle_ = std::chrono::milliseconds(0);
      if (const auto linger = srv_.options.close_linger; linger.count() > 0) {
        // The whole close (last writes, then the linger) is bounded.
        deadlines_.arm(*this, std::min(due(), std::chrono::steady_clock::now() + linger));
      }
    }
    bool active = false;
    {
      std::lock_guard lock(write_mutex_);
      write_closed_ = true;  // later sends are dropped; queued ones are still written
      active = write_active_;
    }
    if (!active) shutdown_now();
  }

  // The last bytes of a close are written: shut down our side (the peer reads
  // them, then end of stream) and read and discard what the peer still sends
  // until it closes, within close_linger (time, from the close) and
  // close_linger_bytes. Closing with unread input would send a reset, which
  // makes a peer that is still sending lose the packet it was about to read.
  void linger() {
    if (closed_) return;
    if (!reading_ || srv_.options.close_linger.count() <= 0) return shutdown_now();
    lingering_ = true;
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream_).shutdown(tcp::socket::shutdown_send, ignored);
    finish({});  // for the handler the connection is gone now, as without a linger
  }

  // Closes the socket; the read loop then ends and reports on_close.
  void shutdown_now() {
    if (closed_) return;
    closed_ = true;
    srv_.admitted.fetch_sub(1, std::memory_order_relaxed);  // its max_connections slot
    boost::system::error_code ignored;
    auto& sock = beast::get_lowest_layer(stream_);
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
    deadlines_.cancel(*this);
    std::lock_guard lock(write_mutex_);
    write_closed_ = true;
    if (out_) out_->pending.clear();  // (a write in progress still uses out_->writing)
  }

  void finish(std::error_code why) {
    if (!opened_) return;
    opened_ = false;
    srv_.unregister_connection(id_);
    srv_.callbacks->on_close(this->shared_from_this(), why);
  }

  // Silent past the deadline (handshake and CONNECT before the handler sets a
  // keep-alive, then 1.5 x keep-alive, or the end of a close's linger).
  void expired() override { shutdown_now(); }

  server::impl& srv_;
  thread_deadlines& deadlines_;
  const listener& listener_;
  std::uint64_t id_;
  Stream stream_;
  std::unique_ptr<mqtt::decoder> decoder_;       // while a packet is being read
  mqtt::decoder::stream_state between_packets_;  // while decoder_ is null
  peer_info peer_;
  // What a connection holds while it writes; freed when its writing is quiet.
  struct write_buffers {
    write_batch pending;  // queued, not being written yet
    write_batch writing;  // being written (connection's thread only)
    std::vector<asio::const_buffer> iov;
  };
  // Guards out_ (made by queue() from any thread, freed on this thread only while
  // no write is active), out_->pending, writing_bytes_, write_active_, write_closed_.
  std::mutex write_mutex_;
  std::unique_ptr<write_buffers> out_;
  std::size_t writing_bytes_ = 0;
  static constexpr std::chrono::seconds keep_buffers_between_phases{1};
  std::chrono::steady_clock::time_point last_phase_end_{};  // guarded by write_mutex_
  bool write_active_ = false;    // a flush is posted or a write is in progress
  bool holding_listed_ = false;  // in the thread's sweep (connection's thread only)
  bool write_closed_ = false;
  std::chrono::milliseconds idle_{0};
  bool closing_ = false;    // close begun: last writes, then linger
  bool lingering_ = false;  // our side shut down, discarding input
  bool reading_ = true;     // the read loop runs
  std::size_t discarded_ = 0;
  bool closed_ = false;
  bool opened_ = false;
  bool tls_decided_ = false;  // the handshake's refusal was already reported
};

}  // namespace iotblocks::net::detail
