// Keys and certificates for tests, tools and the bring-your-own-CA flow: test
// CAs, the verification certificate that proves ownership of a CA key (its
// Common Name is the registry's registration code) and device certificates.
// Issued certificates satisfy the strict verifier (SKI, AKI, critical
// basicConstraints and keyUsage on CAs).
//
//   using namespace iotblocks::x509;
//   auto ca_key = private_key::generate(key_algorithm::p256).value();
//   auto ca = issue({.subject = {{{"CN", "Acme Root"}}}, .ca = true}, ca_key).value();
//   auto dev_key = private_key::generate(key_algorithm::p256).value();
//   auto dev = issue({.subject = {{{"CN", "device-1"}}}, .client_auth = true},
//                    dev_key, &ca, &ca_key).value();
#pragma once

#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/x509/certificate.hpp>
#include <iotblocks/x509/verifier.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::x509 {

enum class key_algorithm { rsa_2048, rsa_3072, p256, p384, ed25519 };
/// "rsa2048", "rsa3072", "p256", "p384", "ed25519".
std::string_view to_string(key_algorithm a) noexcept;
result<key_algorithm> parse_key_algorithm(std::string_view name);

namespace detail {
struct key_data;
}

/// A private key. Distinct objects: safe. Shared objects: safe (immutable).
class private_key {
 public:
  static result<private_key> generate(key_algorithm algorithm);
  /// Parses an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1).
  static result<private_key> from_pem(std::string_view pem);
  /// PKCS#8 PEM, unencrypted.
  std::string pem() const;
  key_type type() const noexcept;
  int bits() const noexcept;
  /// True when `cert` carries this key's public half.
  bool matches(const certificate& cert) const noexcept;
  void* native_handle() const noexcept;  ///< the `EVP_PKEY*`

 private:
  explicit private_key(std::shared_ptr<const detail::key_data> d) noexcept : d_(std::move(d)) {}
  std::shared_ptr<const detail::key_data> d_;
};

/// What to put in a new certificate.
struct certificate_request {
  distinguished_name subject{};
  /// Serial as hex; empty: 16 random bytes (positive).
  std::string serial{};
  /// Validity; defaults: from the issue time minus one minute, for `days`.
  std::optional<time_point> not_before{};
  std::optional<time_point> not_after{};
  int days = 365;
  bool ca = false;
  std::optional<int> path_length{};  ///< CA only
  bool client_auth = false;          ///< extended key usage clientAuth
  bool server_auth = false;          ///< extended key usage serverAuth
  std::vector<std::string> dns_names{};
  std::vector<std::string> ip_addresses{};
  const iotblocks::clock* clock = nullptr;  ///< issue time; nullptr: default_clock()
};

/// Issues a certificate for `subject_key`'s public key, signed by `issuer_key`
/// under `issuer`; self-signed when `issuer` is null (then `issuer_key`, if
/// given, must be `subject_key`). SHA-256 signatures (Ed25519: pure EdDSA).
result<certificate> issue(const certificate_request& request, const private_key& subject_key,
                          const certificate* issuer = nullptr,
                          const private_key* issuer_key = nullptr);

/// Issues a certificate for the public key and subject of a PKCS#10 request (PEM) whose
/// signature verifies, signed by `issuer_key` under `issuer`; validity, usages and names
/// come from `request` (its subject is not used). Errors: core::error::invalid_argument
/// for a malformed or badly signed request.
result<certificate> issue_from_csr(std::string_view csr_pem, const certificate_request& request,
                                   const certificate& issuer, const private_key& issuer_key);

/// A CRL from `issuer` listing `revoked_serials` (hex), valid `days` from now.
result<crl> issue_crl(const certificate& issuer, const private_key& issuer_key,
                      const std::vector<std::string>& revoked_serials, int days = 30,
                      const iotblocks::clock* clock = nullptr);

}  // namespace iotblocks::x509

IOTBLOCKS_API_END
