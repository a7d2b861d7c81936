// Opening, the registration code, CA and device-certificate management.
#include <iotblocks/registry/registry.hpp>

#include "registry/impl.hpp"
#include "registry/sqlite_store.hpp"

#include <openssl/rand.h>

#include <fmt/format.h>

#include <algorithm>

namespace iotblocks::registry {

using lock = std::lock_guard<std::mutex>;

namespace detail {

std::shared_ptr<const certificate_record> registry_impl::with_things(
    const certificate_record& base) const {
  certificate_record rec = base;
  rec.things.clear();
  if (auto it = certificate_things.find(base.id()); it != certificate_things.end()) {
    for (const auto& name : it->second) {
      if (auto t = things.find(name); t != things.end()) rec.things.push_back(t->second);
    }
  }
  return make_record(std::move(rec));
}

void registry_impl::refresh(std::string_view id, certificate_status status,
                            std::int64_t updated_ms) {
  auto* rec = certificates.find(id);
  if (rec == nullptr) return;
  certificate_record base = **rec;
  base.status = status;
  base.updated_ms = updated_ms;
  *rec = with_things(base);
}

result<void> registry_impl::assign(stored_state state) {
  auto prefixed = [](failure f, std::string_view what) {
    f.message = fmt::format("{}: {}", what, f.message.empty() ? f.code.message() : f.message);
    return f;
  };
  x509::verifier new_trust;
  string_map<ca_record> new_cas;
  id_index new_certificates;
  for (auto& row : state.cas) {
    auto cert = x509::certificate::from_der(row.der);
    if (!cert) return prefixed(std::move(cert).take_failure(), "stored CA certificate");
    if (auto r = new_trust.add_trusted(*cert); !r) return std::move(r).take_failure();
    const std::string id = cert->id();
    new_cas.emplace(id, ca_record{std::move(*cert), row.status, row.auto_registration,
                                  row.registered_ms, row.updated_ms});
  }
  for (const auto& list : crls) {
    if (auto r = new_trust.add_crl(list); !r) return std::move(r).take_failure();
  }
  for (auto& row : state.certificates) {
    auto cert = x509::certificate::from_der(row.der);
    if (!cert) return prefixed(std::move(cert).take_failure(), "stored certificate");
    const std::string id = cert->id();
    new_certificates.put(
        id, make_record(certificate_record{
                std::move(*cert), row.ca_id, row.status, row.registered_ms, row.updated_ms, {}}));
  }
  registration_code = std::move(state.registration_code);
  trust = std::move(new_trust);
  cas = std::move(new_cas);
  certificates = std::move(new_certificates);
  things.clear();
  thing_principals.clear();
  certificate_things.clear();
  for (auto& t : state.things) {
    const std::string name = t.name;
    things.emplace(name, std::move(t));
  }
  for (auto& [thing_name, cert_id] : state.attachments) {
    thing_principals[thing_name].insert(cert_id);
    certificate_things[cert_id].insert(thing_name);
  }
  for (const auto& [cert_id, names] : certificate_things) {
    if (auto* rec = certificates.find(cert_id)) *rec = with_things(**rec);
  }
  cache = chain_cache(opts.cache_capacity);
  return {};
}

result<void> registry_impl::sync(bool write) {
  const auto now = std::chrono::steady_clock::now();
  if (!write && now - last_sync < opts.sync_interval) return {};
  last_sync = now;  // also when the store does not answer: reads retry once per interval
  auto changed = db->changed_elsewhere();
  if (!changed) return write ? result<void>{changed.fail()} : result<void>{};
  if (!*changed) return {};
  auto state = db->load();
  if (!state) return write ? result<void>{state.fail()} : result<void>{};
  auto r = assign(std::move(*state));
  generation.fetch_add(1, std::memory_order_acq_rel);
  return r;
}

}  // namespace detail

namespace {

failure fail(error e, failure_message message) { return failure{e, message, {}}; }

failure prefixed(failure f, std::string_view what) {
  f.message = fmt::format("{}: {}", what, f.message.empty() ? f.code.message() : f.message);
  return f;
}

result<void> check_transition(certificate_status from, certificate_status to) {
  if (to == certificate_status::pending_activation || to == certificate_status::pending_transfer) {
    return fail(error::invalid_status,
                fmt::format("{} is set by the registry only", to_string(to)));
  }
  if (from == certificate_status::revoked && to != certificate_status::revoked) {
    return fail(error::invalid_transition, "a REVOKED certificate stays REVOKED");
  }
  if (from == certificate_status::pending_transfer) {
    return fail(error::invalid_transition, "the certificate is PENDING_TRANSFER; end the transfer");
  }
  return {};
}

}  // namespace

registry::registry(std::unique_ptr<detail::registry_impl> impl) noexcept : d_(std::move(impl)) {}
registry::registry(registry&&) noexcept = default;
registry& registry::operator=(registry&&) noexcept = default;
registry::~registry() = default;

result<registry> registry::open(const std::string& path, options opts) {
  auto s = detail::sqlite_store::open(path);
  if (!s) return std::move(s).take_failure();
  return open(std::unique_ptr<store>(std::move(*s)), std::move(opts));
}

result<registry> registry::open(std::unique_ptr<store> s, options opts) {
  auto state = s->load();
  if (!state) return std::move(state).take_failure();
  auto d = std::make_unique<detail::registry_impl>(std::move(s), std::move(opts));
  if (auto r = d->assign(std::move(*state)); !r) return std::move(r).take_failure();
  d->last_sync = std::chrono::steady_clock::now();
  return registry{std::move(d)};
}

// batches

result<void> registry::begin_batch() {
  std::unique_lock gate(d_->gate);
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  if (auto r = d_->db->begin_batch(); !r) return r;
  d_->changes.begin_batch();
  gate.release();  // held until commit_batch() or rollback_batch()
  return {};
}

result<void> registry::commit_batch() {
  result<void> r;
  {
    std::unique_lock gate(d_->gate, std::adopt_lock);
    lock l{d_->mutex};
    r = d_->db->commit_batch();
    if (!r) {
      if (auto state = d_->db->load()) (void)d_->assign(std::move(*state));
      d_->generation.fetch_add(1, std::memory_order_acq_rel);
    }
  }
  d_->changes.end_batch(r.ok());
  return r;
}

void registry::rollback_batch() {
  std::unique_lock gate(d_->gate, std::adopt_lock);
  lock l{d_->mutex};
  d_->db->rollback_batch();
  if (auto state = d_->db->load()) (void)d_->assign(std::move(*state));
  d_->generation.fetch_add(1, std::memory_order_acq_rel);
  d_->changes.end_batch(false);
}

// registration code

result<std::string> registry::registration_code() {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  if (d_->registration_code) return *d_->registration_code;
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return fail(error::storage, "no randomness for the registration code");
  }
  std::string code = to_hex(bytes_view{reinterpret_cast<const std::byte*>(bytes), sizeof bytes});
  if (auto r = d_->db->set_registration_code(code); !r) return std::move(r).take_failure();
  d_->registration_code = code;
  return code;
}

result<void> registry::delete_registration_code() {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  if (auto r = d_->db->delete_registration_code(); !r) return r;
  d_->registration_code.reset();
  return {};
}

// CA certificates

result<std::string> registry::register_ca(std::string_view ca_pem,
                                          std::string_view verification_pem,
                                          const ca_registration& flags) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  auto& d = *d_;
  auto ca = x509::certificate::from_pem(ca_pem);
  if (!ca) return prefixed(std::move(ca).take_failure(), "CA certificate");
  if (!ca->is_ca()) {
    return fail(error::not_a_ca, "the certificate does not have basicConstraints cA=TRUE");
  }
  if (d.cas.contains(ca->id())) {
    return fail(error::already_exists, fmt::format("CA {} is registered already", ca->id()));
  }
  const time_point now = d.clock().now();
  x509::verify_options o = d.opts.verify;
  o.at = now;
  o.purpose = x509::purpose::any;
  o.host.clear();
  o.ip.clear();
  o.email.clear();
  x509::verifier self;
  if (auto r = self.add_trusted(*ca); !r) return std::move(r).take_failure();
  // The CA by itself: validity, key strength, extensions.
  if (auto r = self.verify(std::span<const x509::certificate>(&*ca, 1), o); !r) {
    return fail(error::ca_certificate_invalid, r.fail().message);
  }
  auto verification = x509::certificate::from_pem(verification_pem);
  if (!verification) {
    return prefixed(std::move(verification).take_failure(), "verification certificate");
  }
  if (!d.registration_code) {
    return fail(error::registration_code_mismatch,
                "this registry has no registration code yet: get one first");
  }
  if (verification->common_name() != *d.registration_code) {
    return fail(error::registration_code_mismatch,
                fmt::format("the verification certificate's CN '{}' is not the registration code",
                            verification->common_name().substr(0, 128)));
  }
  if (!verification->issued_by(*ca)) {
    return fail(error::verification_not_signed_by_ca,
                "the verification certificate was not signed by the CA's key");
  }
  if (!verification->valid_at(now)) {
    return fail(error::verification_certificate_invalid,
                "the verification certificate is expired or not yet valid");
  }
  // The CA as an issuer, with the verification certificate below it: the
  // checks (strict: keyUsage, SKI, critical basicConstraints) device chains get.
  if (auto r = self.verify(std::span<const x509::certificate>(&*verification, 1), o); !r) {
    return fail(error::ca_certificate_invalid,
                fmt::format("the CA cannot issue device certificates that verify: {}",
                            r.fail().message.view()));
  }
  const auto same_subject = std::count_if(d.cas.begin(), d.cas.end(), [&](const auto& kv) {
    return kv.second.certificate.subject() == ca->subject();
  });
  if (static_cast<std::size_t>(same_subject) >= d.opts.max_cas_per_subject) {
    return fail(error::too_many_cas_with_subject,
                fmt::format("{} CAs share the subject '{}' already", same_subject,
                            ca->subject().to_string()));
  }
  const std::int64_t ms = to_unix_ms(now);
  stored_ca row{to_buffer(ca->der()), flags.active ? ca_status::active : ca_status::inactive,
                flags.auto_registration, ms, ms};
  if (auto r = d.db->insert_ca(ca->id(), row); !r) return std::move(r).take_failure();
  if (auto r = d.trust.add_trusted(*ca); !r) return std::move(r).take_failure();
  std::string id = ca->id();
  d.cas.emplace(id, ca_record{std::move(*ca), row.status, row.auto_registration, ms, ms});
  return id;
}

result<void> registry::update_ca(std::string_view id, std::optional<ca_status> status,
                                 std::optional<bool> auto_registration) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  auto it = d_->cas.find(id);
  if (it == d_->cas.end()) return fail(error::not_found, fmt::format("no CA {}", id.substr(0, 64)));
  ca_record& ca = it->second;
  const ca_status new_status = status.value_or(ca.status);
  const bool new_auto = auto_registration.value_or(ca.auto_registration);
  if (new_status == ca.status && new_auto == ca.auto_registration) return {};
  const std::int64_t ms = d_->now_ms();
  if (auto r = d_->db->update_ca(id, new_status, new_auto, ms); !r) return r;
  ca.status = new_status;
  ca.auto_registration = new_auto;
  ca.updated_ms = ms;
  return {};
}

result<ca_record> registry::describe_ca(std::string_view id) const {
  detail::synced_lock l{*d_, false};
  auto it = d_->cas.find(id);
  if (it == d_->cas.end()) return fail(error::not_found, fmt::format("no CA {}", id.substr(0, 64)));
  return it->second;
}

std::vector<ca_record> registry::list_cas() const {
  detail::synced_lock l{*d_, false};
  std::vector<ca_record> out;
  for (const auto& [id, ca] : d_->cas) out.push_back(ca);
  std::sort(out.begin(), out.end(), [](const ca_record& a, const ca_record& b) {
    return std::tie(a.registered_ms, a.id()) < std::tie(b.registered_ms, b.id());
  });
  return out;
}

result<void> registry::delete_ca(std::string_view id) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  auto& d = *d_;
  auto it = d.cas.find(id);
  if (it == d.cas.end()) return fail(error::not_found, fmt::format("no CA {}", id.substr(0, 64)));
  if (it->second.status == ca_status::active) {
    return fail(error::invalid_transition, "deactivate the CA before deleting it");
  }
  std::string user;
  d.certificates.for_each([&](const auto& rec) {
    if (rec->ca_id == id) user = rec->id();
  });
  if (!user.empty()) {
    return fail(error::in_use, fmt::format("certificate {} was issued under this CA", user));
  }
  if (auto r = d.db->delete_ca(id); !r) return r;
  d.trust.remove_trusted(id);
  d.cache.clear();
  d.cas.erase(it);
  return {};
}

// device certificates

result<std::string> registry::register_certificate(std::string_view pem, certificate_status status,
                                                   std::string_view ca_pem) {
  // Parsed before the lock: OpenSSL's decoding is the costly part of a registration.
  auto cert = x509::certificate::from_pem(pem);
  if (!cert) return prefixed(std::move(cert).take_failure(), "certificate");
  std::optional<x509::certificate> ca;
  if (!ca_pem.empty()) {
    auto parsed = x509::certificate::from_pem(ca_pem);
    if (!parsed) return prefixed(std::move(parsed).take_failure(), "CA certificate");
    ca = std::move(*parsed);
  }
  return register_certificate(std::move(*cert), status, ca ? &*ca : nullptr);
}

result<std::string> registry::register_certificate(x509::certificate c, certificate_status status,
                                                   const x509::certificate* issuing_ca) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  auto& d = *d_;
  if (status == certificate_status::pending_activation ||
      status == certificate_status::pending_transfer) {
    return fail(error::invalid_status,
                fmt::format("{} is set by the registry only", to_string(status)));
  }
  auto* cert = &c;
  if (d.certificates.contains(cert->id())) {
    return fail(error::already_exists,
                fmt::format("certificate {} is registered already", cert->id()));
  }
  const ca_record* issuer = nullptr;
  if (issuing_ca != nullptr) {
    const auto* ca = issuing_ca;
    auto it = d.cas.find(ca->id());
    if (it == d.cas.end()) return fail(error::unknown_ca, "the given CA is not registered");
    if (!cert->issued_by(it->second.certificate)) {
      return fail(error::unknown_ca, "the certificate is not signed by the given CA");
    }
    issuer = &it->second;
  } else {
    for (const auto& [id, ca] : d.cas) {
      if (ca.certificate.subject() == cert->issuer() && cert->issued_by(ca.certificate)) {
        issuer = &ca;
        break;
      }
    }
    if (issuer == nullptr)
      return fail(error::unknown_ca, "no registered CA signed the certificate");
  }
  if (issuer->status == ca_status::inactive) {
    return fail(error::ca_inactive, fmt::format("CA {} is INACTIVE", issuer->id()));
  }
  const time_point now = d.clock().now();
  x509::verify_options o = d.opts.verify;
  o.at = now;
  if (auto r = d.trust.verify(std::span<const x509::certificate>(&*cert, 1), o); !r) {
    return prefixed(std::move(r).take_failure(), "certificate");
  }
  const std::int64_t ms = to_unix_ms(now);
  stored_certificate row{to_buffer(cert->der()), issuer->id(), status, ms, ms};
  if (auto r = d.db->insert_certificate(cert->id(), row); !r) return std::move(r).take_failure();
  std::string id = cert->id();
  d.certificates.put(
      id, d.make_record(certificate_record{std::move(*cert), row.ca_id, status, ms, ms, {}}));
  return id;
}

result<std::string> registry::register_certificate_without_ca(std::string_view pem,
                                                              certificate_status status) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  auto& d = *d_;
  if (status != certificate_status::active && status != certificate_status::inactive &&
      status != certificate_status::revoked) {
    return fail(error::invalid_status, "a certificate registers ACTIVE, INACTIVE or REVOKED");
  }
  auto cert = x509::certificate::from_pem(pem);
  if (!cert) return prefixed(std::move(cert).take_failure(), "certificate");
  if (d.certificates.contains(cert->id())) {
    return fail(error::already_exists,
                fmt::format("certificate {} is registered already", cert->id()));
  }
  // The certificate is its own trust anchor: validity now and the profile's checks.
  x509::verify_options o = d.opts.verify;
  o.at = d.clock().now();
  x509::verifier self;
  if (auto r = self.add_trusted(*cert); !r) return std::move(r).take_failure();
  if (auto r = self.verify(std::span<const x509::certificate>(&*cert, 1), o); !r) {
    return prefixed(std::move(r).take_failure(), "certificate");
  }
  const std::int64_t ms = to_unix_ms(*o.at);
  stored_certificate row{to_buffer(cert->der()), {}, status, ms, ms};
  if (auto r = d.db->insert_certificate(cert->id(), row); !r) return std::move(r).take_failure();
  std::string id = cert->id();
  d.certificates.put(id,
                     d.make_record(certificate_record{std::move(*cert), {}, status, ms, ms, {}}));
  return id;
}

namespace {

result<void> set_status(detail::registry_impl& d, std::string_view id, certificate_status to) {
  auto* rec = d.certificates.find(id);
  if (rec == nullptr) {
    return fail(error::not_found, fmt::format("no certificate {}", id.substr(0, 64)));
  }
  if ((*rec)->status == to) return {};
  const std::int64_t ms = d.now_ms();
  if (auto r = d.db->update_certificate(id, to, ms); !r) return r;
  d.refresh(id, to, ms);
  return {};
}

}  // namespace

result<void> registry::update_certificate(std::string_view id, certificate_status status) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  const auto* it = d_->certificates.find(id);
  if (it == nullptr) {
    return fail(error::not_found, fmt::format("no certificate {}", id.substr(0, 64)));
  }
  if (auto r = check_transition((*it)->status, status); !r) return r;
  return set_status(*d_, id, status);
}

result<void> registry::start_transfer(std::string_view id) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  const auto* it = d_->certificates.find(id);
  if (it == nullptr) {
    return fail(error::not_found, fmt::format("no certificate {}", id.substr(0, 64)));
  }
  if ((*it)->status != certificate_status::inactive) {
    return fail(error::invalid_transition, "only an INACTIVE certificate can be transferred");
  }
  return set_status(*d_, id, certificate_status::pending_transfer);
}

result<void> registry::end_transfer(std::string_view id, certificate_status next) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  const auto* it = d_->certificates.find(id);
  if (it == nullptr) {
    return fail(error::not_found, fmt::format("no certificate {}", id.substr(0, 64)));
  }
  if (next != certificate_status::active && next != certificate_status::inactive) {
    return fail(error::invalid_status, "a transfer ends ACTIVE or INACTIVE");
  }
  if ((*it)->status != certificate_status::pending_transfer) {
    return fail(error::invalid_transition, "the certificate is not PENDING_TRANSFER");
  }
  return set_status(*d_, id, next);
}

std::shared_ptr<const certificate_record> registry::find_certificate(std::string_view id) const {
  detail::synced_lock l{*d_, false};
  const auto* rec = d_->certificates.find(id);
  return rec == nullptr ? nullptr : *rec;
}

result<std::shared_ptr<const certificate_record>> registry::describe_certificate(
    std::string_view id) const {
  auto rec = find_certificate(id);
  if (!rec) return fail(error::not_found, fmt::format("no certificate {}", id.substr(0, 64)));
  return rec;
}

std::vector<std::shared_ptr<const certificate_record>> registry::list_certificates() const {
  detail::synced_lock l{*d_, false};
  std::vector<std::shared_ptr<const certificate_record>> out;
  out.reserve(d_->certificates.size());
  d_->certificates.for_each([&](const auto& rec) { out.push_back(rec); });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id() < b->id(); });
  return out;
}

std::vector<std::shared_ptr<const certificate_record>> registry::list_certificates_by_ca(
    std::string_view ca_id) const {
  detail::synced_lock l{*d_, false};
  std::vector<std::shared_ptr<const certificate_record>> out;
  d_->certificates.for_each([&](const auto& rec) {
    if (rec->ca_id == ca_id) out.push_back(rec);
  });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a->registered_ms, a->id()) < std::tie(b->registered_ms, b->id());
  });
  return out;
}

result<void> registry::delete_certificate(std::string_view id) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  auto& d = *d_;
  const auto* it = d.certificates.find(id);
  if (it == nullptr) {
    return fail(error::not_found, fmt::format("no certificate {}", id.substr(0, 64)));
  }
  const auto status = (*it)->status;
  if (status == certificate_status::active || status == certificate_status::pending_transfer) {
    return fail(error::invalid_transition,
                fmt::format("a {} certificate cannot be deleted", to_string(status)));
  }
  if (auto t = d.certificate_things.find(id);
      t != d.certificate_things.end() && !t->second.empty()) {
    return fail(error::in_use, "detach the things first");
  }
  if (auto r = d.db->delete_certificate(id); !r) return r;
  d.certificate_things.erase(std::string{id});
  d.certificates.erase(id);
  return {};
}

result<void> registry::add_crl(const x509::crl& list) {
  lock l{d_->mutex};
  if (auto r = d_->trust.add_crl(list); !r) return r;
  d_->crls.push_back(list);
  d_->cache.clear();
  return {};
}

void registry::clear_crls() {
  lock l{d_->mutex};
  d_->trust.clear_crls();
  d_->crls.clear();
  d_->cache.clear();
}

result<void> registry::refresh() {
  detail::synced_lock l{*d_, true};
  return l.status();
}

std::uint64_t registry::generation() const noexcept {
  return d_->generation.load(std::memory_order_acquire);
}

statistics registry::stats() const {
  lock l{d_->mutex};
  return d_->stats;
}

}  // namespace iotblocks::registry
