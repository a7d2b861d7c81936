// The reference gateway: the MQTT broker on its listeners, the HTTP endpoints,
// the rules engine on every accepted message, the shadow service on
// `$aws/things/+/shadow/#` and, when enabled, the policy engine deciding every
// Connect, Publish, Subscribe, Receive and RetainPublish.
//
//   auto cfg = gateway::load_config("gw.json").value();
//   gateway::gateway gw{cfg};
//   gw.start().value();                     // binds every listener, starts the threads
//   for (auto& e : gw.endpoints()) std::cout << e.type << " " << e.port << "\n";
//   ...
//   gw.stop();
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/gateway/config.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::gateway {

/// Where the gateway listens once started (ports resolved when the config said 0).
struct endpoint {
  std::string type;  ///< mqtt, mqtts, ws, wss, http
  std::string address;
  std::uint16_t port = 0;
};

/// Distinct objects: safe. Shared objects: start/stop unsafe; the rest safe.
class gateway {
 public:
  explicit gateway(config c);
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// Opens the data directory (SQLite files), loads rules and policies, binds
  /// every listener and starts the threads. Errors name what failed.
  result<void> start();
  /// Stops listeners, threads and the rules engine's workers. Idempotent.
  void stop();

  const std::vector<endpoint>& endpoints() const noexcept;
  /// The port of the first listener of `type`, or 0.
  std::uint16_t port(std::string_view type) const noexcept;
  broker::broker& mqtt_broker() noexcept;
  /// Prometheus text exposition of the broker, server and rules counters.
  std::string metrics_text() const;

  struct impl;  ///< implementation detail

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::gateway

IOTBLOCKS_API_END
