// mqtt_client: one TCP socket (optionally under TLS), a write queue flushed with
// gather writes, the codec's decoder on the read side, and the QoS state
// machines of the client.
#include <iotblocks/mqtt/decoder.hpp>
#include <iotblocks/mqtt/encoder.hpp>
#include <iotblocks/net/mqtt_client.hpp>

#include "net/asio_util.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <variant>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace iotblocks::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
namespace ssl = asio::ssl;
using tls_stream = ssl::stream<tcp::socket&>;

// The last OpenSSL error of the calling thread (bad file, key mismatch).
std::error_code tls_setup_error() {
  const unsigned long e = ERR_get_error();
  return e != 0 ? std::error_code{static_cast<int>(e), asio::error::get_ssl_category()}
                : std::error_code{error::invalid_argument};
}

// A client context from the options; an error names nothing (OpenSSL's code says why).
std::shared_ptr<ssl::context> make_client_context(const client_tls_options& o,
                                                  std::error_code& ec) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (o.verify) {
    const int ok = o.ca_file.empty()
                       ? SSL_CTX_set_default_verify_paths(native)
                       : SSL_CTX_load_verify_locations(native, o.ca_file.c_str(), nullptr);
    if (ok != 1) return ec = tls_setup_error(), nullptr;
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  }
  if (!o.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(native, o.cert_file.c_str()) != 1)
      return ec = tls_setup_error(), nullptr;
    const auto& key = o.key_file.empty() ? o.cert_file : o.key_file;
    if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(native) != 1) {
      return ec = tls_setup_error(), nullptr;
    }
  }
  if (!o.alpn.empty()) {
    std::vector<unsigned char> wire;
    for (const auto& p : o.alpn) {
      if (p.empty() || p.size() > 255) continue;
      wire.push_back(static_cast<unsigned char>(p.size()));
      wire.insert(wire.end(), p.begin(), p.end());
    }
    SSL_CTX_set_alpn_protos(native, wire.data(), static_cast<unsigned>(wire.size()));
  }
  return ctx;
}

template <class Response>
mqtt::packet response(std::uint16_t id, mqtt::reason_code rc = mqtt::reason_code::success) {
  Response r;
  r.packet_id = id;
  r.reason = rc;
  return mqtt::packet{std::move(r)};
}
}  // namespace

struct mqtt_client::impl : std::enable_shared_from_this<impl> {
  struct outgoing {
    mqtt::publish packet;
    completion done;
    bool released = false;  // QoS 2: PUBREC received, PUBREL sent
  };

  impl(asio::any_io_executor ex, mqtt_client_options o)
      : ex_(ex),
        options_(std::move(o)),
        resolver_(ex),
        socket_(ex),
        timer_(ex),
        ping_(ex),
        rng_(std::random_device{}()) {}

  asio::any_io_executor ex_;
  mqtt_client_options options_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer timer_;  // connect timeout and reconnect delay
  asio::steady_timer ping_;
  std::shared_ptr<ssl::context> tls_context_;  // built on the first TLS connect
  std::shared_ptr<tls_stream> tls_;            // per connection; handlers keep theirs alive
  std::minstd_rand rng_;
  mqtt::decoder decoder_{mqtt::role::client};
  std::vector<std::byte> read_buffer_ = std::vector<std::byte>(64 * 1024);

  // Writes: `queue_` is filled while `writing_` flushes; swapped on completion.
  std::vector<byte_buffer> queue_, writing_;
  std::vector<completion> queue_done_, writing_done_;  // QoS 0 completions
  bool write_busy_ = false;

  std::map<std::uint16_t, outgoing> in_flight_;
  std::deque<outgoing> waiting_;
  std::map<std::uint16_t, suback_handler> subacks_;
  std::map<std::uint16_t, completion> unsubacks_;
  std::set<std::uint16_t> received_qos2_;
  std::uint16_t next_id_ = 1;
  std::uint16_t window_ = 0;
  unsigned attempt_ = 0;
  std::uint64_t generation_ = 0;  // bumps when a connection ends
  bool session_up_ = false;       // CONNACK accepted
  bool socket_open_ = false;
  bool stopping_ = false;
  bool ping_outstanding_ = false;
  completion disconnect_done_;

  connect_handler on_connect_;
  message_handler on_message_;
  acked_message_handler on_message_acked_;
  std::set<std::uint16_t> qos2_unacked_;  // manual acks: PUBREC not sent yet
  completion on_close_;
  std::atomic<mqtt::reason_code> connack_reason_{mqtt::reason_code::success};
  std::atomic<bool> connected_{false};

  mqtt::protocol_version version() const noexcept { return options_.version; }

  // ---- connection ---------------------------------------------------------
  void start() {
    stopping_ = false;
    auto gen = ++generation_;
    auto self = shared_from_this();
    timer_.expires_after(options_.connect_timeout);
    timer_.async_wait([self, gen](boost::system::error_code e) {
      if (!e && self->generation_ == gen && !self->session_up_) self->fail(error::timeout, gen);
    });
    resolver_.async_resolve(
        options_.host, std::to_string(options_.port),
        [self, gen](boost::system::error_code e, const tcp::resolver::results_type& r) {
          if (self->generation_ != gen) return;
          if (e) return self->fail(detail::to_std(e), gen);
          asio::async_connect(self->socket_, r,
                              [self, gen](boost::system::error_code e2, const tcp::endpoint&) {
                                if (self->generation_ != gen) return;
                                if (e2) return self->fail(detail::to_std(e2), gen);
                                self->on_tcp_connected(gen);
                              });
        });
  }

  void on_tcp_connected(std::uint64_t gen) {
    socket_open_ = true;
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    if (!options_.tls.enabled) return on_transport_ready(gen);
    std::error_code ec;
    if (!tls_context_) tls_context_ = make_client_context(options_.tls, ec);
    if (ec) return fail(ec, gen);
    tls_ = std::make_shared<tls_stream>(socket_, *tls_context_);
    SSL* ssl = tls_->native_handle();
    const std::string& name =
        options_.tls.server_name.empty() ? options_.host : options_.tls.server_name;
    boost::system::error_code addr_ec;
    asio::ip::make_address(name, addr_ec);
    const bool is_ip = !addr_ec;
    if (!is_ip) SSL_set_tlsext_host_name(ssl, name.c_str());
    if (options_.tls.verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
      } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        SSL_set1_host(ssl, name.c_str());
      }
    }
    auto self = shared_from_this();
    auto s = tls_;
    s->async_handshake(ssl::stream_base::client, [self, gen, s](boost::system::error_code e) {
      if (self->generation_ != gen) return;
      if (e) return self->fail(detail::to_std(e), gen);
      self->on_transport_ready(gen);
    });
  }

  void on_transport_ready(std::uint64_t gen) {
    decoder_.reset();
    decoder_.protocol(version()).max_packet_size(options_.max_packet_size);
    mqtt::connect c;
    c.version = version();
    c.clean_start = options_.clean_start;
    c.keep_alive = options_.keep_alive;
    c.client_id = options_.client_id;
    c.will = options_.will;
    if (version() == mqtt::protocol_version::v5 && options_.session_expiry != 0)
      c.properties.set_session_expiry_interval(options_.session_expiry);
    c.username = options_.username;
    if (options_.password) c.password = to_buffer(*options_.password);
    if (version() == mqtt::protocol_version::v5)
      c.properties.set_receive_maximum(options_.receive_maximum != 0 ? options_.receive_maximum
                                                                     : options_.max_in_flight);
    send_packet(mqtt::packet{std::move(c)});
    read(gen);
  }

  void read(std::uint64_t gen) {
    auto self = shared_from_this();
    auto on_read = [self, gen, keep = tls_](boost::system::error_code e, std::size_t n) {
      if (e) {
        return self->fail(e == asio::error::eof ? error::connection_closed : detail::to_std(e),
                          gen);
      }
      self->quick_ack();
      std::error_code ec;
      bytes_view in{self->read_buffer_.data(), n};
      self->decoder_.put_all(
          in, [&](const mqtt::packet_view& p) { self->handle(p); }, ec);
      if (self->generation_ != gen) return;
      if (ec) return self->fail(ec, gen);
      self->read(gen);
    };
    if (tls_) {
      tls_->async_read_some(asio::buffer(read_buffer_), std::move(on_read));
    } else {
      socket_.async_read_some(asio::buffer(read_buffer_), std::move(on_read));
    }
  }

  // Acknowledges at once what arrives next (Linux resets the flag as it goes). A
  // broker with Nagle's algorithm on (mosquitto's default) holds a small reply such as
  // a PUBACK until its earlier segments are acknowledged; with delayed ACK and nothing
  // to send while we wait for that reply, each round trip would stall for up to 40 ms.
  void quick_ack() {
#ifdef TCP_QUICKACK
    const int one = 1;
    ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#endif
  }

  // Ends the current connection (or attempt) and schedules a reconnect if asked to.
  void fail(std::error_code ec, std::uint64_t gen) {
    if (gen != generation_) return;
    ++generation_;
    const bool was_up = session_up_;
    close_socket();
    if (!was_up && on_connect_ && !stopping_) on_connect_(ec, false);
    if (was_up && on_close_ && !stopping_) on_close_(ec);
    if (stopping_) return finish_disconnect(ec);
    if (options_.reconnect) return schedule_reconnect();
    fail_pending(ec);
  }

  void close_socket() {
    session_up_ = false;
    connected_ = false;
    ping_outstanding_ = false;
    write_busy_ = false;
    boost::system::error_code ignored;
    if (socket_open_) {
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_open_ = false;
    }
    socket_.close(ignored);
    tls_.reset();  // pending handlers hold their stream until they run
    resolver_.cancel();
    timer_.cancel();
    ping_.cancel();
    queue_.clear();
    writing_.clear();
    // QoS 0 completions of unsent bytes fail now.
    auto pending = std::move(queue_done_);
    auto pending2 = std::move(writing_done_);
    queue_done_.clear();
    writing_done_.clear();
    for (auto& d : pending2)
      if (d) d(error::connection_closed);
    for (auto& d : pending)
      if (d) d(error::connection_closed);
  }

  void fail_pending(std::error_code ec) {
    auto flight = std::move(in_flight_);
    auto wait = std::move(waiting_);
    auto subs = std::move(subacks_);
    auto unsubs = std::move(unsubacks_);
    in_flight_.clear();
    waiting_.clear();
    subacks_.clear();
    unsubacks_.clear();
    for (auto& [id, o] : flight)
      if (o.done) o.done(ec);
    for (auto& o : wait)
      if (o.done) o.done(ec);
    for (auto& [id, h] : subs)
      if (h) h(ec, {});
    for (auto& [id, h] : unsubs)
      if (h) h(ec);
  }

  void schedule_reconnect() {
    // Exponential backoff with "equal jitter": half fixed, half random.
    auto base = options_.backoff_initial.count();
    auto cap = options_.backoff_max.count();
    long long delay = base;
    for (unsigned i = 0; i < attempt_ && delay < cap; ++i) delay *= 2;
    delay = std::min<long long>(delay, cap);
    std::uniform_int_distribution<long long> jitter(0, delay / 2);
    delay = delay - delay / 2 + jitter(rng_);
    ++attempt_;
    auto self = shared_from_this();
    auto gen = generation_;
    timer_.expires_after(std::chrono::milliseconds(delay));
    timer_.async_wait([self, gen](boost::system::error_code e) {
      if (!e && self->generation_ == gen && !self->stopping_) self->start();
    });
  }

  void finish_disconnect(std::error_code ec) {
    fail_pending(error::connection_closed);
    if (auto d = std::move(disconnect_done_))
      d(ec == error::connection_closed ? std::error_code{} : ec);
  }

  // ---- writes -------------------------------------------------------------
  void send_packet(const mqtt::packet& p, completion done = {}) {
    byte_buffer b;
    if (auto ec = mqtt::encode(p, version(), b)) {
      if (done) done(ec);
      return;
    }
    queue_.push_back(std::move(b));
    queue_done_.push_back(std::move(done));
    flush();
  }

  void flush() {
    if (write_busy_ || queue_.empty() || !socket_open_) return;
    write_busy_ = true;
    std::swap(queue_, writing_);
    std::swap(queue_done_, writing_done_);
    std::vector<asio::const_buffer> bufs;
    bufs.reserve(writing_.size());
    for (auto& b : writing_) bufs.emplace_back(b.data(), b.size());
    auto self = shared_from_this();
    auto gen = generation_;
    auto on_written = [self, gen, keep = tls_](boost::system::error_code e, std::size_t) {
      if (self->generation_ != gen) return;
      if (e) return self->fail(detail::to_std(e), gen);
      self->write_busy_ = false;
      self->writing_.clear();
      auto done = std::move(self->writing_done_);
      self->writing_done_.clear();
      for (auto& d : done)
        if (d) d({});
      if (self->generation_ != gen) return;
      if (self->stopping_ && self->queue_.empty()) return self->fail(error::connection_closed, gen);
      self->flush();
    };
    if (tls_) {
      asio::async_write(*tls_, bufs, std::move(on_written));
    } else {
      asio::async_write(socket_, bufs, std::move(on_written));
    }
  }

  // ---- keep-alive ---------------------------------------------------------
  void arm_ping(std::uint64_t gen) {
    if (options_.keep_alive == 0) return;
    auto self = shared_from_this();
    ping_.expires_after(std::chrono::seconds(options_.keep_alive));
    ping_.async_wait([self, gen](boost::system::error_code e) {
      if (e || self->generation_ != gen) return;
      if (self->ping_outstanding_) return self->fail(error::timeout, gen);
      self->ping_outstanding_ = true;
      self->send_packet(mqtt::packet{mqtt::pingreq{}});
      self->arm_ping(gen);
    });
  }

  // ---- publish flow -------------------------------------------------------
  std::uint16_t allocate_id() {
    for (;;) {
      auto id = next_id_++;
      if (next_id_ == 0) next_id_ = 1;
      if (!in_flight_.contains(id) && !subacks_.contains(id) && !unsubacks_.contains(id)) return id;
    }
  }

  void publish(mqtt::publish p, completion done) {
    if (stopping_) {
      if (done) done(error::connection_closed);
      return;
    }
    if (p.qos == 0 && session_up_) {
      p.packet_id = 0;
      return send_packet(mqtt::packet{std::move(p)}, std::move(done));
    }
    if (!session_up_ && !options_.reconnect && !socket_open_) {
      if (done) done(std::make_error_code(std::errc::not_connected));
      return;
    }
    if (waiting_.size() >= options_.max_queued) {
      if (done) done(error::response_too_large);
      return;
    }
    waiting_.push_back({std::move(p), std::move(done)});
    pump();
  }

  // Moves waiting publishes into the window while there is room.
  void pump() {
    if (!session_up_) return;
    while (!waiting_.empty()) {
      auto& front = waiting_.front();
      if (front.packet.qos == 0) {
        auto o = std::move(front);
        waiting_.pop_front();
        send_packet(mqtt::packet{std::move(o.packet)}, std::move(o.done));
        continue;
      }
      if (in_flight_.size() >= window_) break;
      auto o = std::move(front);
      waiting_.pop_front();
      auto id = allocate_id();
      o.packet.packet_id = id;
      o.packet.dup = false;
      auto [it, ok] = in_flight_.emplace(id, std::move(o));
      send_packet(mqtt::packet{it->second.packet});
    }
  }

  void resend_in_flight() {
    for (auto& [id, o] : in_flight_) {
      if (o.released) {
        send_packet(response<mqtt::pubrel>(id));
      } else {
        o.packet.dup = true;
        send_packet(mqtt::packet{o.packet});
      }
    }
  }

  void complete(std::uint16_t id, std::error_code ec) {
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) return;
    auto done = std::move(it->second.done);
    in_flight_.erase(it);
    if (done) done(ec);
    pump();
  }

  // ---- incoming -----------------------------------------------------------
  void handle(const mqtt::packet_view& p) {
    std::visit([this](const auto& x) { on(x); }, p);
  }

  void on(const mqtt::connack_view& c) {
    connack_reason_ = c.reason;
    auto gen = generation_;
    if (c.reason != mqtt::reason_code::success) {
      if (on_connect_) on_connect_(error::unexpected_reply, false);
      ++generation_;
      close_socket();
      if (options_.reconnect && !stopping_) return schedule_reconnect();
      return fail_pending(error::unexpected_reply);
    }
    timer_.cancel();
    session_up_ = true;
    connected_ = true;
    attempt_ = 0;
    window_ = options_.max_in_flight;
    if (auto rm = c.properties.receive_maximum()) window_ = std::min(window_, *rm);
    if (window_ == 0) window_ = 1;
    if (auto ka = c.properties.server_keep_alive()) options_.keep_alive = *ka;
    if (!c.session_present) {
      received_qos2_.clear();
      qos2_unacked_.clear();
    }
    resend_in_flight();
    arm_ping(gen);
    if (on_connect_) on_connect_({}, c.session_present);
    if (generation_ == gen) pump();
  }

  // The ack of a message received on connection `gen` (manual acks).
  ack_fn make_ack(std::uint16_t id, std::uint8_t qos, std::uint64_t gen) {
    if (qos == 0) return [] {};
    std::weak_ptr<impl> weak = shared_from_this();
    return [weak, id, qos, gen] {
      auto self = weak.lock();
      if (!self) return;
      asio::dispatch(self->ex_, [self, id, qos, gen] {
        if (!self->session_up_) return;
        if (qos == 1) {
          // A packet id is only ours to acknowledge on the connection it came on.
          if (self->generation_ == gen) self->send_packet(response<mqtt::puback>(id));
        } else if (self->qos2_unacked_.erase(id) != 0) {
          self->send_packet(response<mqtt::pubrec>(id));  // the session still holds it
        }
      });
    };
  }

  void on(const mqtt::publish_view& p) {
    if (on_message_acked_) {
      if (p.qos == 2 && !received_qos2_.insert(p.packet_id).second) {
        // A resend: acknowledge it now unless the first copy is still being processed.
        if (!qos2_unacked_.contains(p.packet_id)) send_packet(response<mqtt::pubrec>(p.packet_id));
        return;
      }
      if (p.qos == 2) qos2_unacked_.insert(p.packet_id);
      on_message_acked_(p, make_ack(p.packet_id, p.qos, generation_));
      return;
    }
    if (p.qos == 0) {
      if (on_message_) on_message_(p);
    } else if (p.qos == 1) {
      if (on_message_) on_message_(p);
      send_packet(response<mqtt::puback>(p.packet_id));
    } else {
      if (received_qos2_.insert(p.packet_id).second && on_message_) on_message_(p);
      send_packet(response<mqtt::pubrec>(p.packet_id));
    }
  }

  void on(const mqtt::puback_view& a) {
    complete(a.packet_id, a.reason < mqtt::reason_code::unspecified_error
                              ? std::error_code{}
                              : std::error_code{error::unexpected_reply});
  }

  void on(const mqtt::pubrec_view& r) {
    auto it = in_flight_.find(r.packet_id);
    if (it == in_flight_.end()) {
      send_packet(
          response<mqtt::pubrel>(r.packet_id, mqtt::reason_code::packet_identifier_not_found));
      return;
    }
    if (r.reason >= mqtt::reason_code::unspecified_error)
      return complete(r.packet_id, error::unexpected_reply);
    it->second.released = true;
    send_packet(response<mqtt::pubrel>(r.packet_id));
  }

  void on(const mqtt::pubrel_view& r) {
    received_qos2_.erase(r.packet_id);
    send_packet(response<mqtt::pubcomp>(r.packet_id));
  }

  void on(const mqtt::pubcomp_view& c) { complete(c.packet_id, {}); }

  void on(const mqtt::suback_view& s) {
    auto it = subacks_.find(s.packet_id);
    if (it == subacks_.end()) return;
    auto h = std::move(it->second);
    subacks_.erase(it);
    if (h) h({}, std::vector<mqtt::reason_code>(s.reason_codes.begin(), s.reason_codes.end()));
  }

  void on(const mqtt::unsuback_view& u) {
    auto it = unsubacks_.find(u.packet_id);
    if (it == unsubacks_.end()) return;
    auto h = std::move(it->second);
    unsubacks_.erase(it);
    if (h) h({});
  }

  void on(const mqtt::pingresp_view&) { ping_outstanding_ = false; }

  void on(const mqtt::disconnect_view&) { fail(error::connection_closed, generation_); }

  template <class Other>
  void on(const Other&) {}  // AUTH and server-only packets: the decoder rejects the latter
};

mqtt_client::mqtt_client(asio::any_io_executor ex, mqtt_client_options options)
    : impl_(std::make_shared<impl>(ex, std::move(options))) {}

mqtt_client::~mqtt_client() {
  // Pending handlers keep the impl alive; stop them from calling back.
  asio::dispatch(impl_->ex_, [i = impl_] {
    i->on_connect_ = {};
    i->on_message_ = {};
    i->on_message_acked_ = {};
    i->on_close_ = {};
    i->stopping_ = true;
    ++i->generation_;
    i->close_socket();
  });
}

void mqtt_client::on_connect(connect_handler h) {
  asio::dispatch(impl_->ex_,
                 [i = impl_, h = std::move(h)]() mutable { i->on_connect_ = std::move(h); });
}
void mqtt_client::on_message_acked(acked_message_handler h) {
  asio::dispatch(impl_->ex_,
                 [i = impl_, h = std::move(h)]() mutable { i->on_message_acked_ = std::move(h); });
}

void mqtt_client::on_message(message_handler h) {
  asio::dispatch(impl_->ex_,
                 [i = impl_, h = std::move(h)]() mutable { i->on_message_ = std::move(h); });
}
void mqtt_client::on_close(completion h) {
  asio::dispatch(impl_->ex_,
                 [i = impl_, h = std::move(h)]() mutable { i->on_close_ = std::move(h); });
}

void mqtt_client::connect() {
  asio::dispatch(impl_->ex_, [i = impl_] { i->start(); });
}

void mqtt_client::publish(std::string topic, byte_buffer payload, std::uint8_t qos, bool retain,
                          completion done) {
  mqtt::publish p;
  p.topic = std::move(topic);
  p.payload = std::move(payload);
  p.qos = qos;
  p.retain = retain;
  publish(std::move(p), std::move(done));
}

void mqtt_client::publish(mqtt::publish p, completion done) {
  asio::dispatch(impl_->ex_, [i = impl_, p = std::move(p), done = std::move(done)]() mutable {
    i->publish(std::move(p), std::move(done));
  });
}

void mqtt_client::subscribe(std::vector<mqtt::subscription> subs, suback_handler done) {
  asio::dispatch(impl_->ex_, [i = impl_, subs = std::move(subs), done = std::move(done)]() mutable {
    if (!i->session_up_) {
      if (done) done(std::make_error_code(std::errc::not_connected), {});
      return;
    }
    auto id = i->allocate_id();
    i->subacks_.emplace(id, std::move(done));
    i->send_packet(mqtt::packet{
        mqtt::subscribe{.packet_id = id, .properties = {}, .subscriptions = std::move(subs)}});
  });
}

void mqtt_client::unsubscribe(std::vector<std::string> filters, completion done) {
  asio::dispatch(
      impl_->ex_, [i = impl_, filters = std::move(filters), done = std::move(done)]() mutable {
        if (!i->session_up_) {
          if (done) done(std::make_error_code(std::errc::not_connected));
          return;
        }
        auto id = i->allocate_id();
        i->unsubacks_.emplace(id, std::move(done));
        i->send_packet(mqtt::packet{
            mqtt::unsubscribe{.packet_id = id, .properties = {}, .filters = std::move(filters)}});
      });
}

void mqtt_client::disconnect(completion done) {
  asio::dispatch(impl_->ex_, [i = impl_, done = std::move(done)]() mutable {
    i->stopping_ = true;
    i->disconnect_done_ = std::move(done);
    if (!i->session_up_) return i->fail(error::connection_closed, i->generation_);
    i->send_packet(mqtt::packet{mqtt::disconnect{}});
  });
}

mqtt::reason_code mqtt_client::connack_reason() const noexcept { return impl_->connack_reason_; }
bool mqtt_client::connected() const noexcept { return impl_->connected_; }

}  // namespace iotblocks::net
