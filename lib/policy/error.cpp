#include <iotblocks/policy/error.hpp>

namespace iotblocks::policy {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::invalid_document: return "invalid policy document";
    case error::unsupported_version: return "unsupported policy Version";
    case error::missing_element: return "missing policy element";
    case error::unknown_element: return "unknown policy element";
    case error::duplicate_element: return "duplicate policy element";
    case error::conflicting_elements: return "conflicting policy elements";
    case error::invalid_effect: return "invalid Effect";
    case error::invalid_action: return "invalid Action";
    case error::invalid_resource: return "invalid Resource";
    case error::invalid_variable: return "invalid policy variable";
    case error::invalid_condition: return "invalid Condition";
    case error::unsupported_operator: return "unsupported condition operator";
    case error::invalid_condition_value: return "invalid condition value";
    case error::invalid_principal: return "invalid Principal";
    case error::too_large: return "policy document too large";
    case error::invalid_name: return "invalid policy name";
    case error::policy_exists: return "policy already exists";
    case error::no_such_policy: return "no such policy";
    case error::no_such_version: return "no such policy version";
    case error::version_limit: return "too many policy versions";
    case error::default_version: return "the default policy version cannot be deleted";
    case error::policy_in_use: return "policy is attached or has other versions";
    case error::attachment_limit: return "too many policies attached to the principal";
  }
  return "unknown iotblocks.policy error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return iotblocks::detail::lasting_category<&message>("iotblocks.policy");
}

}  // namespace iotblocks::policy
