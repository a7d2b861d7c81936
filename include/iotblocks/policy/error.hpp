// Error codes of the policy component: document parsing (each failure carries
// the line and column of the offending JSON value) and the policy store.
//
//   auto doc = policy::parse_document(R"({"Version":"2012-10-17","Statement":[]})");
//   if (!doc) std::cerr << doc.describe();   // message at line:column
#pragma once

#include <iotblocks/core/error.hpp>
#include <iotblocks/core/export.hpp>

#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::policy {

enum class error {
  invalid_document = 1,     ///< wrong JSON type or shape for a policy element
  unsupported_version,      ///< "Version" is neither 2012-10-17 nor 2008-10-17
  missing_element,          ///< a required element (Statement, Effect, Action, Resource) is absent
  unknown_element,          ///< an element IAM does not define
  duplicate_element,        ///< the same element twice in one object
  conflicting_elements,     ///< e.g. both Action and NotAction
  invalid_effect,           ///< Effect is not "Allow" or "Deny"
  invalid_action,           ///< an action is not "*" or "service:Name"
  invalid_resource,         ///< a resource is not "*" or a six-part ARN
  invalid_variable,         ///< malformed "${...}" or a variable where none is allowed
  invalid_condition,        ///< malformed Condition block or condition key
  unsupported_operator,     ///< a condition operator this evaluator does not implement
  invalid_condition_value,  ///< a value the operator cannot use (bad CIDR, bool, number)
  invalid_principal,        ///< Principal in an IoT policy, or a malformed one
  too_large,                ///< a document exceeds a configured limit
  // policy store
  invalid_name,      ///< policy name outside [A-Za-z0-9+=,.@_-]{1,128}
  policy_exists,     ///< create_policy with a name already in use
  no_such_policy,    ///< the named policy does not exist
  no_such_version,   ///< the policy has no such version
  version_limit,     ///< the policy already has the maximum number of versions
  default_version,   ///< the default version cannot be deleted
  policy_in_use,     ///< delete_policy while attached or with non-default versions
  attachment_limit,  ///< the principal already has the maximum number of policies
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace iotblocks::policy

template <>
struct std::is_error_code_enum<iotblocks::policy::error> : std::true_type {};

IOTBLOCKS_API_END
