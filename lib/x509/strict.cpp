#include "x509/strict.hpp"

#include "x509/openssl.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <string_view>

namespace iotblocks::x509::strict {
namespace {

failure reject(int depth, X509* x, std::string_view why) {
  return failure{error::invalid_certificate,
                 fmt::format("{} (depth {}, {})", why, depth,
                             ossl::to_name(X509_get_subject_name(x)).to_string().substr(0, 256)),
                 {}};
}

// RFC 1034 preferred name syntax (LDH labels), with a wildcard allowed only
// as the whole left-most label of an end-entity name.
bool valid_dns_name(std::string_view name, bool allow_wildcard) noexcept {
  if (name.empty() || name.size() > 253) return false;
  if (allow_wildcard && name.starts_with("*.")) name.remove_prefix(2);
  std::size_t label = 0;
  char prev = '.';
  for (const char c : name) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && !(c == '-' && label > 0) && c != '_') return false;
      if (++label > 63) return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

// Every extension OpenSSL knows must decode.
bool extensions_decode(X509* x) {
  for (int i = 0; i < X509_get_ext_count(x); ++i) {
    X509_EXTENSION* ext = X509_get_ext(x, i);
    const X509V3_EXT_METHOD* method = X509V3_EXT_get(ext);
    if (method == nullptr) continue;
    void* value = X509V3_EXT_d2i(ext);
    if (value == nullptr) {
      ERR_clear_error();
      return false;
    }
    if (method->it != nullptr) {
      ASN1_item_free(static_cast<ASN1_VALUE*>(value), ASN1_ITEM_ptr(method->it));
    } else if (method->ext_free != nullptr) {
      method->ext_free(value);
    }
  }
  return true;
}

bool allowed_key(X509* x) noexcept {
  EVP_PKEY* key = X509_get0_pubkey(x);
  if (key == nullptr) return false;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
    case EVP_PKEY_EC:
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448: return true;
    default: return false;
  }
}

result<void> check_names(int depth, X509* x, bool leaf) {
  int critical = -1;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &critical, nullptr));
  if (sans == nullptr) {
    ERR_clear_error();
    return {};
  }
  result<void> r;
  if (critical == 1 && X509_NAME_entry_count(X509_get_subject_name(x)) > 0) {
    r = reject(depth, x, "subjectAltName is critical although the subject is not empty");
  }
  for (int i = 0; r && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    if (g->type == GEN_DNS) {
      const std::string_view name{
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
          static_cast<std::size_t>(ASN1_STRING_length(g->d.dNSName))};
      if (!valid_dns_name(name, leaf)) r = reject(depth, x, "malformed DNS name in subjectAltName");
    } else if (g->type == GEN_IPADD) {
      const int len = ASN1_STRING_length(g->d.iPAddress);
      if (len != 4 && len != 16) r = reject(depth, x, "malformed IP address in subjectAltName");
    }
  }
  GENERAL_NAMES_free(sans);
  return r;
}

result<void> check_name_constraints(int depth, X509* x, bool ca) {
  int critical = -1;
  auto* nc =
      static_cast<NAME_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_name_constraints, &critical, nullptr));
  if (nc == nullptr) {
    ERR_clear_error();
    return critical == -1 ? result<void>{} : reject(depth, x, "malformed nameConstraints");
  }
  const bool empty = sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) <= 0 &&
                     sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) <= 0;
  NAME_CONSTRAINTS_free(nc);
  if (!ca) return reject(depth, x, "nameConstraints in a certificate that is not a CA");
  if (empty) return reject(depth, x, "nameConstraints without permitted or excluded subtrees");
  return {};
}

result<void> check_authority_key_id(int depth, X509* x, bool anchor) {
  if (X509_get_ext_by_NID(x, NID_authority_key_identifier, -1) < 0) return {};
  const ASN1_OCTET_STRING* keyid = X509_get0_authority_key_id(x);
  if (keyid == nullptr) return reject(depth, x, "authorityKeyIdentifier without keyIdentifier");
  if (X509_get0_authority_issuer(x) != nullptr || X509_get0_authority_serial(x) != nullptr) {
    return reject(depth, x, "authorityKeyIdentifier names an issuer and serial");
  }
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(x);
  if (anchor && ski != nullptr && ASN1_OCTET_STRING_cmp(keyid, ski) != 0 &&
      X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0) {
    EVP_PKEY* own = X509_get0_pubkey(x);
    const bool self_signed = own != nullptr && X509_verify(x, own) == 1;
    ERR_clear_error();
    if (self_signed) return reject(depth, x, "self-signed certificate whose AKI is not its SKI");
  }
  return {};
}

}  // namespace

result<void> check_certificate(X509* x, int depth, bool leaf, bool anchor) {
  const bool ca = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
  if (!allowed_key(x)) return reject(depth, x, "public key algorithm not allowed (RSA, EC, EdDSA)");
  if (!extensions_decode(x)) return reject(depth, x, "malformed extension");
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x);
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER || ASN1_STRING_length(serial) > 20 ||
      ASN1_STRING_length(serial) == 0 ||
      (ASN1_STRING_length(serial) == 1 && ASN1_STRING_get0_data(serial)[0] == 0)) {
    return reject(depth, x, "serial number is not a positive integer of at most 20 octets");
  }
  if (ca && (X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
      (X509_get_key_usage(x) & KU_KEY_CERT_SIGN) == 0) {
    return reject(depth, x, "CA certificate whose keyUsage lacks keyCertSign");
  }
  if (auto r = check_names(depth, x, leaf); !r) return r;
  if (auto r = check_name_constraints(depth, x, ca); !r) return r;
  return check_authority_key_id(depth, x, anchor);
}

}  // namespace iotblocks::x509::strict
