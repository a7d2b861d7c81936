// Private: statement-level evaluation shared by identity and resource policies.
#pragma once

#include <iotblocks/policy/evaluate.hpp>

#include "policy/compiled.hpp"
#include "policy/pattern.hpp"

namespace iotblocks::policy::detail {

/// Action, resource and condition all match, and every variable the statement
/// uses resolved. (The Principal of resource policies is checked by the caller.)
bool applies(const statement& st, const request& req, const split_arn& resource,
             const context& ctx) noexcept;

}  // namespace iotblocks::policy::detail
