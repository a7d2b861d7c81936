#include <iotblocks/x509/issue.hpp>

#include "x509/openssl.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <chrono>

namespace iotblocks::x509 {

namespace detail {
struct key_data {
  ossl::pkey_ptr k;
};
}  // namespace detail

namespace {

failure issue_error(std::string_view what) {
  return failure{error::issue_failed, ossl::last_error(what), {}};
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string{};
}

result<ossl::asn1_integer_ptr> serial_from_hex(std::string_view hex) {
  BIGNUM* bn = nullptr;
  const std::string text{hex};
  if (text.empty() || BN_hex2bn(&bn, text.c_str()) != static_cast<int>(text.size())) {
    BN_free(bn);
    ERR_clear_error();
    return failure{core::error::invalid_argument, fmt::format("invalid hex serial '{}'", hex), {}};
  }
  ossl::asn1_integer_ptr out{BN_to_ASN1_INTEGER(bn, nullptr)};
  BN_free(bn);
  if (!out) return issue_error("cannot encode the serial");
  return out;
}

result<ossl::asn1_integer_ptr> random_serial() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return issue_error("no randomness");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7F) | 0x40);  // positive, 16 bytes
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  ossl::asn1_integer_ptr out{BN_to_ASN1_INTEGER(bn, nullptr)};
  BN_free(bn);
  if (!out) return issue_error("cannot encode the serial");
  return out;
}

result<void> add_ext(X509* x, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (ext == nullptr) return issue_error(fmt::format("bad extension {}", value));
  const int ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return issue_error("cannot add extension");
  return {};
}

result<ossl::name_ptr> make_name(const distinguished_name& dn) {
  ossl::name_ptr name{X509_NAME_new()};
  for (const auto& e : dn.entries) {
    if (X509_NAME_add_entry_by_txt(name.get(), e.type.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(e.value.data()),
                                   static_cast<int>(e.value.size()), -1, 0) != 1) {
      ERR_clear_error();
      return failure{core::error::invalid_argument,
                     fmt::format("bad name attribute {}={}", e.type, e.value),
                     {}};
    }
  }
  return name;
}

const EVP_MD* digest_for(EVP_PKEY* key) noexcept {
  const int id = EVP_PKEY_get_base_id(key);
  return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? nullptr : EVP_sha256();
}

}  // namespace

std::string_view to_string(key_algorithm a) noexcept {
  switch (a) {
    case key_algorithm::rsa_2048: return "rsa2048";
    case key_algorithm::rsa_3072: return "rsa3072";
    case key_algorithm::p256: return "p256";
    case key_algorithm::p384: return "p384";
    case key_algorithm::ed25519: return "ed25519";
  }
  return "unknown";
}

result<key_algorithm> parse_key_algorithm(std::string_view name) {
  for (auto a : {key_algorithm::rsa_2048, key_algorithm::rsa_3072, key_algorithm::p256,
                 key_algorithm::p384, key_algorithm::ed25519}) {
    if (to_string(a) == name) return a;
  }
  return failure{
      core::error::invalid_argument,
      fmt::format("unknown key algorithm '{}' (rsa2048, rsa3072, p256, p384, ed25519)", name),
      {}};
}

// private_key

result<private_key> private_key::generate(key_algorithm algorithm) {
  EVP_PKEY* k = nullptr;
  switch (algorithm) {
    case key_algorithm::rsa_2048:
      k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
      break;
    case key_algorithm::rsa_3072:
      k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{3072});
      break;
    case key_algorithm::p256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case key_algorithm::p384: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case key_algorithm::ed25519: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
  }
  if (k == nullptr) return issue_error("key generation failed");
  auto d = std::make_shared<detail::key_data>();
  d->k.reset(k);
  return private_key{std::move(d)};
}

result<private_key> private_key::from_pem(std::string_view pem) {
  if (pem.size() > 1 << 20) return failure{error::too_large, "key file too large", {}};
  ossl::bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  // A password callback that refuses: encrypted keys fail instead of prompting.
  auto no_password = [](char*, int, int, void*) -> int { return 0; };
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr);
  if (k == nullptr) {
    return failure{error::invalid_key, ossl::last_error("no unencrypted private key"), {}};
  }
  auto d = std::make_shared<detail::key_data>();
  d->k.reset(k);
  return private_key{std::move(d)};
}

std::string private_key::pem() const {
  ossl::bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_PrivateKey(bio.get(), d_->k.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bio_text(bio.get());
}

key_type private_key::type() const noexcept {
  switch (EVP_PKEY_get_base_id(d_->k.get())) {
    case EVP_PKEY_RSA: return key_type::rsa;
    case EVP_PKEY_EC: return key_type::ec;
    case EVP_PKEY_ED25519: return key_type::ed25519;
    case EVP_PKEY_ED448: return key_type::ed448;
    case EVP_PKEY_DSA: return key_type::dsa;
    default: return key_type::unknown;
  }
}

int private_key::bits() const noexcept { return EVP_PKEY_get_bits(d_->k.get()); }

bool private_key::matches(const certificate& cert) const noexcept {
  const EVP_PKEY* pub = X509_get0_pubkey(static_cast<X509*>(cert.native_handle()));
  const bool ok = pub != nullptr && EVP_PKEY_eq(pub, d_->k.get()) == 1;
  ERR_clear_error();
  return ok;
}

void* private_key::native_handle() const noexcept { return d_->k.get(); }

// issuing

namespace {

/// The certificate for `subject_pkey` (a public key is enough), named `subject_name`
/// when given (else request.subject), signed with `signer_pkey` under `issuer` (null:
/// self-signed).
result<certificate> build(const certificate_request& request, EVP_PKEY* subject_pkey,
                          const X509_NAME* subject_name, const certificate* issuer,
                          EVP_PKEY* signer_pkey) {
  ossl::x509_ptr x{X509_new()};
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1) return issue_error("X509_new");
  auto serial = request.serial.empty() ? random_serial() : serial_from_hex(request.serial);
  if (!serial) return std::move(serial).take_failure();
  X509_set_serialNumber(x.get(), serial->get());

  auto name = make_name(request.subject);
  if (!name) return std::move(name).take_failure();
  if (subject_name != nullptr) {
    X509_set_subject_name(x.get(), subject_name);
  } else {
    X509_set_subject_name(x.get(), name->get());
  }
  X509_set_issuer_name(x.get(), issuer != nullptr ? X509_get_subject_name(
                                                        static_cast<X509*>(issuer->native_handle()))
                                                  : name->get());

  const time_point now = (request.clock != nullptr ? *request.clock : default_clock()).now();
  const time_point nb = request.not_before.value_or(now - std::chrono::minutes(1));
  const time_point na = request.not_after.value_or(now + std::chrono::hours(24) * request.days);
  ossl::asn1_time_ptr t1{ASN1_TIME_set(nullptr, static_cast<time_t>(ossl::to_time_t(nb)))};
  ossl::asn1_time_ptr t2{ASN1_TIME_set(nullptr, static_cast<time_t>(ossl::to_time_t(na)))};
  if (!t1 || !t2) return issue_error("bad validity");
  X509_set1_notBefore(x.get(), t1.get());
  X509_set1_notAfter(x.get(), t2.get());
  if (X509_set_pubkey(x.get(), subject_pkey) != 1) return issue_error("X509_set_pubkey");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? static_cast<X509*>(issuer->native_handle()) : x.get(),
                 x.get(), nullptr, nullptr, 0);
  std::string bc = request.ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (request.ca && request.path_length) bc += fmt::format(",pathlen:{}", *request.path_length);
  std::string ku =
      request.ca ? "critical,keyCertSign,cRLSign,digitalSignature" : "critical,digitalSignature";
  if (!request.ca && EVP_PKEY_get_base_id(subject_pkey) == EVP_PKEY_RSA) ku += ",keyEncipherment";
  std::string eku;
  if (request.client_auth) eku = "clientAuth";
  if (request.server_auth) eku += eku.empty() ? "serverAuth" : ",serverAuth";
  std::string san;
  for (const auto& dns : request.dns_names)
    san += fmt::format("{}DNS:{}", san.empty() ? "" : ",", dns);
  for (const auto& ip : request.ip_addresses)
    san += fmt::format("{}IP:{}", san.empty() ? "" : ",", ip);

  for (auto r : {add_ext(x.get(), &ctx, NID_basic_constraints, bc),
                 add_ext(x.get(), &ctx, NID_key_usage, ku),
                 add_ext(x.get(), &ctx, NID_subject_key_identifier, "hash"),
                 add_ext(x.get(), &ctx, NID_authority_key_identifier, "keyid:always")}) {
    if (!r) return std::move(r).take_failure();
  }
  if (!eku.empty()) {
    if (auto r = add_ext(x.get(), &ctx, NID_ext_key_usage, eku); !r)
      return std::move(r).take_failure();
  }
  if (!san.empty()) {
    if (auto r = add_ext(x.get(), &ctx, NID_subject_alt_name, san); !r)
      return std::move(r).take_failure();
  }
  if (X509_sign(x.get(), signer_pkey, digest_for(signer_pkey)) <= 0)
    return issue_error("X509_sign");
  // The signed X509 itself (encoded once): parsing its DER again would decode the key
  // again through OpenSSL's decoders, the costliest step of issuing.
  return certificate::from_native(x.get());
}

}  // namespace

result<certificate> issue(const certificate_request& request, const private_key& subject_key,
                          const certificate* issuer, const private_key* issuer_key) {
  if (issuer != nullptr && issuer_key == nullptr) {
    return failure{core::error::invalid_argument, "an issuer needs its private key", {}};
  }
  if (issuer != nullptr && !issuer_key->matches(*issuer)) {
    return failure{core::error::invalid_argument, "the issuer key does not match the issuer", {}};
  }
  const private_key& signer = issuer_key != nullptr ? *issuer_key : subject_key;
  return build(request, static_cast<EVP_PKEY*>(subject_key.native_handle()), nullptr, issuer,
               static_cast<EVP_PKEY*>(signer.native_handle()));
}

result<certificate> issue_from_csr(std::string_view csr_pem, const certificate_request& request,
                                   const certificate& issuer, const private_key& issuer_key) {
  if (!issuer_key.matches(issuer)) {
    return failure{core::error::invalid_argument, "the issuer key does not match the issuer", {}};
  }
  if (csr_pem.size() > 64 * 1024) {
    return failure{core::error::invalid_argument, "certificate signing request over 64 KiB", {}};
  }
  ossl::bio_ptr bio{BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size()))};
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req{
      bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr, X509_REQ_free};
  if (!req) {
    ERR_clear_error();
    return failure{
        core::error::invalid_argument, "not a PEM certificate signing request (PKCS#10)", {}};
  }
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  if (pub == nullptr || X509_REQ_verify(req.get(), pub) != 1) {
    ERR_clear_error();
    return failure{core::error::invalid_argument,
                   "the certificate signing request's signature does not verify",
                   {}};
  }
  return build(request, pub, X509_REQ_get_subject_name(req.get()), &issuer,
               static_cast<EVP_PKEY*>(issuer_key.native_handle()));
}

result<crl> issue_crl(const certificate& issuer, const private_key& issuer_key,
                      const std::vector<std::string>& revoked_serials, int days,
                      const iotblocks::clock* clock) {
  if (!issuer_key.matches(issuer)) {
    return failure{core::error::invalid_argument, "the issuer key does not match the issuer", {}};
  }
  auto* ix = static_cast<X509*>(issuer.native_handle());
  ossl::crl_ptr c{X509_CRL_new()};
  if (!c || X509_CRL_set_version(c.get(), X509_CRL_VERSION_2) != 1)
    return issue_error("X509_CRL_new");
  X509_CRL_set_issuer_name(c.get(), X509_get_subject_name(ix));
  const time_point now = (clock != nullptr ? *clock : default_clock()).now();
  ossl::asn1_time_ptr last{
      ASN1_TIME_set(nullptr, static_cast<time_t>(ossl::to_time_t(now - std::chrono::minutes(1))))};
  ossl::asn1_time_ptr next{ASN1_TIME_set(
      nullptr, static_cast<time_t>(ossl::to_time_t(now + std::chrono::hours(24) * days)))};
  X509_CRL_set1_lastUpdate(c.get(), last.get());
  X509_CRL_set1_nextUpdate(c.get(), next.get());
  for (const auto& hex : revoked_serials) {
    auto serial = serial_from_hex(hex);
    if (!serial) return std::move(serial).take_failure();
    X509_REVOKED* r = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(r, serial->get());
    X509_REVOKED_set_revocationDate(r, last.get());
    X509_CRL_add0_revoked(c.get(), r);
  }
  X509_CRL_sort(c.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ix, nullptr, nullptr, c.get(), 0);
  X509_EXTENSION* aki =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always");
  if (aki == nullptr) return issue_error("CRL authority key identifier");
  X509_CRL_add_ext(c.get(), aki, -1);
  X509_EXTENSION_free(aki);
  ossl::asn1_integer_ptr number{ASN1_INTEGER_new()};
  ASN1_INTEGER_set(number.get(), 1);
  if (X509_CRL_add1_ext_i2d(c.get(), NID_crl_number, number.get(), 0, 0) != 1) {
    return issue_error("CRL number");
  }
  auto* key = static_cast<EVP_PKEY*>(issuer_key.native_handle());
  if (X509_CRL_sign(c.get(), key, digest_for(key)) <= 0) return issue_error("X509_CRL_sign");
  const int n = i2d_X509_CRL(c.get(), nullptr);
  if (n <= 0) return issue_error("i2d_X509_CRL");
  byte_buffer der(static_cast<std::size_t>(n));
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509_CRL(c.get(), &out);
  return crl::from_der(der);
}

}  // namespace iotblocks::x509
