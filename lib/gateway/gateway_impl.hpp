// Private: the parts of a running gateway, shared by gateway.cpp and http_routes.cpp.
#pragma once

#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/http_server.hpp>
#include <iotblocks/net/server.hpp>
#include <iotblocks/policy/evaluate.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/shadow/service.hpp>
#include <iotblocks/shadow/store.hpp>

#include "gateway/bridges.hpp"
#include "gateway/rule_store.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace iotblocks::gateway {

class security;

/// Forwards transport callbacks to the broker (which is final) and decides TLS peers.
class transport_gate final : public net::handler {
 public:
  explicit transport_gate(broker& b) : b_(b) {}
  void on_open(const net::connection_ptr& c) override { b_.on_open(c); }
  void on_packet(const net::connection_ptr& c, const mqtt::packet_view& p) override {
    b_.on_packet(c, p);
  }
  void on_protocol_error(const net::connection_ptr& c, mqtt::reason_code reason,
                         const failure& why) override {
    b_.on_protocol_error(c, reason, why);
  }
  void on_close(const net::connection_ptr& c, std::error_code ec) override { b_.on_close(c, ec); }
  bool on_tls_peer(const net::peer_info& p) override {
    return tls_peer ? tls_peer(p) : b_.on_tls_peer(p);
  }
  std::function<bool(const net::peer_info&)> tls_peer;  ///< set before start (security)

 private:
  broker& b_;
};

struct gateway::impl {
  config cfg;
  broker mqtt;
  net::server server;
  transport_gate gate{mqtt};
  net::http_server http;
  std::unique_ptr<shadow::sqlite_store> shadow_store;
  std::unique_ptr<shadow::service> shadows;
  std::unique_ptr<shadow::router> shadow_router;
  std::unique_ptr<rules::engine> rules;
  std::unique_ptr<rule_store> rule_changes;  ///< rules changed through the admin API
  std::unique_ptr<bridge_set> bridges;       ///< upstream bridges (bridges.cpp)
  std::unique_ptr<security> sec;             ///< registry, policies, users, admin (security*.cpp)
  std::atomic<std::uint64_t> shadow_updates{0};
  std::vector<endpoint> endpoints;
  bool started = false;
  bool http_started = false;

  explicit impl(config c);
  ~impl();
  void add_http_routes();  ///< http_routes.cpp
  std::string metrics_text() const;
};

}  // namespace iotblocks::gateway
