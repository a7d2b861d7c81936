// X.509 certificates as immutable value types: parse PEM or DER (one
// certificate or a chain), and read what an IoT service needs from them — the
// certificate id (lowercase hex SHA-256 of the DER, as AWS IoT computes it),
// subject and issuer fields, serial number, subject alternative names,
// validity, key type and size, CA flag and key usages. Limits follow AWS IoT's
// API limits (65536 bytes per certificate) and bound every parse.
//
//   auto chain = iotblocks::x509::parse_chain(file_text).value();
//   const auto& leaf = chain.front();
//   leaf.id();                      // "3f1c…" (64 hex digits)
//   leaf.subject().get("CN");       // "device-0042"
//   leaf.not_after();               // std::chrono::system_clock::time_point
//
// Copies share the parsed certificate (cheap). OpenSSL stays out of this
// header; `native_handle()` gives the `X509*` to code that links OpenSSL.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
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

/// Limits on what the parsers accept.
struct parse_limits {
  std::size_t max_input_size = 1 << 20;      ///< bytes of PEM text or DER input
  std::size_t max_certificate_size = 65536;  ///< bytes of one certificate's DER
  std::size_t max_chain_length = 10;         ///< certificates in one chain
};

/// One attribute of a distinguished name, e.g. {"CN", "device-1"}.
struct name_entry {
  std::string type{};   ///< OpenSSL short name ("CN", "O", "serialNumber") or dotted OID
  std::string value{};  ///< UTF-8
  friend bool operator==(const name_entry&, const name_entry&) = default;
};

/// A distinguished name in the order of the certificate (most significant first).
struct distinguished_name {
  std::vector<name_entry> entries{};

  /// The first value of attribute `type` ("CN", "O", "OU", "C", "ST", "L",
  /// "serialNumber", "emailAddress", …), or an empty view.
  std::string_view get(std::string_view type) const noexcept;
  /// Every value of attribute `type`, in order.
  std::vector<std::string_view> get_all(std::string_view type) const;
  /// RFC 4514-style text, least significant first ("CN=a,O=b,C=DE").
  std::string to_string() const;
  friend bool operator==(const distinguished_name&, const distinguished_name&) = default;
};

/// The subject alternative names, by kind. IP addresses in text form.
struct alt_names {
  std::vector<std::string> dns{};
  std::vector<std::string> email{};
  std::vector<std::string> uri{};
  std::vector<std::string> ip{};
  std::vector<std::string> directory{};  ///< directory names as RFC 4514 text
  bool empty() const noexcept {
    return dns.empty() && email.empty() && uri.empty() && ip.empty() && directory.empty();
  }
};

enum class key_type { unknown, rsa, ec, ed25519, ed448, dsa };
std::string_view to_string(key_type t) noexcept;

/// Key usage bits (RFC 5280 section 4.2.1.3).
enum key_usage : std::uint32_t {
  digital_signature = 1u << 0,
  non_repudiation = 1u << 1,
  key_encipherment = 1u << 2,
  data_encipherment = 1u << 3,
  key_agreement = 1u << 4,
  key_cert_sign = 1u << 5,
  crl_sign = 1u << 6,
};

namespace detail {
struct certificate_data;
}
struct certificate_access;

/// A parsed certificate. Distinct objects: safe. Shared objects: safe (immutable).
class certificate {
 public:
  /// Parses one DER certificate; the whole input must be that certificate.
  static result<certificate> from_der(bytes_view der, const parse_limits& limits = {});
  /// Parses text holding exactly one "CERTIFICATE" PEM block (text around it is ignored).
  static result<certificate> from_pem(std::string_view pem, const parse_limits& limits = {});

  /// Lowercase hex SHA-256 of the DER (64 characters).
  const std::string& id() const noexcept;
  bytes_view der() const noexcept;
  std::string pem() const;

  int version() const noexcept;  ///< 1, 2 or 3
  const distinguished_name& subject() const noexcept;
  const distinguished_name& issuer() const noexcept;
  std::string_view common_name() const noexcept { return subject().get("CN"); }
  /// Serial number as lowercase hex without leading zeros ("-" prefix if negative).
  const std::string& serial() const noexcept;
  const alt_names& subject_alt_names() const noexcept;
  time_point not_before() const noexcept;
  time_point not_after() const noexcept;
  bool valid_at(time_point t) const noexcept { return not_before() <= t && t <= not_after(); }

  key_type public_key_type() const noexcept;
  int public_key_bits() const noexcept;
  /// The curve of an EC key ("prime256v1", "secp384r1"), else empty.
  const std::string& curve() const noexcept;
  /// Signature algorithm name ("sha256WithRSAEncryption", "ecdsa-with-SHA256").
  const std::string& signature_algorithm() const noexcept;

  bool is_ca() const noexcept;  ///< basicConstraints cA is true
  /// pathLenConstraint of a CA, if present.
  std::optional<int> path_length() const noexcept;
  /// Key usage bits, or nullopt when the extension is absent.
  std::optional<std::uint32_t> key_usages() const noexcept;
  /// Extended key usages as OpenSSL short names ("clientAuth") or dotted OIDs.
  const std::vector<std::string>& extended_key_usages() const noexcept;
  /// Subject and authority key identifiers as lowercase hex (empty when absent).
  const std::string& subject_key_id() const noexcept;
  const std::string& authority_key_id() const noexcept;
  bool self_issued() const noexcept;  ///< subject == issuer

  /// True when `issuer`'s public key verifies this certificate's signature and
  /// `issuer`'s subject is this certificate's issuer.
  bool issued_by(const certificate& issuer) const noexcept;

  /// The `X509*` (still owned by this object), for code that links OpenSSL.
  void* native_handle() const noexcept;
  /// Wraps an `X509*` (the reference count is incremented).
  static result<certificate> from_native(void* x509);

  friend bool operator==(const certificate& a, const certificate& b) noexcept {
    return a.id() == b.id();
  }

 private:
  friend struct certificate_access;
  explicit certificate(std::shared_ptr<const detail::certificate_data> d) noexcept
      : d_(std::move(d)) {}
  std::shared_ptr<const detail::certificate_data> d_;
};

/// Parses every "CERTIFICATE" block of PEM text, in order (a chain file,
/// leaf first). Errors carry the line and column of the fault.
result<std::vector<certificate>> parse_pem_chain(std::string_view pem,
                                                 const parse_limits& limits = {});
/// Parses concatenated DER certificates.
result<std::vector<certificate>> parse_der_chain(bytes_view der, const parse_limits& limits = {});
/// DER when the input starts with a SEQUENCE tag (0x30), otherwise PEM.
result<std::vector<certificate>> parse_chain(bytes_view input, const parse_limits& limits = {});
inline result<std::vector<certificate>> parse_chain(std::string_view input,
                                                    const parse_limits& limits = {}) {
  return parse_chain(as_bytes(input), limits);
}

/// The DER bodies of the "CERTIFICATE" blocks of PEM text, without parsing
/// them as certificates (what a TLS stack hands over is already DER).
result<std::vector<byte_buffer>> pem_to_der(std::string_view pem, const parse_limits& limits = {});

/// Lowercase hex SHA-256 of `der`: the id a certificate with that encoding has.
std::string certificate_id(bytes_view der);

}  // namespace iotblocks::x509

IOTBLOCKS_API_END
