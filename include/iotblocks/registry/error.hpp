// Errors of the certificate registry: management operations (CAs, device
// certificates, things) and the reasons an authentication is rejected. Chain
// verification failures during authentication carry iotblocks::x509 codes.
//
//   auto r = reg.update_certificate(id, iotblocks::registry::certificate_status::active);
//   if (r.error() == iotblocks::registry::error::invalid_transition) { ... }
#pragma once

#include <iotblocks/core/error.hpp>
#include <iotblocks/core/export.hpp>

#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

enum class error {
  // management
  not_found = 1,                     ///< no such CA, certificate or thing
  already_exists,                    ///< the CA, certificate or thing exists already
  not_a_ca,                          ///< a CA to register lacks basicConstraints cA=TRUE
  ca_certificate_invalid,            ///< the CA is expired or breaks the strict rules
  registration_code_mismatch,        ///< the verification certificate's CN is not the code
  verification_not_signed_by_ca,     ///< the CA's key did not sign the verification certificate
  verification_certificate_invalid,  ///< the verification certificate is expired or not yet valid
  too_many_cas_with_subject,         ///< more CAs share a subject than allowed
  unknown_ca,                        ///< no registered CA signed the device certificate
  invalid_status,                    ///< a status callers may not set (PENDING_*)
  invalid_transition,                ///< a status change that is not allowed
  in_use,            ///< still referenced (certificates of a CA, things of a certificate)
  invalid_name,      ///< a thing name, type or attribute breaks the allowed syntax
  limit_exceeded,    ///< too many attributes or attachments
  version_conflict,  ///< the thing's version is not the expected one
  storage,           ///< the store failed; nothing changed
  // authentication
  certificate_unknown,           ///< not registered and not registrable just in time
  pending_activation,            ///< registered (just now or before), awaiting activation
  certificate_inactive,          ///< the device certificate is INACTIVE
  certificate_revoked,           ///< the device certificate is REVOKED
  certificate_pending_transfer,  ///< the device certificate is being transferred
  ca_inactive,                   ///< the issuing CA is INACTIVE: no new registrations
  auto_registration_disabled,    ///< the issuing CA does not register certificates just in time
  // thing groups
  hierarchy_conflict,  ///< the thing is in another group of the same hierarchy, or a cycle
  // thing types
  deprecated,  ///< the thing type is deprecated (or, to delete it, not deprecated long enough)
  // fleet indexing
  invalid_query,  ///< a fleet indexing query that does not parse or exceeds a limit
  // stores shared by processes
  store_changed,  ///< another process wrote since this one loaded: load again and retry
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace iotblocks::registry

template <>
struct std::is_error_code_enum<iotblocks::registry::error> : std::true_type {};

IOTBLOCKS_API_END
