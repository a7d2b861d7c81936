// Errors of the x509 component: parsing certificates, keys and CRLs, building
// test certificates, and verifying chains.
//
//   auto cert = iotblocks::x509::certificate::from_pem(text);
//   if (!cert && cert.error() == iotblocks::x509::error::invalid_pem) { ... }
#pragma once

#include <iotblocks/core/error.hpp>
#include <iotblocks/core/export.hpp>

#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::x509 {

enum class error {
  // parsing
  invalid_pem = 1,        ///< text is not a well-formed PEM block
  unexpected_pem_block,   ///< a PEM block of another type (e.g. a private key)
  no_certificate,         ///< the input holds no certificate
  invalid_der,            ///< bytes are not a DER-encoded certificate (or CRL)
  not_canonical_der,      ///< BER or non-canonical DER: the certificate id would be ambiguous
  too_large,              ///< the input exceeds a size limit
  too_many_certificates,  ///< a chain exceeds the maximum number of certificates
  invalid_key,            ///< a private key is malformed or of an unsupported type
  // issuing (test CAs, verification and device certificates)
  issue_failed,  ///< OpenSSL could not generate a key or sign a certificate
  // verification
  untrusted,                  ///< no path to a trusted certificate
  expired,                    ///< a certificate of the chain has expired
  not_yet_valid,              ///< a certificate of the chain is not valid yet
  bad_signature,              ///< a signature does not verify
  revoked,                    ///< a certificate of the chain is revoked by a CRL
  crl_unavailable,            ///< a required CRL is missing, expired or invalid
  chain_too_long,             ///< the maximum depth or a pathLenConstraint is exceeded
  purpose_mismatch,           ///< key usage or extended key usage does not allow the purpose
  name_mismatch,              ///< the peer name is not in the certificate
  weak_key,                   ///< a key or digest is below the security level
  name_constraint_violation,  ///< a name violates a CA's name constraints
  invalid_certificate,        ///< a certificate breaks RFC 5280 rules checked in strict mode
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace iotblocks::x509

template <>
struct std::is_error_code_enum<iotblocks::x509::error> : std::true_type {};

IOTBLOCKS_API_END
