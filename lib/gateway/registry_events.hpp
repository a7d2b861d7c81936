// Private: AWS IoT's registry events (docs/aws-api.md, "Registry events") made from the
// registry's, the thing groups' and the thing types' committed changes, and published through
// the broker for the types update-event-configurations enabled. Subscribers need iot:Subscribe
// and iot:Receive on the `$aws/events/...` topics, as for any message.
//
//   registry_events events{config_store, broker, {"000000000000", "eu-west-1"}};
//   groups->on_change([&](const registry::change& c) { events.on_change(c); });
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/registry/changes.hpp>

#include "gateway/event_config.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::gateway {

/// One event: its type in the event configuration ("THING", "THING_GROUP_MEMBERSHIP", …),
/// its topic and its JSON payload.
struct event_message {
  std::string_view type;
  std::string topic;
  std::string payload;
};

/// What the payloads need besides the change.
struct event_context {
  std::string account_id = "000000000000";
  std::string region = "us-east-1";  ///< in the ARNs
  std::int64_t now_ms = 0;           ///< "timestamp"
  /// "eventId" of each message (registry_events: a random UUID).
  std::function<std::string()> event_id{};
};

/// The events one change makes, whatever is enabled: a thing's THING event and, when its type
/// changed, THING_TYPE_ASSOCIATION events; a group's THING_GROUP event and, when it has a
/// parent, a THING_GROUP_HIERARCHY event; a THING_GROUP_MEMBERSHIP or a THING_TYPE event.
std::vector<event_message> registry_event_messages(const registry::change& c,
                                                   const event_context& ctx);

/// `base` at the time now, with a random UUID for each "eventId".
event_context event_context_now(const event_context& base);

/// Publishes (QoS 1) those of `messages` whose type `config` enables.
void publish_enabled(const event_config_store& config, broker::broker& b,
                     std::vector<event_message> messages);

/// Distinct objects: safe. Shared objects: safe.
class registry_events {
 public:
  registry_events(const event_config_store& config, broker::broker& b, event_context base)
      : config_(config), broker_(b), base_(std::move(base)) {}
  /// Publishes (QoS 1) the enabled events of a committed change.
  void on_change(const registry::change& c);

 private:
  const event_config_store& config_;
  broker::broker& broker_;
  event_context base_;
};

}  // namespace iotblocks::gateway
