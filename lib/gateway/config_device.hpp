// Private: readers of the config keys about AWS IoT device compatibility:
// "aws" (region, account_id, any_account), "certificate_profile" and "log".
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/gateway/config.hpp>

#include "core/json.hpp"

namespace iotblocks::gateway::detail {

/// Reads "aws", "certificate_profile" and "log" of the config root into `c`.
result<void> read_device_settings(const rapidjson::Value& root, config& c);

}  // namespace iotblocks::gateway::detail
