// Authentication of presented chains, just-in-time registration and its event.
#include <iotblocks/registry/registry.hpp>

#include "core/json.hpp"
#include "registry/impl.hpp"

#include <fmt/format.h>

namespace iotblocks::registry {
namespace {

registration_event make_event(const detail::registry_impl& d, const std::string& certificate_id,
                              const std::string& ca_id, std::int64_t now_ms,
                              std::int64_t registered_ms) {
  registration_event e;
  e.topic = "$aws/events/certificates/registered/" + ca_id;
  e.certificate_id = certificate_id;
  e.ca_certificate_id = ca_id;
  e.timestamp_ms = now_ms;
  e.registration_timestamp_ms = registered_ms;
  // The shape AWS IoT publishes: timestamp is a number (ms), the registration
  // timestamp a string of milliseconds.
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("certificateId", json::string_value(certificate_id, a), a);
  doc.AddMember("caCertificateId", json::string_value(ca_id, a), a);
  doc.AddMember("timestamp", rapidjson::Value(static_cast<std::int64_t>(now_ms)), a);
  doc.AddMember("certificateStatus", "PENDING_ACTIVATION", a);
  doc.AddMember("awsAccountId", json::string_value(d.opts.account_id, a), a);
  doc.AddMember("certificateRegistrationTimestamp",
                json::string_value(std::to_string(registered_ms), a), a);
  e.payload = json::write(doc);
  return e;
}

void reject(authentication& out, std::error_code reason, std::string_view message) {
  out.reason = reason;
  out.message = message;
}

// Decides for a chain that verified (now or earlier) up to the CA `anchor_id`.
// `parsed` is the leaf when at hand; a cached chain is re-parsed only to register it.
void decide(detail::registry_impl& d, const std::string& leaf_id, bytes_view leaf_der,
            const x509::certificate* parsed, const std::string& anchor_id, time_point now,
            authentication& out) {
  if (const auto* known = d.certificates.find(leaf_id)) {
    out.principal = *known;
    switch ((*known)->status) {
      case certificate_status::active: return;
      case certificate_status::inactive:
        return reject(out, error::certificate_inactive, "the certificate is INACTIVE");
      case certificate_status::revoked:
        return reject(out, error::certificate_revoked, "the certificate is REVOKED");
      case certificate_status::pending_transfer:
        return reject(out, error::certificate_pending_transfer,
                      "the certificate is PENDING_TRANSFER");
      case certificate_status::pending_activation:
        out.event =
            make_event(d, leaf_id, (*known)->ca_id, to_unix_ms(now), (*known)->registered_ms);
        return reject(out, error::pending_activation,
                      "the certificate is PENDING_ACTIVATION: activate it to connect");
    }
    return;
  }
  auto ca = d.cas.find(anchor_id);
  if (ca == d.cas.end()) {
    return reject(out, error::certificate_unknown, "the chain ends at an unregistered certificate");
  }
  if (ca->second.status == ca_status::inactive) {
    return reject(
        out, error::ca_inactive,
        fmt::format("the certificate is not registered and CA {} is INACTIVE", anchor_id));
  }
  if (!ca->second.auto_registration) {
    return reject(out, error::auto_registration_disabled,
                  fmt::format("the certificate is not registered and CA {} does not "
                              "auto-register",
                              anchor_id));
  }
  std::optional<x509::certificate> reparsed;
  if (parsed == nullptr) {
    auto c = x509::certificate::from_der(leaf_der, d.opts.verify.limits);
    if (!c) return reject(out, c.error(), c.fail().message);
    reparsed = std::move(*c);
    parsed = &*reparsed;
  }
  const std::int64_t ms = to_unix_ms(now);
  stored_certificate row{to_buffer(leaf_der), anchor_id, certificate_status::pending_activation, ms,
                         ms};
  if (auto r = d.db->insert_certificate(leaf_id, row); !r) {
    return reject(out, r.error(), r.fail().message);
  }
  auto rec = d.make_record(
      certificate_record{*parsed, anchor_id, certificate_status::pending_activation, ms, ms, {}});
  d.certificates.put(leaf_id, rec);
  ++d.stats.registrations;
  out.principal = std::move(rec);
  out.event = make_event(d, leaf_id, anchor_id, ms, ms);
  reject(out, error::pending_activation,
         "the certificate was registered PENDING_ACTIVATION; activate it to connect");
}

}  // namespace

authentication registry::authenticate(std::span<const bytes_view> chain) {
  detail::synced_lock l{*d_, false, true};  // gated: it may register a certificate
  auto& d = *d_;
  ++d.stats.authentications;
  authentication out;
  if (chain.empty()) {
    reject(out, x509::error::no_certificate, "no certificate presented");
    return out;
  }
  const time_point now = d.clock().now();
  if (const detail::cached_chain* hit = d.cache.find(chain)) {
    ++d.stats.cache_hits;
    if (now < hit->not_before) {
      reject(out, x509::error::not_yet_valid, "a certificate of the chain is not yet valid");
    } else if (now > hit->not_after) {
      reject(out, x509::error::expired, "a certificate of the chain has expired");
    } else {
      decide(d, hit->leaf_id, chain.front(), nullptr, hit->anchor_id, now, out);
    }
    return out;
  }
  ++d.stats.chain_verifications;
  x509::verify_options o = d.opts.verify;
  o.at = now;
  if (chain.size() > o.limits.max_chain_length) {
    reject(out, x509::error::too_many_certificates,
           fmt::format("more than {} certificates", o.limits.max_chain_length));
    return out;
  }
  // Parsed once: the verifier works on these, and the leaf's fields are kept.
  std::vector<x509::certificate> parsed;
  parsed.reserve(chain.size());
  for (const auto& der : chain) {
    auto c = x509::certificate::from_der(der, o.limits);
    if (!c) {
      reject(out, c.error(),
             fmt::format("certificate {}: {}", parsed.size() + 1, c.fail().message.view()));
      return out;
    }
    parsed.push_back(std::move(*c));
  }
  if (const auto* known = d.certificates.find(parsed.front().id());
      known != nullptr && (*known)->ca_id.empty()) {
    // Registered without a CA: the leaf alone is verified, as its own anchor.
    const x509::certificate& leaf = parsed.front();
    x509::verifier self;
    if (auto r = self.add_trusted(leaf); !r) {
      reject(out, r.error(), r.fail().message);
      return out;
    }
    auto v = self.verify(std::span<const x509::certificate>(&leaf, 1), o);
    if (!v) {
      reject(out, v.error(), v.fail().message);
      return out;
    }
    d.cache.insert(chain, leaf.id(), leaf.id(), v->not_before, v->not_after);
    decide(d, leaf.id(), chain.front(), &leaf, leaf.id(), now, out);
    return out;
  }
  auto verified = d.trust.verify(std::span<const x509::certificate>(parsed), o);
  if (!verified) {
    reject(out, verified.error(), verified.fail().message);
    return out;
  }
  const x509::certificate& leaf = parsed.front();
  const std::string anchor_id = verified->anchor.id();
  d.cache.insert(chain, leaf.id(), anchor_id, verified->not_before, verified->not_after);
  decide(d, leaf.id(), chain.front(), &leaf, anchor_id, now, out);
  return out;
}

authentication registry::authenticate(std::span<const x509::certificate> chain) {
  std::vector<bytes_view> ders;
  ders.reserve(chain.size());
  for (const auto& c : chain) ders.push_back(c.der());
  return authenticate(std::span<const bytes_view>(ders));
}

}  // namespace iotblocks::registry
