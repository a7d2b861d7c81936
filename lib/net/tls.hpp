// Private: building OpenSSL server contexts for the listeners.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/net/server.hpp>

#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace iotblocks::net::detail {

/// What a TLS connection offers its handshake: the peer's chain goes here.
class tls_peer_sink {
 public:
  virtual bool check_tls_peer(peer_info& peer) = 0;
  /// The chain failed OpenSSL's verification against ca_file.
  virtual void tls_chain_refused(peer_info& peer, const tls_refusal& why) = 0;

 protected:
  ~tls_peer_sink() = default;
};

/// The ex_data slot of SSL objects that holds the connection's tls_peer_sink*.
int ssl_connection_index();

/// A server context: certificate and key, optional client-certificate request,
/// ALPN selection, and a certificate verification that collects the peer's
/// chain and asks the connection's sink (after standard verification against
/// ca_file, if set).
result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(const tls_options& o);

}  // namespace iotblocks::net::detail
