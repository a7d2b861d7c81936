// Private: the config's "notify" topics and "alarms" (read, then applied to the rules engine).
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/rules/engine.hpp>

#include "core/json.hpp"

namespace iotblocks::gateway::detail {

/// Reads "notify" and "alarms" of the config's root object into `c`; errors name the JSON path.
result<void> read_notify_alarms(const rapidjson::Value& root, config& c);

/// Creates the notify topics with their subscriptions and puts the alarms. An alarm
/// action naming no notify topic is an error naming the alarm.
result<void> apply_notify_alarms(const config& c, rules::engine& engine);

}  // namespace iotblocks::gateway::detail
