// A TCP command client: connect, send a few bytes, read the reply within a
// deadline. Built for devices that are not on MQTT but listen on a socket, like
// an Ethernet-to-infrared blaster that takes `sendir,1:1,15,37993,...\r` and
// answers `completeir,1:1,15\r`.
//
//   net::tcp_client client;
//   net::tcp_exchange_options o;
//   o.expect = "completeir";
//   std::error_code ec;
//   std::string reply = client.exchange("192.0.2.7", 4998, "sendir,1:1,15,37993,1,1,246\r", o, ec);
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/net/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::net {

/// How one exchange reads its reply.
struct tcp_exchange_options {
  std::chrono::milliseconds connect_timeout{5000};  ///< resolve + connect
  std::chrono::milliseconds reply_timeout{5000};    ///< write + read the reply
  /// The reply must contain this text; reading stops as soon as it does. When
  /// empty, the reply ends at the first CR or LF, or when the peer closes.
  std::string expect;
  /// false: send and close without reading (fire and forget).
  bool read_reply = true;
  std::size_t max_reply = 64 * 1024;  ///< error::response_too_large beyond this
};

/// One connection per exchange. Distinct objects: safe. Shared objects: safe.
class tcp_client {
 public:
  /// Sends `payload` to host:port and returns the reply read so far.
  /// Errors: error::timeout (no complete reply in time), error::unexpected_reply
  /// (reply without `expect`), error::connection_closed (closed before any reply),
  /// error::response_too_large, and the socket errors (refused, unreachable).
  std::string exchange(std::string_view host, std::uint16_t port, std::string_view payload,
                       const tcp_exchange_options& options, std::error_code& ec) const;
  /// Like the above; throws std::system_error.
  std::string exchange(std::string_view host, std::uint16_t port, std::string_view payload,
                       const tcp_exchange_options& options = {}) const;
};

}  // namespace iotblocks::net

IOTBLOCKS_API_END
