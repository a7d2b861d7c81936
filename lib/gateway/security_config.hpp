// Private: reads the "security" section of the gateway configuration.
#pragma once

#include <iotblocks/gateway/config.hpp>

#include "core/json.hpp"

namespace iotblocks::gateway::detail {

/// Reads root["security"] (absent: defaults); errors name the JSON path.
result<void> read_security_config(const rapidjson::Value& root, security_config& out);

}  // namespace iotblocks::gateway::detail
