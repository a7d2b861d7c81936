// Who the probe is and what it may do: a device CA, TLS certificates, the
// certificate registry and the policy store (trust.cpp), and `guard`, the
// handler in front of the broker that asks them on every TLS handshake,
// CONNECT and PUBLISH.
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/net/server.hpp>
#include <iotblocks/net_broker/handler.hpp>
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

/// The broker on the server's connections, after asking the registry about
/// TLS client chains; installs the broker's CONNECT and authorize hooks
/// (policy sessions per connection). Shared objects: safe.
class guard {
 public:
  guard(iotblocks::broker::broker& b, trust& t);

  std::uint64_t denied() const noexcept { return denied_.load(); }
  /// What the server hands its connections to.
  iotblocks::net::handler& transport() noexcept { return binding_; }

 private:
  bool on_tls_peer(const iotblocks::net::peer_info& peer);

  iotblocks::broker::broker& broker_;
  iotblocks::net_broker::handler binding_{broker_};
  trust& trust_;
  std::atomic<std::uint64_t> denied_{0};
};

}  // namespace example
