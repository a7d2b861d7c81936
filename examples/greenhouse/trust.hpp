// Who the probe is and what it may do: a device CA, TLS certificates, the
// certificate registry and the policy store (trust.cpp), and `guard`, the
// handler in front of the broker that asks them on every TLS handshake,
// CONNECT and PUBLISH.
#pragma once

#include <iotblocks/core/clock.hpp>
#include <iotblocks/gateway/broker.hpp>
#include <iotblocks/net/server.hpp>
#include <iotblocks/policy/store.hpp>
#include <iotblocks/registry/registry.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace example {

/// One line on standard output, whole, from any thread.
void say(const std::string& line);
/// "HH:MM" (UTC) of a time point.
std::string hh_mm(iotblocks::time_point t);
/// "Shade_Open OK -> ALARM at <StateChangeTime>" from a CloudWatch alarm notification.
std::string alarm_summary(std::string_view json);

/// The greenhouse's trust store. Distinct objects: safe. Shared objects: safe.
struct trust {
  std::optional<iotblocks::registry::registry> registry;
  std::optional<iotblocks::policy::store> policies;

  /// Makes (in `dir`) ca.pem, server.pem/.key (127.0.0.1) and <thing>.pem/.key
  /// as probe.pem/probe.key; registers the CA and the probe's certificate
  /// ACTIVE, creates the thing, attaches it and the greenhouse policy.
  static iotblocks::result<trust> make(const std::filesystem::path& dir, const std::string& thing);
};

/// Forwards the transport's callbacks to the broker, after asking the
/// registry about TLS client chains; installs the broker's CONNECT and
/// authorize hooks (policy sessions per connection). Shared objects: safe.
class guard final : public iotblocks::net::handler {
 public:
  guard(iotblocks::gateway::broker& b, trust& t);

  std::uint64_t denied() const noexcept { return denied_.load(); }

  void on_open(const iotblocks::net::connection_ptr& c) override { broker_.on_open(c); }
  void on_packet(const iotblocks::net::connection_ptr& c,
                 const iotblocks::mqtt::packet_view& p) override {
    broker_.on_packet(c, p);
  }
  void on_protocol_error(const iotblocks::net::connection_ptr& c, iotblocks::mqtt::reason_code r,
                         const iotblocks::failure& why) override {
    broker_.on_protocol_error(c, r, why);
  }
  void on_close(const iotblocks::net::connection_ptr& c, std::error_code ec) override {
    broker_.on_close(c, ec);
  }
  bool on_tls_peer(const iotblocks::net::peer_info& peer) override;

 private:
  iotblocks::gateway::broker& broker_;
  trust& trust_;
  std::atomic<std::uint64_t> denied_{0};
};

}  // namespace example
