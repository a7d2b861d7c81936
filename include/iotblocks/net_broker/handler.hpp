// Binds a broker to net's server: each connection the server accepts (TCP,
// TLS, WebSocket) becomes a broker::connection and its packets go to the broker.
//
//   broker::broker b;
//   net_broker::handler h{b};
//   net::server s;
//   s.listen({.port = 1883}).value();
//   s.start(h);
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/net/server.hpp>

#include <functional>

IOTBLOCKS_API_BEGIN

namespace iotblocks::net_broker {

/// Distinct objects: safe. Shared objects: safe (the server calls it from its threads).
class handler final : public net::handler {
 public:
  explicit handler(broker::broker& b) : broker_(b) {}

  /// Decides TLS peers during the handshake (unset: accept every peer the TLS
  /// settings accept). Set before the server starts.
  std::function<bool(const net::peer_info&)> tls_peer;
  /// Told of each connection closed for a malformed packet (before the broker
  /// answers it), e.g. for a log line. Set before the server starts.
  std::function<void(const net::peer_info&, mqtt::reason_code, const failure&)> protocol_error;
  /// Told of each TLS handshake refused inside TLS (net::handler::on_tls_refused).
  /// Set before the server starts.
  std::function<void(const net::peer_info&, const net::tls_refusal&)> tls_refused;
  /// Decides WebSocket upgrades (unset: accept). Set before the server starts.
  std::function<net::upgrade_verdict(net::peer_info&)> ws_upgrade;
  /// Decides WebSocket upgrades that need I/O (net::handler::on_ws_upgrade_async);
  /// when set, ws_upgrade is not called. Set before the server starts.
  std::function<void(net::peer_info&, std::function<void(net::upgrade_verdict)>)> ws_upgrade_async;

  void on_open(const net::connection_ptr& c) override;
  void on_packet(const net::connection_ptr& c, const mqtt::packet_view& p) override;
  void on_protocol_error(const net::connection_ptr& c, mqtt::reason_code reason,
                         const failure& why) override;
  void on_close(const net::connection_ptr& c, std::error_code ec) override;
  bool on_tls_peer(const net::peer_info& p) override { return !tls_peer || tls_peer(p); }
  void on_tls_refused(const net::peer_info& p, const net::tls_refusal& why) override {
    if (tls_refused) tls_refused(p, why);
  }
  net::upgrade_verdict on_ws_upgrade(net::peer_info& p) override {
    return ws_upgrade ? ws_upgrade(p) : net::upgrade_verdict{};
  }
  void on_ws_upgrade_async(net::peer_info& p,
                           std::function<void(net::upgrade_verdict)> done) override {
    if (ws_upgrade_async) return ws_upgrade_async(p, std::move(done));
    done(on_ws_upgrade(p));
  }

 private:
  broker::broker& broker_;
};

}  // namespace iotblocks::net_broker

IOTBLOCKS_API_END
