#include <iotblocks/x509/certificate.hpp>

#include "x509/openssl.hpp"
#include "x509/pem.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <limits>

namespace iotblocks::x509 {

// ossl helpers

namespace ossl {

std::string last_error(std::string_view fallback) {
  std::string text;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    if (text.empty()) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      const char* reason = ERR_reason_error_string(e);
      text = reason != nullptr ? reason : buf;
    }
  }
  return text.empty() ? std::string{fallback} : text;
}

time_point to_time_point(const ASN1_TIME* t) noexcept {
  if (t == nullptr) return time_point{};
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return time_point{};
  const std::int64_t secs = static_cast<std::int64_t>(timegm(&tm));
  using dur = time_point::duration;
  constexpr std::int64_t max_secs =
      std::chrono::duration_cast<std::chrono::seconds>(dur::max()).count() - 1;
  if (secs >= max_secs) return time_point::max();
  if (secs <= -max_secs) return time_point::min();
  return time_point{std::chrono::duration_cast<dur>(std::chrono::seconds(secs))};
}

std::int64_t to_time_t(time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string lower_hex(const unsigned char* p, std::size_t n) {
  return to_hex(bytes_view{reinterpret_cast<const std::byte*>(p), n});
}

distinguished_name to_name(const X509_NAME* n) {
  distinguished_name out;
  if (n == nullptr) return out;
  const int count = X509_NAME_entry_count(n);
  out.entries.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(n, i);
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
    name_entry entry;
    const int nid = OBJ_obj2nid(obj);
    if (nid != NID_undef && OBJ_nid2sn(nid) != nullptr) {
      entry.type = OBJ_nid2sn(nid);
    } else {
      char buf[128];
      const int len = OBJ_obj2txt(buf, sizeof buf, obj, 1);
      entry.type.assign(buf, static_cast<std::size_t>(std::clamp(len, 0, 127)));
    }
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(e);
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0) {
      entry.value.assign(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
      OPENSSL_free(utf8);
    } else {
      ERR_clear_error();
      entry.value = "#" + lower_hex(ASN1_STRING_get0_data(data),
                                    static_cast<std::size_t>(ASN1_STRING_length(data)));
    }
    out.entries.push_back(std::move(entry));
  }
  return out;
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  if (bn == nullptr) {
    ERR_clear_error();
    return {};
  }
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c + 32 : c); });
  // BN_bn2hex pads to whole bytes; drop leading zeros as the doc promises.
  const std::size_t sign = !out.empty() && out[0] == '-' ? 1 : 0;
  std::size_t first = sign;
  while (first + 1 < out.size() && out[first] == '0') ++first;
  out.erase(sign, first - sign);
  return out;
}

namespace {

const EVP_MD* sha256() noexcept {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// Parses one certificate at `p`; on success `p` points past it.
result<x509_ptr> parse_one(const unsigned char*& p, std::size_t remaining, bool canonical,
                           std::size_t base_offset) {
  const unsigned char* start = p;
  x509_ptr x{d2i_X509(nullptr, &p, static_cast<long>(remaining))};
  if (!x) {
    p = start;
    return failure{error::invalid_der, last_error("not a DER certificate"), at_offset(base_offset)};
  }
  if (canonical) {
    const auto size = static_cast<std::size_t>(p - start);
    const int n = i2d_X509(x.get(), nullptr);
    std::vector<unsigned char> again(static_cast<std::size_t>(std::max(n, 0)));
    unsigned char* out = again.data();
    if (n <= 0 || static_cast<std::size_t>(n) != size || i2d_X509(x.get(), &out) != n ||
        std::memcmp(again.data(), start, size) != 0) {
      ERR_clear_error();
      return failure{error::not_canonical_der,
                     "certificate is not canonical DER (its id would be ambiguous)",
                     at_offset(base_offset)};
    }
  }
  return x;
}

}  // namespace

result<x509_ptr> parse_der(bytes_view der, bool canonical) {
  if (der.empty()) return failure{error::no_certificate, "empty input", {}};
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = p + der.size();
  auto x = parse_one(p, der.size(), canonical, 0);
  if (!x) return x;
  if (p != end) {
    return failure{error::invalid_der, "trailing bytes after the certificate",
                   at_offset(static_cast<std::size_t>(
                       p - reinterpret_cast<const unsigned char*>(der.data())))};
  }
  return x;
}

}  // namespace ossl

// distinguished_name

std::string_view distinguished_name::get(std::string_view type) const noexcept {
  for (const auto& e : entries) {
    if (e.type == type) return e.value;
  }
  return {};
}

std::vector<std::string_view> distinguished_name::get_all(std::string_view type) const {
  std::vector<std::string_view> out;
  for (const auto& e : entries) {
    if (e.type == type) out.emplace_back(e.value);
  }
  return out;
}

std::string distinguished_name::to_string() const {
  std::string out;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (!out.empty()) out.push_back(',');
    out += it->type;
    out.push_back('=');
    const std::string& v = it->value;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const char c = v[i];
      const bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' ||
                           c == ';' || (i == 0 && (c == '#' || c == ' ')) ||
                           (i + 1 == v.size() && c == ' ');
      if (c == '\0') {
        out += "\\00";
        continue;
      }
      if (special) out.push_back('\\');
      out.push_back(c);
    }
  }
  return out;
}

std::string_view to_string(key_type t) noexcept {
  switch (t) {
    case key_type::rsa: return "RSA";
    case key_type::ec: return "EC";
    case key_type::ed25519: return "ED25519";
    case key_type::ed448: return "ED448";
    case key_type::dsa: return "DSA";
    case key_type::unknown: break;
  }
  return "unknown";
}

// certificate data

namespace detail {
namespace {

alt_names read_alt_names(X509* x) {
  alt_names out;
  auto* gens =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (gens == nullptr) {
    ERR_clear_error();
    return out;
  }
  auto text = [](const ASN1_STRING* s) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
  };
  for (int i = 0; i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(gens, i);
    switch (g->type) {
      case GEN_DNS: out.dns.push_back(text(g->d.dNSName)); break;
      case GEN_EMAIL: out.email.push_back(text(g->d.rfc822Name)); break;
      case GEN_URI: out.uri.push_back(text(g->d.uniformResourceIdentifier)); break;
      case GEN_IPADD: {
        const ASN1_OCTET_STRING* ip = g->d.iPAddress;
        char buf[INET6_ADDRSTRLEN] = {};
        const int len = ASN1_STRING_length(ip);
        const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
        if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof buf)) {
          out.ip.emplace_back(buf);
        } else {
          out.ip.push_back("#" + ossl::lower_hex(ASN1_STRING_get0_data(ip),
                                                 static_cast<std::size_t>(std::max(len, 0))));
        }
        break;
      }
      case GEN_DIRNAME:
        out.directory.push_back(ossl::to_name(g->d.directoryName).to_string());
        break;
      default: break;
    }
  }
  GENERAL_NAMES_free(gens);
  return out;
}

std::vector<std::string> read_ekus(X509* x) {
  std::vector<std::string> out;
  auto* eku =
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr));
  if (eku == nullptr) {
    ERR_clear_error();
    return out;
  }
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) {
    const ASN1_OBJECT* obj = sk_ASN1_OBJECT_value(eku, i);
    const int nid = OBJ_obj2nid(obj);
    if (nid != NID_undef) {
      out.emplace_back(OBJ_nid2sn(nid));
    } else {
      char buf[128];
      const int len = OBJ_obj2txt(buf, sizeof buf, obj, 1);
      out.emplace_back(buf, static_cast<std::size_t>(std::clamp(len, 0, 127)));
    }
  }
  EXTENDED_KEY_USAGE_free(eku);
  return out;
}

std::uint32_t map_key_usage(std::uint32_t ossl_bits) noexcept {
  std::uint32_t out = 0;
  if (ossl_bits & KU_DIGITAL_SIGNATURE) out |= digital_signature;
  if (ossl_bits & KU_NON_REPUDIATION) out |= non_repudiation;
  if (ossl_bits & KU_KEY_ENCIPHERMENT) out |= key_encipherment;
  if (ossl_bits & KU_DATA_ENCIPHERMENT) out |= data_encipherment;
  if (ossl_bits & KU_KEY_AGREEMENT) out |= key_agreement;
  if (ossl_bits & KU_KEY_CERT_SIGN) out |= key_cert_sign;
  if (ossl_bits & KU_CRL_SIGN) out |= crl_sign;
  return out;
}

}  // namespace

std::shared_ptr<const certificate_data> make_certificate_data(ossl::x509_ptr x, byte_buffer der) {
  auto d = std::make_shared<certificate_data>();
  X509* c = x.get();
  d->id = certificate_id(der);
  d->version = static_cast<int>(X509_get_version(c)) + 1;
  d->subject = ossl::to_name(X509_get_subject_name(c));
  d->issuer = ossl::to_name(X509_get_issuer_name(c));
  d->serial = ossl::serial_hex(X509_get0_serialNumber(c));
  d->sans = read_alt_names(c);
  d->not_before = ossl::to_time_point(X509_get0_notBefore(c));
  d->not_after = ossl::to_time_point(X509_get0_notAfter(c));
  if (EVP_PKEY* pk = X509_get0_pubkey(c)) {
    switch (EVP_PKEY_get_base_id(pk)) {
      case EVP_PKEY_RSA:
      case EVP_PKEY_RSA_PSS: d->key = key_type::rsa; break;
      case EVP_PKEY_EC: d->key = key_type::ec; break;
      case EVP_PKEY_ED25519: d->key = key_type::ed25519; break;
      case EVP_PKEY_ED448: d->key = key_type::ed448; break;
      case EVP_PKEY_DSA: d->key = key_type::dsa; break;
      default: break;
    }
    d->key_bits = EVP_PKEY_get_bits(pk);
    char group[80] = {};
    std::size_t len = 0;
    if (d->key == key_type::ec && EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
                                                                 group, sizeof group, &len) == 1) {
      d->curve.assign(group, std::min(len, sizeof group - 1));
    }
  }
  ERR_clear_error();
  const int sig_nid = X509_get_signature_nid(c);
  if (sig_nid != NID_undef && OBJ_nid2ln(sig_nid) != nullptr) {
    d->signature_algorithm = OBJ_nid2ln(sig_nid);
  } else {
    const X509_ALGOR* alg = nullptr;
    X509_get0_signature(nullptr, &alg, c);
    const ASN1_OBJECT* obj = nullptr;
    if (alg != nullptr) X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
    char buf[128] = {};
    if (obj != nullptr) OBJ_obj2txt(buf, sizeof buf, obj, 1);
    d->signature_algorithm = buf;
  }
  const std::uint32_t flags = X509_get_extension_flags(c);
  d->ca = (flags & EXFLAG_CA) != 0;
  if (d->ca && X509_get_pathlen(c) >= 0) d->path_length = static_cast<int>(X509_get_pathlen(c));
  if (flags & EXFLAG_KUSAGE) d->key_usages = map_key_usage(X509_get_key_usage(c));
  d->extended_key_usages = read_ekus(c);
  if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(c)) {
    d->subject_key_id = ossl::lower_hex(ASN1_STRING_get0_data(ski),
                                        static_cast<std::size_t>(ASN1_STRING_length(ski)));
  }
  if (const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(c)) {
    d->authority_key_id = ossl::lower_hex(ASN1_STRING_get0_data(aki),
                                          static_cast<std::size_t>(ASN1_STRING_length(aki)));
  }
  d->self_issued = X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)) == 0;
  ERR_clear_error();
  d->x = std::move(x);
  d->der = std::move(der);
  return d;
}

}  // namespace detail

const detail::certificate_data& certificate_access::data(const certificate& c) noexcept {
  return *c.d_;
}
certificate certificate_access::make(std::shared_ptr<const detail::certificate_data> d) noexcept {
  return certificate{std::move(d)};
}

// certificate

result<certificate> certificate::from_der(bytes_view der, const parse_limits& limits) {
  if (der.size() > limits.max_certificate_size) {
    return failure{error::too_large,
                   fmt::format("certificate larger than {} bytes", limits.max_certificate_size),
                   {}};
  }
  auto x = ossl::parse_der(der, true);
  if (!x) return std::move(x).take_failure();
  return certificate{detail::make_certificate_data(std::move(*x), to_buffer(der))};
}

result<certificate> certificate::from_pem(std::string_view pem, const parse_limits& limits) {
  auto chain = parse_pem_chain(pem, limits);
  if (!chain) return std::move(chain).take_failure();
  if (chain->size() != 1) {
    return failure{error::too_many_certificates,
                   fmt::format("expected one certificate, found {}", chain->size()),
                   {}};
  }
  return std::move(chain->front());
}

const std::string& certificate::id() const noexcept { return d_->id; }
bytes_view certificate::der() const noexcept { return d_->der; }
std::string certificate::pem() const { return pem::encode(d_->der, "CERTIFICATE"); }
int certificate::version() const noexcept { return d_->version; }
const distinguished_name& certificate::subject() const noexcept { return d_->subject; }
const distinguished_name& certificate::issuer() const noexcept { return d_->issuer; }
const std::string& certificate::serial() const noexcept { return d_->serial; }
const alt_names& certificate::subject_alt_names() const noexcept { return d_->sans; }
time_point certificate::not_before() const noexcept { return d_->not_before; }
time_point certificate::not_after() const noexcept { return d_->not_after; }
key_type certificate::public_key_type() const noexcept { return d_->key; }
int certificate::public_key_bits() const noexcept { return d_->key_bits; }
const std::string& certificate::curve() const noexcept { return d_->curve; }
const std::string& certificate::signature_algorithm() const noexcept {
  return d_->signature_algorithm;
}
bool certificate::is_ca() const noexcept { return d_->ca; }
std::optional<int> certificate::path_length() const noexcept { return d_->path_length; }
std::optional<std::uint32_t> certificate::key_usages() const noexcept { return d_->key_usages; }
const std::vector<std::string>& certificate::extended_key_usages() const noexcept {
  return d_->extended_key_usages;
}
const std::string& certificate::subject_key_id() const noexcept { return d_->subject_key_id; }
const std::string& certificate::authority_key_id() const noexcept { return d_->authority_key_id; }
bool certificate::self_issued() const noexcept { return d_->self_issued; }
void* certificate::native_handle() const noexcept { return d_->x.get(); }

bool certificate::issued_by(const certificate& issuer) const noexcept {
  X509* x = d_->x.get();
  X509* ix = issuer.d_->x.get();
  if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ix)) != 0) return false;
  EVP_PKEY* key = X509_get0_pubkey(ix);
  const bool ok = key != nullptr && X509_verify(x, key) == 1;
  ERR_clear_error();
  return ok;
}

result<certificate> certificate::from_native(void* native) {
  auto* x = static_cast<X509*>(native);
  if (x == nullptr) return failure{error::no_certificate, "null X509", {}};
  const int n = i2d_X509(x, nullptr);
  if (n <= 0) return failure{error::invalid_der, ossl::last_error("cannot encode"), {}};
  byte_buffer der(static_cast<std::size_t>(n));
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(x, &out);
  X509_up_ref(x);
  return certificate{detail::make_certificate_data(ossl::x509_ptr{x}, std::move(der))};
}

// chains

result<std::vector<certificate>> parse_pem_chain(std::string_view pem, const parse_limits& limits) {
  if (pem.size() > limits.max_input_size) {
    return failure{
        error::too_large, fmt::format("input larger than {} bytes", limits.max_input_size), {}};
  }
  auto blocks = pem::scan(pem, "CERTIFICATE", limits.max_chain_length, limits.max_certificate_size);
  if (!blocks) return std::move(blocks).take_failure();
  if (blocks->empty()) {
    return failure{error::no_certificate, "no '-----BEGIN CERTIFICATE-----' block", {}};
  }
  std::vector<certificate> out;
  out.reserve(blocks->size());
  for (auto& b : *blocks) {
    auto x = ossl::parse_der(b.der, true);
    if (!x) {
      failure f = std::move(x).take_failure();
      f.message = fmt::format("certificate {}: {}", out.size() + 1,
                              f.message.empty() ? f.code.message() : std::string{f.message.view()});
      f.where = position_in(pem, b.offset);
      return f;
    }
    out.push_back(
        certificate_access::make(detail::make_certificate_data(std::move(*x), std::move(b.der))));
  }
  return out;
}

result<std::vector<certificate>> parse_der_chain(bytes_view der, const parse_limits& limits) {
  if (der.size() > limits.max_input_size) {
    return failure{
        error::too_large, fmt::format("input larger than {} bytes", limits.max_input_size), {}};
  }
  if (der.empty()) return failure{error::no_certificate, "empty input", {}};
  std::vector<certificate> out;
  const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
  const auto* p = begin;
  const auto* end = begin + der.size();
  while (p != end) {
    const auto offset = static_cast<std::size_t>(p - begin);
    if (out.size() == limits.max_chain_length) {
      return failure{error::too_many_certificates,
                     fmt::format("more than {} certificates", limits.max_chain_length),
                     at_offset(offset)};
    }
    const auto* start = p;
    auto x = ossl::parse_one(p, static_cast<std::size_t>(end - p), true, offset);
    if (!x) return std::move(x).take_failure();
    const auto size = static_cast<std::size_t>(p - start);
    if (size > limits.max_certificate_size) {
      return failure{error::too_large,
                     fmt::format("certificate larger than {} bytes", limits.max_certificate_size),
                     at_offset(offset)};
    }
    out.push_back(certificate_access::make(
        detail::make_certificate_data(std::move(*x), to_buffer(der.subspan(offset, size)))));
  }
  return out;
}

result<std::vector<certificate>> parse_chain(bytes_view input, const parse_limits& limits) {
  // DER starts with a SEQUENCE tag; anything else is treated as PEM text.
  if (!input.empty() && input[0] == std::byte{0x30}) return parse_der_chain(input, limits);
  return parse_pem_chain(as_string_view(input), limits);
}

result<std::vector<byte_buffer>> pem_to_der(std::string_view pem, const parse_limits& limits) {
  if (pem.size() > limits.max_input_size) {
    return failure{
        error::too_large, fmt::format("input larger than {} bytes", limits.max_input_size), {}};
  }
  auto blocks = pem::scan(pem, "CERTIFICATE", limits.max_chain_length, limits.max_certificate_size);
  if (!blocks) return std::move(blocks).take_failure();
  if (blocks->empty()) {
    return failure{error::no_certificate, "no '-----BEGIN CERTIFICATE-----' block", {}};
  }
  std::vector<byte_buffer> out;
  for (auto& b : *blocks) out.push_back(std::move(b.der));
  return out;
}

std::string certificate_id(bytes_view der) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(der.data(), der.size(), md, &len, ossl::sha256(), nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  return ossl::lower_hex(md, len);
}

}  // namespace iotblocks::x509
