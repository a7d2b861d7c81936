#include <iotblocks/registry/error.hpp>

namespace iotblocks::registry {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::not_found: return "not found";
    case error::already_exists: return "already exists";
    case error::not_a_ca: return "certificate is not a CA (basicConstraints cA)";
    case error::ca_certificate_invalid: return "CA certificate is not valid";
    case error::registration_code_mismatch:
      return "verification certificate's Common Name is not the registration code";
    case error::verification_not_signed_by_ca:
      return "verification certificate is not signed by the CA's key";
    case error::verification_certificate_invalid: return "verification certificate is not valid";
    case error::too_many_cas_with_subject: return "too many CA certificates with this subject";
    case error::unknown_ca: return "no registered CA signed the certificate";
    case error::invalid_status: return "status cannot be set by callers";
    case error::invalid_transition: return "status change not allowed";
    case error::in_use: return "still in use";
    case error::invalid_name: return "invalid thing name, type or attribute";
    case error::limit_exceeded: return "limit exceeded";
    case error::version_conflict: return "version conflict";
    case error::storage: return "registry store failed";
    case error::certificate_unknown: return "certificate is not registered";
    case error::pending_activation: return "certificate is pending activation";
    case error::certificate_inactive: return "certificate is inactive";
    case error::certificate_revoked: return "certificate is revoked";
    case error::certificate_pending_transfer: return "certificate is pending transfer";
    case error::ca_inactive: return "CA certificate is inactive";
    case error::auto_registration_disabled:
      return "CA certificate does not allow auto-registration";
    case error::hierarchy_conflict: return "thing group hierarchy conflict";
    case error::deprecated: return "thing type is deprecated";
    case error::invalid_query: return "invalid fleet indexing query";
    case error::store_changed: return "the store was changed by another process";
  }
  return "unknown iotblocks.registry error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return iotblocks::detail::lasting_category<&message>("iotblocks.registry");
}

}  // namespace iotblocks::registry
