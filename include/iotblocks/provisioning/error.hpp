// Errors of the provisioning component: template faults, bad device parameters and the
// failures of AWS IoT fleet provisioning's MQTT API (each with the statusCode and errorCode
// of its /rejected reply).
//
//   std::error_code ec = iotblocks::provisioning::error::invalid_ownership_token;
//   iotblocks::provisioning::aws_code(ec);     // "InvalidCertificateOwnershipToken"
//   iotblocks::provisioning::aws_status(ec);   // 400
#pragma once

#include <iotblocks/core/export.hpp>

#include <string_view>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::provisioning {

enum class error {
  invalid_template = 1,      ///< the template is not AWS's template language (message: where)
  invalid_parameters,        ///< a device parameter is missing, too long or of the wrong type
  resource_conflict,         ///< OverrideSettings FAIL met an existing value
  limit_exceeded,            ///< the template or its evaluation passes a configured limit
  invalid_request,           ///< a request payload is not JSON or a field is wrong
  invalid_ownership_token,   ///< unknown, expired or foreign certificateOwnershipToken
  template_not_found,        ///< no (enabled) template of that name
  certificate_invalid,       ///< a CSR or certificate that cannot be used
  internal_error,            ///< a store or the CA failed
  not_a_provisioning_topic,  ///< not a fleet-provisioning request topic (route as usual)
  template_exists,           ///< create: a template of that name exists
  version_limit,             ///< create_version: the template has its most versions
  delete_conflict,           ///< delete_version: the default version
  access_denied,             ///< the pre-provisioning hook refused or failed
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// The `errorCode` of a /rejected reply ("InternalError" for foreign codes).
std::string_view aws_code(std::error_code ec) noexcept;
/// The `statusCode` of a /rejected reply (500 for foreign codes).
int aws_status(std::error_code ec) noexcept;

}  // namespace iotblocks::provisioning

template <>
struct std::is_error_code_enum<iotblocks::provisioning::error> : std::true_type {};

IOTBLOCKS_API_END
