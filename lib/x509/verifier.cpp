#include <iotblocks/x509/verifier.hpp>

#include "x509/aws_profile.hpp"
#include "x509/openssl.hpp"
#include "x509/pem.hpp"
#include "x509/strict.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace iotblocks::x509 {

namespace detail {

struct crl_data {
  ossl::crl_ptr c;
  byte_buffer der;
  distinguished_name issuer;
  time_point this_update;
  std::optional<time_point> next_update;
};

struct verifier_data {
  ossl::store_ptr store{X509_STORE_new()};
  std::vector<certificate> trusted;
  /// Strict-mode verdict on each trusted certificate as a chain's anchor,
  /// computed once (empty message: fine).
  std::vector<std::optional<failure>> anchor_verdicts;
  std::unordered_map<std::string, std::size_t> by_id;
  std::unordered_map<const X509*, std::size_t> by_ptr;
  std::vector<crl> crls;

  void index() {
    by_id.clear();
    by_ptr.clear();
    anchor_verdicts.clear();
    for (std::size_t i = 0; i < trusted.size(); ++i) {
      anchor_verdicts.push_back(verdict(trusted[i]));
      by_id.emplace(trusted[i].id(), i);
      by_ptr.emplace(static_cast<const X509*>(trusted[i].native_handle()), i);
    }
  }
  static std::optional<failure> verdict(const certificate& c) {
    auto r = strict::check_certificate(static_cast<X509*>(c.native_handle()), -1, false, true);
    return r ? std::nullopt : std::optional<failure>{r.fail()};
  }
  void rebuild() {
    store.reset(X509_STORE_new());
    for (const auto& c : trusted)
      X509_STORE_add_cert(store.get(), static_cast<X509*>(c.native_handle()));
    for (const auto& l : crls)
      X509_STORE_add_crl(store.get(), static_cast<X509_CRL*>(l.native_handle()));
    ERR_clear_error();
    index();
  }
};

}  // namespace detail

// crl

struct crl_access {
  static crl make(std::shared_ptr<const detail::crl_data> d) { return crl{std::move(d)}; }
};

namespace {

result<crl> make_crl(bytes_view der, const parse_limits& limits) {
  if (der.empty()) return failure{error::invalid_der, "empty CRL", {}};
  if (der.size() > limits.max_input_size) {
    return failure{
        error::too_large, fmt::format("CRL larger than {} bytes", limits.max_input_size), {}};
  }
  const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
  const auto* p = begin;
  ossl::crl_ptr c{d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()))};
  if (!c) return failure{error::invalid_der, ossl::last_error("not a DER CRL"), at_offset(0)};
  if (p != begin + der.size()) {
    return failure{error::invalid_der, "trailing bytes after the CRL",
                   at_offset(static_cast<std::size_t>(p - begin))};
  }
  auto d = std::make_shared<detail::crl_data>();
  d->issuer = ossl::to_name(X509_CRL_get_issuer(c.get()));
  d->this_update = ossl::to_time_point(X509_CRL_get0_lastUpdate(c.get()));
  if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(c.get())) {
    d->next_update = ossl::to_time_point(next);
  }
  d->c = std::move(c);
  d->der = to_buffer(der);
  return crl_access::make(std::move(d));
}

}  // namespace

result<crl> crl::from_der(bytes_view der, const parse_limits& limits) {
  return make_crl(der, limits);
}

result<crl> crl::from_pem(std::string_view text, const parse_limits& limits) {
  if (text.size() > limits.max_input_size) {
    return failure{
        error::too_large, fmt::format("input larger than {} bytes", limits.max_input_size), {}};
  }
  auto blocks = pem::scan(text, "X509 CRL", 1, limits.max_input_size);
  if (!blocks) return std::move(blocks).take_failure();
  if (blocks->empty())
    return failure{error::invalid_pem, "no '-----BEGIN X509 CRL-----' block", {}};
  return make_crl(blocks->front().der, limits);
}

bytes_view crl::der() const noexcept { return d_->der; }
std::string crl::pem() const { return pem::encode(d_->der, "X509 CRL"); }
const distinguished_name& crl::issuer() const noexcept { return d_->issuer; }
time_point crl::this_update() const noexcept { return d_->this_update; }
std::optional<time_point> crl::next_update() const noexcept { return d_->next_update; }
void* crl::native_handle() const noexcept { return d_->c.get(); }

std::vector<std::string> crl::revoked_serials() const {
  std::vector<std::string> out;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(d_->c.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    out.push_back(
        ossl::serial_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i))));
  }
  return out;
}

// verification

namespace {

error map_verify_error(int e) noexcept {
  switch (e) {
    case X509_V_ERR_CERT_HAS_EXPIRED: return error::expired;
    case X509_V_ERR_CERT_NOT_YET_VALID: return error::not_yet_valid;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED: return error::untrusted;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: return error::bad_signature;
    case X509_V_ERR_CERT_REVOKED: return error::revoked;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD: return error::crl_unavailable;
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED: return error::chain_too_long;
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE: return error::purpose_mismatch;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return error::name_mismatch;
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK: return error::weak_key;
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
    case X509_V_ERR_SUBTREE_MINMAX:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
    case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX: return error::name_constraint_violation;
    default: return error::invalid_certificate;
  }
}

// crl_check::if_present: a certificate whose issuer published no CRL passes.
int soft_crl_callback(int ok, X509_STORE_CTX* ctx) {
  if (ok == 0 && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL) return 1;
  return ok;
}

std::string describe_cert(X509* x) {
  if (x == nullptr) return "no certificate";
  const std::string name = ossl::to_name(X509_get_subject_name(x)).to_string();
  return name.empty() ? std::string{"empty subject"} : name.substr(0, 256);
}

}  // namespace

namespace detail {

result<verified_chain> run_verify(const verifier_data& d, X509* leaf, STACK_OF(X509) * untrusted,
                                  const verify_options& o) {
  ossl::store_ctx_ptr ctx{X509_STORE_CTX_new()};
  if (!ctx || X509_STORE_CTX_init(ctx.get(), d.store.get(), leaf, untrusted) != 1) {
    return failure{error::invalid_certificate, ossl::last_error("cannot set up verification"), {}};
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  unsigned long flags = 0;
  const bool strict = o.profile == profile::strict;
  if (strict) flags |= X509_V_FLAG_X509_STRICT;
  if (o.partial_chain) flags |= X509_V_FLAG_PARTIAL_CHAIN;
  const bool use_crls =
      o.crls == crl_check::required || (o.crls == crl_check::if_present && !d.crls.empty());
  if (use_crls) flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  if (!o.check_time) flags |= X509_V_FLAG_NO_CHECK_TIME;
  X509_VERIFY_PARAM_set_flags(param, flags);
  if (o.check_time) {
    const time_point at = o.at ? *o.at : (o.clock != nullptr ? *o.clock : default_clock()).now();
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(ossl::to_time_t(at)));
  }
  X509_VERIFY_PARAM_set_depth(param, std::max(o.max_intermediates, 0));
  X509_VERIFY_PARAM_set_auth_level(param, o.auth_level);
  if (o.purpose != purpose::any) {
    X509_STORE_CTX_set_purpose(ctx.get(), o.purpose == purpose::tls_client
                                              ? X509_PURPOSE_SSL_CLIENT
                                              : X509_PURPOSE_SSL_SERVER);
  }
  if (!o.host.empty()) {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                               (strict ? X509_CHECK_FLAG_NEVER_CHECK_SUBJECT : 0u));
    X509_VERIFY_PARAM_set1_host(param, o.host.data(), o.host.size());
  }
  if (!o.ip.empty() && X509_VERIFY_PARAM_set1_ip_asc(param, o.ip.c_str()) != 1) {
    ERR_clear_error();
    return failure{error::name_mismatch, fmt::format("'{}' is not an IP address", o.ip), {}};
  }
  if (!o.email.empty()) X509_VERIFY_PARAM_set1_email(param, o.email.data(), o.email.size());
  if (use_crls && o.crls == crl_check::if_present) {
    X509_STORE_CTX_set_verify_cb(ctx.get(), &soft_crl_callback);
  }

  const int rc = X509_verify_cert(ctx.get());
  if (rc != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    std::string msg = fmt::format("{} (depth {}, {})", X509_verify_cert_error_string(err), depth,
                                  describe_cert(X509_STORE_CTX_get_current_cert(ctx.get())));
    ERR_clear_error();
    return failure{
        err == X509_V_OK ? error::invalid_certificate : map_verify_error(err), std::move(msg), {}};
  }
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
  const int n = sk_X509_num(built);
  X509* anchor = sk_X509_value(built, n - 1);
  const auto anchor_index = d.by_ptr.find(anchor);
  if (o.profile == profile::aws) {
    for (int i = 0; i < n; ++i) {
      if (auto r = aws_profile::check_certificate(sk_X509_value(built, i), i); !r) return r.fail();
    }
  }
  if (strict) {
    for (int i = 0; i + 1 < n; ++i) {
      if (auto r = strict::check_certificate(sk_X509_value(built, i), i, i == 0, false); !r)
        return r.fail();
    }
    if (n == 1 || anchor_index == d.by_ptr.end()) {
      if (auto r = strict::check_certificate(anchor, n - 1, n == 1, true); !r) return r.fail();
    } else if (const auto& v = d.anchor_verdicts[anchor_index->second]) {
      failure f = *v;  // recorded with depth -1
      const std::string_view m = f.message.view();
      if (const auto at = m.find("(depth -1"); at != std::string_view::npos) {
        f.message = fmt::format("{}(depth {}{}", m.substr(0, at), n - 1, m.substr(at + 9));
      }
      return f;
    }
  }
  std::optional<certificate> anchor_cert;
  if (anchor_index != d.by_ptr.end()) {
    anchor_cert = d.trusted[anchor_index->second];
  } else {
    auto copy = certificate::from_native(anchor);
    if (!copy) return std::move(copy).take_failure();
    auto by_id = d.by_id.find(copy->id());
    anchor_cert = by_id != d.by_id.end() ? d.trusted[by_id->second] : std::move(*copy);
  }
  verified_chain out{.anchor = std::move(*anchor_cert),
                     .length = static_cast<std::size_t>(n),
                     .not_before = time_point::min(),
                     .not_after = time_point::max()};
  out.not_before = out.anchor.not_before();
  out.not_after = out.anchor.not_after();
  for (int i = 0; i + 1 < n; ++i) {
    X509* x = sk_X509_value(built, i);
    out.not_before = std::max(out.not_before, ossl::to_time_point(X509_get0_notBefore(x)));
    out.not_after = std::min(out.not_after, ossl::to_time_point(X509_get0_notAfter(x)));
  }
  return out;
}

}  // namespace detail

verifier::verifier() : d_(std::make_unique<detail::verifier_data>()) {}
verifier::verifier(verifier&&) noexcept = default;
verifier& verifier::operator=(verifier&&) noexcept = default;
verifier::~verifier() = default;

result<void> verifier::add_trusted(const certificate& ca) {
  if (d_->by_id.contains(ca.id())) return {};
  if (X509_STORE_add_cert(d_->store.get(), static_cast<X509*>(ca.native_handle())) != 1) {
    return failure{
        error::invalid_certificate, ossl::last_error("cannot add to the trust store"), {}};
  }
  d_->trusted.push_back(ca);
  d_->anchor_verdicts.push_back(detail::verifier_data::verdict(ca));
  d_->by_id.emplace(ca.id(), d_->trusted.size() - 1);
  d_->by_ptr.emplace(static_cast<const X509*>(ca.native_handle()), d_->trusted.size() - 1);
  return {};
}

bool verifier::remove_trusted(std::string_view id) {
  auto it = d_->by_id.find(std::string{id});
  if (it == d_->by_id.end()) return false;
  d_->trusted.erase(d_->trusted.begin() + static_cast<std::ptrdiff_t>(it->second));
  d_->rebuild();
  return true;
}

const certificate* verifier::find_trusted(std::string_view id) const noexcept {
  auto it = d_->by_id.find(std::string{id});
  return it == d_->by_id.end() ? nullptr : &d_->trusted[it->second];
}

std::vector<certificate> verifier::trusted() const { return d_->trusted; }
std::size_t verifier::size() const noexcept { return d_->trusted.size(); }

result<void> verifier::add_crl(const crl& list) {
  // A CRL replaces the one loaded before from the same issuer.
  auto* c = static_cast<X509_CRL*>(list.native_handle());
  const auto same_issuer = [c](const class crl& other) {
    return X509_NAME_cmp(X509_CRL_get_issuer(static_cast<X509_CRL*>(other.native_handle())),
                         X509_CRL_get_issuer(c)) == 0;
  };
  if (std::any_of(d_->crls.begin(), d_->crls.end(), same_issuer)) {
    std::erase_if(d_->crls, same_issuer);
    d_->crls.push_back(list);
    d_->rebuild();
    return {};
  }
  if (X509_STORE_add_crl(d_->store.get(), c) != 1) {
    return failure{error::invalid_der, ossl::last_error("cannot add the CRL"), {}};
  }
  d_->crls.push_back(list);
  return {};
}

void verifier::clear_crls() {
  d_->crls.clear();
  d_->rebuild();
}

std::size_t verifier::crl_count() const noexcept { return d_->crls.size(); }

result<verified_chain> verifier::verify(std::span<const bytes_view> chain,
                                        const verify_options& options) const {
  if (chain.empty()) return failure{error::no_certificate, "empty chain", {}};
  if (chain.size() > options.limits.max_chain_length) {
    return failure{error::too_many_certificates,
                   fmt::format("more than {} certificates", options.limits.max_chain_length),
                   {}};
  }
  ossl::owning_stack_ptr untrusted{sk_X509_new_reserve(nullptr, static_cast<int>(chain.size()))};
  ossl::x509_ptr leaf;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    if (chain[i].size() > options.limits.max_certificate_size) {
      return failure{error::too_large, fmt::format("certificate {} is too large", i + 1), {}};
    }
    auto x = ossl::parse_der(chain[i], false);
    if (!x) {
      failure f = std::move(x).take_failure();
      f.message = fmt::format("certificate {}: {}", i + 1, f.message.view());
      return f;
    }
    if (i == 0) {
      leaf = std::move(*x);
    } else {
      sk_X509_push(untrusted.get(), x->release());
    }
  }
  return detail::run_verify(*d_, leaf.get(), untrusted.get(), options);
}

result<verified_chain> verifier::verify(std::span<const certificate> chain,
                                        const verify_options& options) const {
  if (chain.empty()) return failure{error::no_certificate, "empty chain", {}};
  if (chain.size() > options.limits.max_chain_length) {
    return failure{error::too_many_certificates,
                   fmt::format("more than {} certificates", options.limits.max_chain_length),
                   {}};
  }
  ossl::stack_ptr untrusted{sk_X509_new_reserve(nullptr, static_cast<int>(chain.size()))};
  for (std::size_t i = 1; i < chain.size(); ++i) {
    sk_X509_push(untrusted.get(), static_cast<X509*>(chain[i].native_handle()));
  }
  return detail::run_verify(*d_, static_cast<X509*>(chain[0].native_handle()), untrusted.get(),
                            options);
}

}  // namespace iotblocks::x509
