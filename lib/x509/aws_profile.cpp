#include "x509/aws_profile.hpp"

#include <iotblocks/x509/error.hpp>
#include <iotblocks/x509/verifier.hpp>

#include "x509/openssl.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace iotblocks::x509 {

std::string_view to_string(profile p) noexcept { return p == profile::strict ? "strict" : "aws"; }

std::optional<profile> parse_profile(std::string_view name) noexcept {
  if (name == "aws") return profile::aws;
  if (name == "strict") return profile::strict;
  return std::nullopt;
}

namespace aws_profile {
namespace {

constexpr int min_rsa_bits = 2048;

failure reject(error e, int depth, X509* x, std::string_view why) {
  return failure{
      e,
      fmt::format("{} (depth {}, {}; AWS IoT accepts RSA >= 2048 bits or ECDSA "
                  "P-256/P-384/P-521, signed with SHA-256/384/512)",
                  why, depth, ossl::to_name(X509_get_subject_name(x)).to_string().substr(0, 256)),
      {}};
}

std::string curve_of(EVP_PKEY* key) {
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, "group", name, sizeof name, &len) != 1) {
    ERR_clear_error();
    return {};
  }
  return std::string(name, len);
}

}  // namespace

result<void> check_certificate(X509* x, int depth) {
  EVP_PKEY* key = X509_get0_pubkey(x);
  if (key == nullptr) {
    ERR_clear_error();
    return reject(error::invalid_certificate, depth, x, "public key cannot be decoded");
  }
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      if (EVP_PKEY_get_bits(key) < min_rsa_bits) {
        return reject(error::weak_key, depth, x,
                      fmt::format("RSA key of {} bits", EVP_PKEY_get_bits(key)));
      }
      break;
    case EVP_PKEY_EC: {
      const std::string curve = curve_of(key);
      if (curve != "prime256v1" && curve != "secp384r1" && curve != "secp521r1") {
        return reject(error::weak_key, depth, x,
                      fmt::format("EC key on curve '{}'", curve.empty() ? "unknown" : curve));
      }
      break;
    }
    default:
      return reject(error::invalid_certificate, depth, x,
                    fmt::format("public key algorithm {} not accepted",
                                OBJ_nid2sn(EVP_PKEY_get_base_id(key))));
  }
  const int sig = X509_get_signature_nid(x);
  switch (sig) {
    case NID_sha256WithRSAEncryption:
    case NID_sha384WithRSAEncryption:
    case NID_sha512WithRSAEncryption:
    case NID_rsassaPss:
    case NID_ecdsa_with_SHA256:
    case NID_ecdsa_with_SHA384:
    case NID_ecdsa_with_SHA512: return {};
    default:
      return reject(error::weak_key, depth, x,
                    fmt::format("signature algorithm {} not accepted",
                                sig == NID_undef ? "unknown" : OBJ_nid2sn(sig)));
  }
}

}  // namespace aws_profile
}  // namespace iotblocks::x509
