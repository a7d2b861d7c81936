// The peer of a client connection as its transport saw it: one type for the
// transport that fills it (net) and the broker's hooks that read it, so a
// connection holds it once.
//
//   iotblocks::peer_info p;
//   p.address = "192.0.2.7";
//   p.transport = "tcp";
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks {

/// Filled before the connection is handed on; read-only afterwards.
/// Distinct objects: safe. Shared objects: safe to read.
struct peer_info {
  std::string address;  ///< remote IP (empty: not an IP transport)
  std::uint16_t port = 0;
  std::string transport;           ///< "tcp", "tls", "ws", "wss", or the embedder's name
  std::string alpn;                ///< negotiated ALPN protocol, if any
  std::vector<byte_buffer> chain;  ///< client certificate chain (DER, leaf first), TLS only
  std::string server_name;         ///< TLS server name indication, if sent
  /// WebSocket only: the upgrade request's target (path and query, as sent) and headers.
  std::string ws_target;
  std::vector<std::pair<std::string, std::string>> ws_headers;
  /// Who the transport's upgrade check found the peer to be (e.g. "aws-sigv4:<key id>").
  std::string identity;
};

}  // namespace iotblocks

IOTBLOCKS_API_END
