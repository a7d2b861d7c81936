// Private: what the gateway knows of each MQTT client's connection, from the broker's own
// lifecycle events ($aws/events/presence/{connected,disconnected}/<clientId>), for fleet
// indexing's connectivity fields (AWS keys them by thing name = client id). In memory only:
// after a restart a client is unknown until it connects.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::gateway {

/// Distinct objects: safe. Shared objects: safe (one mutex).
class connectivity_tracker {
 public:
  struct status {
    bool connected = false;
    std::int64_t timestamp_ms = 0;  ///< of the last connect or disconnect
    std::string disconnect_reason{};
  };
  /// A message the broker accepted: a presence event updates its client; others are ignored.
  void on_message(std::string_view topic, std::string_view payload);
  std::optional<status> of(std::string_view client_id) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, status, std::less<>> clients_;
};

}  // namespace iotblocks::gateway
