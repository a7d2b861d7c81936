// Chain verification through OpenSSL's X509_verify_cert against a set of
// trusted certificates kept parsed in memory, under a profile:
//
// - profile::aws (default): what AWS IoT Core accepts. OpenSSL's path
//   validation without X509_STRICT (a CA without keyUsage, as the AWS guide's
//   `openssl req -x509` makes it, and v1 device certificates pass; a CA still
//   needs basicConstraints cA=TRUE, or to be a v1 self-signed root), keys RSA
//   ≥ 2048 bits or ECDSA on P-256/P-384/P-521, signatures SHA-256/384/512 with
//   RSA, RSASSA-PSS or ECDSA (no SHA-1, no EdDSA).
// - profile::strict: RFC 5280. X509_STRICT (keyUsage on CAs, AKI/SKI,
//   critical basicConstraints, non-empty names…) plus the checks OpenSSL 3.0
//   leaves out (strict.hpp); RSA, EC and EdDSA keys.
//
// Both: partial chains (a trusted intermediate is an anchor by itself, as a
// registered intermediate CA must be), security level 2 (RSA/DSA ≥ 2048 bits,
// ECC ≥ 224 bits, no SHA-1 signatures), the time of an injectable clock,
// chains of at most 10 certificates. Purpose (EKU), peer name and CRLs when asked.
//
//   iotblocks::x509::verifier v;
//   v.add_trusted(ca).value();
//   std::array<iotblocks::bytes_view, 2> chain{leaf_der, intermediate_der};
//   auto r = v.verify(chain, {.purpose = iotblocks::x509::purpose::tls_client});
//   if (r) r->anchor.id();   // the trusted certificate the chain ends at
//   else   r.describe();      // "certificate has expired (depth 0, CN=device-1)"
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/x509/certificate.hpp>
#include <iotblocks/x509/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::x509 {

namespace detail {
struct crl_data;
struct verifier_data;
}  // namespace detail

/// A certificate revocation list. Distinct objects: safe. Shared objects: safe (immutable).
class crl {
 public:
  static result<crl> from_der(bytes_view der, const parse_limits& limits = {});
  /// Parses text holding one "X509 CRL" PEM block.
  static result<crl> from_pem(std::string_view pem, const parse_limits& limits = {});

  bytes_view der() const noexcept;
  std::string pem() const;
  const distinguished_name& issuer() const noexcept;
  time_point this_update() const noexcept;
  /// nextUpdate, if present.
  std::optional<time_point> next_update() const noexcept;
  /// Revoked serial numbers, lowercase hex as certificate::serial().
  std::vector<std::string> revoked_serials() const;
  void* native_handle() const noexcept;  ///< the `X509_CRL*`

 private:
  friend class verifier;
  friend struct crl_access;
  explicit crl(std::shared_ptr<const detail::crl_data> d) noexcept : d_(std::move(d)) {}
  std::shared_ptr<const detail::crl_data> d_;
};

/// What the leaf certificate must be good for (key usage and extended key usage).
enum class purpose {
  any,         ///< no purpose check
  tls_client,  ///< TLS client authentication (clientAuth), what devices present
  tls_server,  ///< TLS server authentication (serverAuth)
};

/// Which certificates verification accepts (see the top of this file). One
/// notion for the library, the registry (options::verify), `iotblocks x509
/// verify --profile` and the gateway's "certificate_profile".
enum class profile : std::uint8_t {
  aws,     ///< what AWS IoT Core accepts
  strict,  ///< RFC 5280
};
/// "aws", "strict".
std::string_view to_string(profile p) noexcept;
/// Parses "aws" or "strict".
std::optional<profile> parse_profile(std::string_view name) noexcept;

/// How CRLs are used.
enum class crl_check {
  if_present,  ///< check each certificate whose issuer has a CRL loaded; no CRL is fine
  required,    ///< every certificate below the anchor needs a valid CRL from its issuer
  off,         ///< ignore CRLs
};

struct verify_options {
  x509::profile profile = x509::profile::aws;
  bool partial_chain = true;  ///< a trusted non-self-signed certificate may be the anchor
  int auth_level = 2;         ///< OpenSSL security level (0–5)
  /// CA certificates allowed between the leaf and the anchor (OpenSSL's verify
  /// depth): a built chain holds at most max_intermediates + 2 certificates.
  int max_intermediates = 8;
  x509::purpose purpose = x509::purpose::any;
  std::string host{};   ///< when set, a DNS SAN must match (wildcard only as a whole left label)
  std::string ip{};     ///< when set, an IP SAN must equal this address (text form)
  std::string email{};  ///< when set, an email SAN (or subject emailAddress) must match
  crl_check crls = crl_check::if_present;
  bool check_time = true;
  parse_limits limits{};                    ///< bounds on the presented chain (count, sizes)
  std::optional<time_point> at{};           ///< verification time; default: `clock->now()`
  const iotblocks::clock* clock = nullptr;  ///< nullptr: iotblocks::default_clock()
};

/// A chain that verified.
struct verified_chain {
  certificate anchor;       ///< the trusted certificate the chain ends at
  std::size_t length = 0;   ///< certificates in the built chain, anchor included
  time_point not_before{};  ///< latest notBefore of the built chain
  time_point not_after{};   ///< earliest notAfter of the built chain
};

/// Trusted certificates (parsed once) and CRLs, and chain verification.
/// Distinct objects: safe. Shared objects: `verify` may run concurrently;
/// adding or removing trust needs exclusive access.
class verifier {
 public:
  verifier();
  verifier(verifier&&) noexcept;
  verifier& operator=(verifier&&) noexcept;
  verifier(const verifier&) = delete;
  verifier& operator=(const verifier&) = delete;
  ~verifier();

  /// Trusts `ca` as an anchor (any certificate may be trusted; adding twice is a no-op).
  result<void> add_trusted(const certificate& ca);
  /// Stops trusting the certificate with id `id`; false when it was not trusted.
  bool remove_trusted(std::string_view id);
  /// The trusted certificate with id `id`, if any.
  const certificate* find_trusted(std::string_view id) const noexcept;
  std::vector<certificate> trusted() const;
  std::size_t size() const noexcept;

  /// Checks certificates against `list`; replaces the CRL loaded before from the same issuer.
  result<void> add_crl(const crl& list);
  void clear_crls();
  std::size_t crl_count() const noexcept;

  /// Verifies a chain given as DER certificates, leaf first, as a TLS peer presents it.
  result<verified_chain> verify(std::span<const bytes_view> chain,
                                const verify_options& options = {}) const;
  /// Verifies parsed certificates, leaf first.
  result<verified_chain> verify(std::span<const certificate> chain,
                                const verify_options& options = {}) const;

 private:
  std::unique_ptr<detail::verifier_data> d_;
};

}  // namespace iotblocks::x509

IOTBLOCKS_API_END
