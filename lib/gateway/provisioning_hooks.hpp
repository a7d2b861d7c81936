// Private: the functions behind pre-provisioning hooks (docs/provisioning.md). A template's
// preProvisioningHook names a Lambda ARN; the gateway config maps that ARN to a function run
// like a custom authorizer's (custom_auth::invoke: an HTTP endpoint or a program):
//
//   "provisioning_hooks": {
//     "arn:aws:lambda:eu-west-1:123456789012:function:check": {
//       "function": {"url": "http://127.0.0.1:9000/hook"}, "timeout_ms": 5000}}
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/provisioning/hook.hpp>

#include "core/json.hpp"

namespace iotblocks::gateway::provisioning_hooks {

/// Reads "provisioning_hooks" into c.provisioning_hooks (name: the target ARN).
result<void> read_config(const rapidjson::Value& root, config& c);

/// Asks the function of `target_arn` in `hooks`: its answer, or invalid_request /
/// access_denied (no function for the ARN, the function failed or timed out, an answer
/// that is not AWS's shape; the message says which).
result<provisioning::hook_response> ask(const std::vector<custom_authorizer>& hooks,
                                        std::string_view target_arn,
                                        const provisioning::hook_request& r);

}  // namespace iotblocks::gateway::provisioning_hooks
