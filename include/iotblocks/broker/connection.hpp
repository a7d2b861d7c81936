// What the broker knows of a client connection: a place to write packets. A
// transport (net's TCP/TLS/WebSocket binding, an in-memory pipe in a test, a
// serial link on a device) implements it and hands the packets it decodes to
// broker::on_packet.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/peer.hpp>
#include <iotblocks/mqtt/packet.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::broker {

/// Bytes shared by several writes (one PUBLISH payload sent to every
/// subscriber); the connection keeps them alive until written.
using shared_bytes = std::shared_ptr<const byte_buffer>;

/// The peer as the transport saw it, for the authentication and authorization hooks.
using peer_info = iotblocks::peer_info;

/// One client connection. The broker calls it from the threads that call the
/// broker (and from the store's thread after a commit): an implementation used
/// by a multi-threaded embedder must be safe to call from any thread.
class connection {
 public:
  virtual ~connection() = default;
  /// Unique among the connections open at one time.
  virtual std::uint64_t id() const noexcept = 0;
  virtual const peer_info& peer() const noexcept = 0;
  /// Queues `head` (copied) followed by `body` (referenced, not copied; null: none).
  virtual void send(bytes_view head, shared_bytes body) = 0;
  /// Sends what is queued, then closes; the transport then calls broker::on_close.
  virtual void close() = 0;
  /// The protocol version of the accepted CONNECT, for the transport's decoder.
  virtual void set_protocol(mqtt::protocol_version) {}
  /// Close when nothing is read for `timeout` (0 disables): 1.5 x keep-alive.
  virtual void set_idle_timeout(std::chrono::milliseconds) {}
  /// Runs `fn` where this connection's calls into the broker run (its thread), after
  /// what is already queued there; used to finish a deferred CONNECT. Default: at once.
  virtual void post(std::function<void()> fn) { fn(); }

  /// The broker's per-connection state (its session); the transport leaves it alone.
  std::shared_ptr<void> user;
};
using connection_ptr = std::shared_ptr<connection>;

}  // namespace iotblocks::broker

IOTBLOCKS_API_END
