#include <iotblocks/core/error.hpp>
#include <iotblocks/provisioning/error.hpp>

namespace iotblocks::provisioning {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::invalid_template: return "invalid provisioning template";
    case error::invalid_parameters: return "invalid parameters";
    case error::resource_conflict: return "resource conflicts with an existing one";
    case error::limit_exceeded: return "limit exceeded";
    case error::invalid_request: return "invalid request payload";
    case error::invalid_ownership_token: return "invalid certificate ownership token";
    case error::template_not_found: return "provisioning template not found";
    case error::certificate_invalid: return "invalid certificate or CSR";
    case error::internal_error: return "internal error";
    case error::not_a_provisioning_topic: return "not a fleet provisioning request topic";
    case error::template_exists: return "provisioning template exists";
    case error::version_limit: return "too many versions of the provisioning template";
    case error::delete_conflict: return "the default version cannot be deleted";
    case error::access_denied: return "the pre-provisioning hook refused the device";
  }
  return "unknown iotblocks.provisioning error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return iotblocks::detail::lasting_category<&message>("iotblocks.provisioning");
}

std::string_view aws_code(std::error_code ec) noexcept {
  if (ec.category() != error_category()) return "InternalError";
  switch (static_cast<error>(ec.value())) {
    case error::invalid_template: return "InvalidTemplate";
    case error::invalid_parameters: return "InvalidParameters";
    case error::resource_conflict: return "ResourceConflict";
    case error::limit_exceeded: return "LimitExceeded";
    case error::invalid_request: return "InvalidPayload";
    case error::invalid_ownership_token: return "InvalidCertificateOwnershipToken";
    case error::template_not_found: return "ResourceNotFound";
    case error::certificate_invalid: return "InvalidCertificate";
    case error::internal_error: return "InternalError";
    case error::not_a_provisioning_topic: return "InvalidTopic";
    case error::template_exists: return "ResourceAlreadyExists";
    case error::version_limit: return "VersionsLimitExceeded";
    case error::delete_conflict: return "DeleteConflict";
    case error::access_denied: return "AccessDenied";
  }
  return "InternalError";
}

int aws_status(std::error_code ec) noexcept {
  if (ec.category() != error_category()) return 500;
  switch (static_cast<error>(ec.value())) {
    case error::template_not_found: return 404;
    case error::resource_conflict: return 409;
    case error::template_exists: return 409;
    case error::version_limit: return 409;
    case error::delete_conflict: return 409;
    case error::access_denied: return 403;
    case error::internal_error: return 500;
    default: return 400;
  }
}

}  // namespace iotblocks::provisioning
