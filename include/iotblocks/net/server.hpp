// MQTT server transports: TCP, TLS (mutual TLS, ALPN "mqtt" and
// "x-amzn-mqtt-ca"), WebSocket and secure WebSocket (subprotocol "mqtt" or
// "mqttv3.1", echoed as asked; any query string on the path), over
// Asio with one io_context per thread. The transport frames bytes into MQTT
// packets with mqtt::decoder and hands each packet to a `handler`; what to do
// with it (the broker) lives elsewhere. Asio stays out of this header.
//
//   struct echo : net::handler {
//     void on_packet(const net::connection_ptr& c, const mqtt::packet_view& p) override { ... }
//   };
//   net::server s{{.threads = 2}};
//   auto port = s.listen({.kind = net::transport::tcp, .port = 0}).value();
//   echo h;
//   s.start(h);     // returns at once; s.stop() joins the threads
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/peer.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/mqtt/decoder.hpp>
#include <iotblocks/mqtt/error.hpp>
#include <iotblocks/mqtt/packet.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::net {

enum class transport : std::uint8_t { tcp, tls, ws, wss };
std::string_view name(transport t) noexcept;

/// TLS settings of a listener. Files are PEM.
struct tls_options {
  std::string cert_file;             ///< server certificate chain
  std::string key_file;              ///< server private key
  std::string ca_file;               ///< CAs for client certificates (optional)
  bool request_client_cert = false;  ///< ask for a client certificate
  bool require_client_cert = false;  ///< fail the handshake without one
  /// ALPN protocols accepted, in preference order (empty: no ALPN check).
  std::vector<std::string> alpn = {"mqtt", "x-amzn-mqtt-ca"};
};

struct listener_options {
  transport kind = transport::tcp;
  std::string address = "127.0.0.1";
  std::uint16_t port = 1883;  ///< 0 picks a free port
  tls_options tls;            ///< for tls and wss
  std::string ws_path = "/mqtt";
};

/// Limits that protect the server from hostile or slow clients.
struct server_options {
  std::size_t threads = 0;                           ///< io_context threads; 0 = hardware cores
  std::size_t max_connections = 100000;              ///< further accepts are closed at once
  double max_accepts_per_second = 0;                 ///< 0 = unlimited (token bucket, burst = 1 s)
  std::chrono::milliseconds connect_timeout{10000};  ///< TLS/WS handshake + CONNECT must finish
  std::size_t max_write_queue_bytes = 16u << 20;     ///< a slower reader is disconnected
  /// A close with bytes still to write (a refusing CONNACK, a DISCONNECT) writes
  /// them, shuts down the server's side, then reads and discards what the client
  /// still sends until it closes: a socket closed with unread input sends a reset,
  /// which can make a client that is still sending lose the packet before it reads
  /// it. Bounded: at most `close_linger` from the close (0: close at once) and
  /// `close_linger_bytes` read meanwhile; then the socket is closed.
  std::chrono::milliseconds close_linger{2000};
  std::size_t close_linger_bytes = 1u << 20;
  /// Bytes read per read call. TCP connections read into one buffer per thread
  /// (an idle connection holds none); TLS and WebSocket connections own one that
  /// starts at 2 KiB, doubles up to this size while reads fill it, and shrinks back.
  std::size_t read_buffer_size = 16 * 1024;
  mqtt::decoder_limits decoder;  ///< applied to every connection
};

/// Bytes shared by several writes (e.g. one PUBLISH payload sent to every
/// subscriber); kept alive until written.
using shared_bytes = std::shared_ptr<const byte_buffer>;

/// What the transport knows about the peer. Filled before on_open. A handler
/// can hand it on as the iotblocks::peer_info it is (net_broker does: no copy).
struct peer_info : iotblocks::peer_info {
  net::transport kind =
      net::transport::tcp;  ///< also named in `transport` ("tcp", "tls", "ws", "wss")
};

/// The handler's answer to a WebSocket upgrade request: `status` 0 accepts; any
/// other HTTP status refuses the upgrade with that status and `body` (text/plain).
struct upgrade_verdict {
  unsigned status = 0;
  std::string body;
};

/// Why a TLS handshake failed inside TLS (handler::on_tls_refused).
struct tls_refusal {
  /// OpenSSL's X509_V_ERR_* code when the client's chain failed verification
  /// against the listener's ca_file; 0 for other TLS failures.
  int verify_error = 0;
  /// X509_verify_cert_error_string() of that code, or the TLS error (e.g. "peer
  /// did not return a certificate").
  std::string reason;
};

/// One client connection. Shared by the transport and the handler; every
/// member is safe to call from any thread (work is posted to the connection's
/// own thread). Distinct objects: safe. Shared objects: safe.
class connection {
 public:
  virtual ~connection() = default;
  virtual std::uint64_t id() const noexcept = 0;
  virtual const peer_info& peer() const noexcept = 0;

  /// Queues bytes to write. Past max_write_queue_bytes the connection is closed.
  virtual void send(byte_buffer bytes) = 0;
  /// Queues `head` (copied) followed by `body` (referenced, not copied; null: none).
  /// Writes queued during one callback go out in one gather write.
  virtual void send(bytes_view head, shared_bytes body) {
    byte_buffer b(head.begin(), head.end());
    if (body) b.insert(b.end(), body->begin(), body->end());
    send(std::move(b));
  }
  /// Sends what is queued, then closes.
  virtual void close() = 0;
  /// The decoder's protocol version, once the handler knows it (from CONNECT).
  virtual void set_protocol(mqtt::protocol_version v) = 0;
  /// The version the decoder knows: from the CONNECT, also from one it refused
  /// past its protocol level (mqtt::decoder::protocol()). Only on the
  /// connection's thread (e.g. in on_protocol_error).
  virtual std::optional<mqtt::protocol_version> protocol() const noexcept = 0;
  /// Closes the connection when nothing is read for `timeout` (0 disables);
  /// the handler sets 1.5 x keep-alive after CONNECT.
  virtual void set_idle_timeout(std::chrono::milliseconds timeout) = 0;
  /// Runs `fn` on this connection's thread.
  virtual void post(std::function<void()> fn) = 0;

  /// Slot for the handler's per-connection state (e.g. a broker session).
  std::shared_ptr<void> user;
};
using connection_ptr = std::shared_ptr<connection>;

/// Callbacks of the server. For one connection they run on its thread, in order.
class handler {
 public:
  virtual ~handler() = default;
  /// The handshakes are done (TLS, WebSocket); nothing was read yet.
  virtual void on_open(const connection_ptr&) {}
  /// A packet arrived. Its views are valid during the call only.
  virtual void on_packet(const connection_ptr& c, const mqtt::packet_view& p) = 0;
  /// The peer sent a malformed packet; the default closes the connection. A
  /// handler for MQTT 5 sends DISCONNECT with `reason` first.
  virtual void on_protocol_error(const connection_ptr& c, mqtt::reason_code reason,
                                 const failure& why);
  /// The connection is gone (peer closed, error, timeout or close()).
  virtual void on_close(const connection_ptr&, std::error_code) {}
  /// TLS only, during the handshake, with the peer's chain (DER, leaf first):
  /// returning false fails the handshake. The default accepts.
  virtual bool on_tls_peer(const peer_info&) { return true; }
  /// TLS only: the handshake failed inside TLS (the chain did not verify against
  /// ca_file, no certificate where one is required, a TLS alert or protocol error);
  /// `peer.chain` holds what the client presented. Not called when on_tls_peer said
  /// no (it knows why), nor for a peer that closed or timed out. The default ignores it.
  virtual void on_tls_refused(const peer_info& /*peer*/, const tls_refusal& /*why*/) {}
  /// WebSocket only, before the upgrade (ws_target and ws_headers set): accept, or
  /// refuse with an HTTP status. May set `peer.identity`. The default accepts.
  virtual upgrade_verdict on_ws_upgrade(peer_info& /*peer*/) { return {}; }
  /// The upgrade check for handlers that need I/O to decide (e.g. a function called
  /// over HTTP): call `done` once, from any thread; the handshake waits for it (the
  /// connect timeout still closes the socket). `peer` is read here, not later. The
  /// default answers on_ws_upgrade(peer) at once.
  virtual void on_ws_upgrade_async(peer_info& peer, std::function<void(upgrade_verdict)> done) {
    done(on_ws_upgrade(peer));
  }
};

/// Counters, readable at any time.
struct server_stats {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;  ///< over max_connections or the accept rate
  std::uint64_t open = 0;
  std::uint64_t handshake_failures = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

/// Listeners and io_context threads. Distinct objects: safe. Shared objects: unsafe,
/// except stats() and post().
class server {
 public:
  explicit server(server_options options = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Opens a listener; returns the bound port. Call before start().
  result<std::uint16_t> listen(const listener_options& options);
  /// Starts the threads; callbacks go to `h`, which must outlive stop().
  void start(handler& h);
  /// Closes listeners and connections and joins the threads.
  void stop();

  /// Runs `fn` every `period` on one of the server's threads until stop().
  void every(std::chrono::milliseconds period, std::function<void()> fn);
  server_stats stats() const noexcept;
  const server_options& options() const noexcept;

  struct impl;  ///< implementation detail

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::net

IOTBLOCKS_API_END
