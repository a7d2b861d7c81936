#include <iotblocks/x509/error.hpp>

namespace iotblocks::x509 {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::invalid_pem: return "malformed PEM";
    case error::unexpected_pem_block: return "unexpected PEM block type";
    case error::no_certificate: return "no certificate in the input";
    case error::invalid_der: return "not a DER-encoded X.509 structure";
    case error::not_canonical_der: return "certificate is not canonical DER";
    case error::too_large: return "input exceeds a size limit";
    case error::too_many_certificates: return "too many certificates";
    case error::invalid_key: return "malformed or unsupported private key";
    case error::issue_failed: return "could not issue the key or certificate";
    case error::untrusted: return "no chain to a trusted certificate";
    case error::expired: return "certificate has expired";
    case error::not_yet_valid: return "certificate is not yet valid";
    case error::bad_signature: return "signature does not verify";
    case error::revoked: return "certificate is revoked";
    case error::crl_unavailable: return "required CRL is missing, expired or invalid";
    case error::chain_too_long: return "chain is too long";
    case error::purpose_mismatch: return "certificate is not valid for the purpose";
    case error::name_mismatch: return "peer name does not match the certificate";
    case error::weak_key: return "key or digest below the security level";
    case error::name_constraint_violation: return "name constraints violated";
    case error::invalid_certificate: return "certificate violates RFC 5280";
  }
  return "unknown iotblocks.x509 error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return detail::lasting_category<&message>("iotblocks.x509");
}

}  // namespace iotblocks::x509
