// Private: RAII for OpenSSL objects and the shapes behind the public pimpls.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/x509/certificate.hpp>
#include <iotblocks/x509/error.hpp>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::x509 {
namespace ossl {

template <class T, void (*Free)(T*)>
struct deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
inline void free_x509_stack(STACK_OF(X509) * s) noexcept { sk_X509_free(s); }
inline void free_x509_stack_owning(STACK_OF(X509) * s) noexcept { sk_X509_pop_free(s, X509_free); }
inline void free_bio(BIO* b) noexcept { BIO_free(b); }

using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using crl_ptr = std::unique_ptr<X509_CRL, deleter<X509_CRL, X509_CRL_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, free_bio>>;
using stack_ptr = std::unique_ptr<STACK_OF(X509), deleter<STACK_OF(X509), free_x509_stack>>;
using owning_stack_ptr =
    std::unique_ptr<STACK_OF(X509), deleter<STACK_OF(X509), free_x509_stack_owning>>;
using store_ptr = std::unique_ptr<X509_STORE, deleter<X509_STORE, X509_STORE_free>>;
using store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using name_ptr = std::unique_ptr<X509_NAME, deleter<X509_NAME, X509_NAME_free>>;
using asn1_integer_ptr = std::unique_ptr<ASN1_INTEGER, deleter<ASN1_INTEGER, ASN1_INTEGER_free>>;
using asn1_time_ptr = std::unique_ptr<ASN1_TIME, deleter<ASN1_TIME, ASN1_TIME_free>>;

/// The queued OpenSSL error text (and clears the queue); `fallback` if none.
std::string last_error(std::string_view fallback);

/// DER of an ASN.1 TIME as a time point; clamped to the range time_point can hold.
time_point to_time_point(const ASN1_TIME* t) noexcept;
/// Seconds since the epoch, for OpenSSL APIs that take time_t.
std::int64_t to_time_t(time_point t) noexcept;

distinguished_name to_name(const X509_NAME* n);
/// Serial number as lowercase hex ("-" prefix when negative).
std::string serial_hex(const ASN1_INTEGER* serial);
std::string lower_hex(const unsigned char* p, std::size_t n);

/// Parses one DER certificate that must span all of `der`; canonical DER
/// when `canonical` (re-encoding reproduces the input).
result<x509_ptr> parse_der(bytes_view der, bool canonical);

}  // namespace ossl

namespace detail {

/// Everything a certificate exposes, extracted once at parse time.
struct certificate_data {
  ossl::x509_ptr x;
  byte_buffer der;
  std::string id;
  int version = 0;
  distinguished_name subject;
  distinguished_name issuer;
  std::string serial;
  alt_names sans;
  time_point not_before;
  time_point not_after;
  key_type key = key_type::unknown;
  int key_bits = 0;
  std::string curve;
  std::string signature_algorithm;
  bool ca = false;
  std::optional<int> path_length;
  std::optional<std::uint32_t> key_usages;
  std::vector<std::string> extended_key_usages;
  std::string subject_key_id;
  std::string authority_key_id;
  bool self_issued = false;
};

/// Fills a certificate_data from a parsed X509 and its DER.
std::shared_ptr<const certificate_data> make_certificate_data(ossl::x509_ptr x, byte_buffer der);

}  // namespace detail

/// A certificate's shared data, for other translation units of the component.
struct certificate_access {
  static const detail::certificate_data& data(const certificate& c) noexcept;
  static certificate make(std::shared_ptr<const detail::certificate_data> d) noexcept;
};

}  // namespace iotblocks::x509
