// Private: which AWS IoT events the gateway publishes (update-event-configurations), kept in
// event_configurations.db and committed before the call answers. Every type is off until it is
// enabled, as on AWS IoT.
//
//   auto store = event_config_store::open(dir + "/event_configurations.db").value();
//   store->update({{"THING", true}});          // durable when it returns
//   store->enabled("THING");                   // true
#pragma once

#include <iotblocks/core/result.hpp>

#include "core/json.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::gateway {

/// The EventType values of the AWS IoT API (service model, EventConfigurations).
inline constexpr std::array<std::string_view, 11> event_types{"THING",
                                                              "THING_GROUP",
                                                              "THING_TYPE",
                                                              "THING_GROUP_MEMBERSHIP",
                                                              "THING_GROUP_HIERARCHY",
                                                              "THING_TYPE_ASSOCIATION",
                                                              "JOB",
                                                              "JOB_EXECUTION",
                                                              "POLICY",
                                                              "CERTIFICATE",
                                                              "CA_CERTIFICATE"};

/// Whether `type` is one of event_types.
bool known_event_type(std::string_view type) noexcept;

/// Reads an UpdateEventConfigurations body ({"eventConfigurations": {"THING": {"Enabled":
/// true}, …}}) into `out` (types whose Enabled is absent or null are left out), or the error
/// naming the field ("eventConfigurations.THINGS: not an event type (…)").
std::optional<std::string> read_event_configurations(const rapidjson::Value& body,
                                                     std::map<std::string, bool, std::less<>>& out);

/// The whole configuration: each type of event_types, and when it was made and last changed.
struct event_configurations {
  std::map<std::string, bool, std::less<>> enabled{};
  std::int64_t created_ms = 0;
  std::int64_t modified_ms = 0;
};

/// Distinct objects: safe. Shared objects: safe (one mutex).
class event_config_store {
 public:
  /// Opens (creating) the file; `now_ms` stamps a new configuration. Errors: SQLite's.
  static result<std::unique_ptr<event_config_store>> open(const std::string& path,
                                                          std::int64_t now_ms);
  ~event_config_store();
  event_config_store(const event_config_store&) = delete;
  event_config_store& operator=(const event_config_store&) = delete;

  event_configurations get() const;
  /// Whether events of `type` are published (unknown types: false). Lock-free read.
  bool enabled(std::string_view type) const noexcept;
  /// Sets the given types (the others keep their setting) in one transaction, durable when
  /// it returns. The caller checked the names (known_event_type). Errors: storage.
  result<void> update(const std::map<std::string, bool, std::less<>>& changes, std::int64_t now_ms);

 private:
  struct impl;
  explicit event_config_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::gateway
