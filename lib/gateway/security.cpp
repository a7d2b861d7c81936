// TLS authentication through the registry, passwords, and policy sessions per connection.
#include "gateway/security.hpp"
#include "gateway/enhanced_auth.hpp"
#include "gateway/provisioning_plane.hpp"
#include "gateway/shared_stores.hpp"

#include <iotblocks/core/error.hpp>
#include <iotblocks/policy/context.hpp>
#include <iotblocks/policy/document.hpp>

#include <openssl/x509_vfy.h>

#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

namespace iotblocks::gateway {

/// What the broker keeps per connection (client_info::principal).
struct security::connection_state {
  std::mutex mutex;
  /// The policies attached in the store (certificate, default policies), or
  std::optional<policy::session> session;
  /// policies that came with the credentials (a custom authorizer's answer, an access
  /// key's policy); null with `session` unset: every action is allowed (a key without policy).
  std::shared_ptr<const policy::policy_set> fixed;
  /// A custom authorizer's decision in force (its refreshes replace it), or null.
  std::shared_ptr<const custom_auth::grant> grant;
  std::shared_ptr<const custom_auth::decision> held;  ///< keeps decide()'s policy alive
  policy::context fixed_ctx;
  connection_state(const policy::store& s, std::string principal, policy::context ctx)
      : session(std::in_place, s, std::move(principal), std::move(ctx)) {}
  connection_state(std::shared_ptr<const policy::policy_set> p, policy::context ctx)
      : fixed(std::move(p)), fixed_ctx(std::move(ctx)) {}
  connection_state(std::shared_ptr<const custom_auth::grant> g, policy::context ctx)
      : grant(std::move(g)), fixed_ctx(std::move(ctx)) {}
  const policy::context& ctx() const noexcept { return session ? session->ctx() : fixed_ctx; }
  /// The decision, with the deciding statement for the operator log (`mutex` held).
  policy::decision decide(const policy::request& r) {
    if (session) return session->authorize(r);
    if (grant) {
      held = grant->current();
      return policy::evaluate(held->policies, r, fixed_ctx);
    }
    if (!fixed) return {policy::outcome::allowed};  // a key without policy
    return policy::evaluate(*fixed, r, fixed_ctx);
  }
  bool allowed(const policy::request& r) { return decide(r).allowed(); }
};

namespace {

/// peer_info::identity of a client whose WebSocket URL was presigned with an access key.
constexpr std::string_view sigv4_identity = "aws-sigv4:";

/// A WebSocket upgrade request as custom authentication reads it.
std::optional<custom_auth::http_request> ws_request(
    const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers) {
  if (target.empty()) return std::nullopt;
  custom_auth::http_request r;
  if (const auto q = target.find('?'); q != std::string::npos) r.query = target.substr(q + 1);
  r.headers = headers;
  return r;
}
std::optional<custom_auth::http_request> ws_request(const broker::peer_info* peer) {
  if (peer == nullptr) return std::nullopt;
  return ws_request(peer->ws_target, peer->ws_headers);
}

/// The X509_V_ERR_* code OpenSSL gives for a chain verification error (0: none fits).
int openssl_verify_error(std::error_code e) {
  if (e == registry::error::certificate_revoked) return X509_V_ERR_CERT_REVOKED;
  if (e == registry::error::unknown_ca) return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
  if (e.category() != x509::error_category()) return 0;
  switch (static_cast<x509::error>(e.value())) {
    case x509::error::untrusted: return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    case x509::error::expired: return X509_V_ERR_CERT_HAS_EXPIRED;
    case x509::error::not_yet_valid: return X509_V_ERR_CERT_NOT_YET_VALID;
    case x509::error::bad_signature: return X509_V_ERR_CERT_SIGNATURE_FAILURE;
    case x509::error::revoked: return X509_V_ERR_CERT_REVOKED;
    case x509::error::chain_too_long: return X509_V_ERR_CERT_CHAIN_TOO_LONG;
    case x509::error::purpose_mismatch: return X509_V_ERR_INVALID_PURPOSE;
    case x509::error::name_constraint_violation: return X509_V_ERR_PERMITTED_VIOLATION;
    default: return 0;
  }
}

void add_names(policy::distinguished_name& out, const x509::distinguished_name& dn) {
  for (const auto& e : dn.entries) {
    if (auto a = policy::find_dn_attribute(e.type)) out.add(*a, e.value);
  }
}

/// iot:Certificate.* variables of the device certificate.
void add_certificate(policy::context& ctx, const x509::certificate& c) {
  add_names(ctx.subject, c.subject());
  add_names(ctx.issuer, c.issuer());
  const auto& san = c.subject_alt_names();
  using t = policy::alt_name_type;
  for (const auto& v : san.dns) ctx.subject.add(t::dns_name, v);
  for (const auto& v : san.email) ctx.subject.add(t::rfc822_name, v);
  for (const auto& v : san.uri) ctx.subject.add(t::uniform_resource_identifier, v);
  for (const auto& v : san.ip) ctx.subject.add(t::ip_address, v);
  for (const auto& v : san.directory) ctx.subject.add(t::directory_name, v);
  ctx.serial_number = c.serial();
  ctx.certificate_id = c.id();
  ctx.extra.push_back(
      {"iot:Certificate.Validity.NotBefore", {std::to_string(to_unix_ms(c.not_before()))}});
  ctx.extra.push_back(
      {"iot:Certificate.Validity.NotAfter", {std::to_string(to_unix_ms(c.not_after()))}});
}

result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return failure{core::error::io_error, "cannot read " + path, {}};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool registry_enabled(const config& cfg) noexcept {
  for (const auto& l : cfg.listeners) {
    if ((l.type == "mqtts" || l.type == "wss") &&
        (l.tls.request_client_cert || l.tls.require_client_cert)) {
      return true;
    }
  }
  return false;
}

security::security(const config& cfg, broker::broker& b, operator_log& log)
    : cfg_(cfg), broker_(b), log_(log) {}
security::~security() = default;

bool security::passwords_enabled() const noexcept { return users_ && !users_->empty(); }

void security::changed() noexcept {
  if (policies_) policies_->invalidate();
}

result<void> security::open(const std::filesystem::path& dir) {
  registry::options ro;
  ro.account_id = cfg_.aws.account_id;
  ro.verify.profile = cfg_.certificate_profile;
  auto reg = detail::open_registry(cfg_.registry_store, dir, std::move(ro));
  if (!reg) return failure{reg.error(), "registry: " + reg.describe(), {}};
  reg_.emplace(std::move(*reg));
  auto store = detail::open_policy_store(cfg_.policy_store, dir);
  if (!store) return failure{store.error(), "policy store: " + store.describe(), {}};
  policies_.emplace(std::move(*store));
  auto users = detail::user_store::open((dir / "users.db").string(), password_iterations);
  if (!users) return failure{users.error(), "users: " + users.describe(), {}};
  users_ = std::move(*users);

  // Config policies: created, or a new default version when the text changed.
  for (const auto& p : cfg_.policies) {
    auto info = policies_->get_policy(p.name);
    if (!info) {
      auto made = policies_->create_policy(p.name, p.json);
      if (!made) return failure{made.error(), "policy " + p.name + ": " + made.describe(), {}};
      continue;
    }
    const auto& versions = info->versions;
    bool same = false;
    for (const auto& v : versions) same |= v.is_default && v.document == p.json;
    if (same) continue;
    if (versions.size() >= 5) {  // drop the oldest non-default version to make room
      for (const auto& v : versions) {
        if (!v.is_default) {
          (void)policies_->delete_policy_version(p.name, v.version);
          break;
        }
      }
    }
    auto made = policies_->create_policy_version(p.name, p.json, true);
    if (!made) return failure{made.error(), "policy " + p.name + ": " + made.describe(), {}};
  }
  // The default policies hang on one reserved principal.
  for (const auto& name : policies_->attached_policies(default_principal)) {
    (void)policies_->detach_policy(name, default_principal);
  }
  for (const auto& name : cfg_.default_policies) {
    if (auto ok = policies_->attach_policy(name, default_principal); !ok) {
      return failure{ok.error(), "default policy " + name + ": " + ok.describe(), {}};
    }
  }

  // The device CA, registered ACTIVE (proof of possession with the registration code).
  auto ca = detail::device_ca::load_or_create(dir);
  if (!ca) return failure{ca.error(), "device CA: " + ca.describe(), {}};
  ca_.emplace(std::move(*ca));
  if (!reg_->describe_ca(ca_->certificate.id())) {
    auto code = reg_->registration_code();
    if (!code) return std::move(code).take_failure();
    auto vkey = x509::private_key::generate(x509::key_algorithm::p256);
    if (!vkey) return std::move(vkey).take_failure();
    x509::certificate_request vr;
    vr.subject.entries = {{"CN", *code}};
    vr.days = 1;
    auto verification = x509::issue(vr, *vkey, &ca_->certificate, &ca_->key);
    if (!verification) return std::move(verification).take_failure();
    auto id = reg_->register_ca(ca_->certificate.pem(), verification->pem(),
                                {.active = true, .auto_registration = false});
    if (!id) return failure{id.error(), "device CA registration: " + id.describe(), {}};
  }

  // Access keys for presigned WebSocket URLs, with their policies; custom authorizers.
  for (const auto& k : cfg_.aws_access_keys) {
    ws_keys_.add_key({k.id, k.secret});
    if (k.policy.empty()) continue;
    auto doc = policy::parse_document(k.policy);
    if (!doc) return failure{doc.error(), "access key " + k.id + ": " + doc.describe(), {}};
    auto set = std::make_shared<policy::policy_set>();
    set->add(k.id, 1, std::move(*doc));
    key_policies_.insert_or_assign(k.id, std::move(set));
  }
  authorizers_ = std::make_unique<custom_auth::service>(cfg_.custom_authorizers,
                                                        cfg_.default_authorizer, &log_);

  // With the registry on, the listeners' ca_file certificates become extra trust here.
  if (registry_enabled(cfg_)) {
    for (const auto& l : cfg_.listeners) {
      if (l.tls.ca_file.empty()) continue;
      auto text = read_text(l.tls.ca_file);
      if (!text) return std::move(text).take_failure();
      auto certs = x509::parse_pem_chain(*text);
      if (!certs) return failure{certs.error(), l.tls.ca_file + ": " + certs.describe(), {}};
      for (const auto& c : *certs) {
        if (auto ok = extra_trust_.add_trusted(c); !ok) return std::move(ok).take_failure();
        has_extra_trust_ = true;
      }
    }
  }
  return {};
}

net::tls_options security::listener_tls(const net::tls_options& tls) const {
  net::tls_options out = tls;
  if (registry_enabled(cfg_)) out.ca_file.clear();  // verified in on_tls_peer
  return out;
}

void security::publish_event(const registry::registration_event& e) {
  broker::message m;
  m.topic = e.topic;
  m.payload = to_buffer(e.payload);
  m.qos = 1;
  broker_.publish(m);
}

bool security::on_tls_peer(const net::peer_info& peer) {
  if (peer.chain.empty() || !registry_enabled(cfg_)) return true;
  std::vector<bytes_view> chain;
  chain.reserve(peer.chain.size());
  for (const auto& c : peer.chain) chain.emplace_back(c);
  auto a = reg_->authenticate(chain);
  if (a.event) {
    publish_event(*a.event);
    log_.write(log_level::info, "jitr_registration",
               {{"peer", peer.address},
                {"certificate_id", a.event->certificate_id},
                {"ca_certificate_id", a.event->ca_certificate_id},
                {"status", "PENDING_ACTIVATION"}});
    if (jit_provisioner) {
      const auto e = *a.event;
      auto done = jit_provisioner(e.certificate_id, e.ca_certificate_id);
      if (!done || *done) {  // a template applied, or failed (no registrationConfig: silent)
        log_.write(done ? log_level::info : log_level::warn, done ? "jitp" : "jitp_failed",
                   {{"peer", peer.address},
                    {"certificate_id", e.certificate_id},
                    {"ca_certificate_id", e.ca_certificate_id},
                    {"error", done ? "" : done.describe()}});
      }
      if (done && *done) a = reg_->authenticate(chain);
    }
  }
  if (a.accepted()) return true;
  if (has_extra_trust_ && (a.reason == registry::error::certificate_unknown ||
                           a.reason == registry::error::unknown_ca)) {
    x509::verify_options o;
    o.profile = cfg_.certificate_profile;
    o.purpose = x509::purpose::tls_client;
    if (extra_trust_.verify(chain, o)) return true;
  }
  // The certificate id: the SHA-256 of the leaf's DER, whether it parses or not.
  const auto leaf = x509::certificate::from_der(chain.front());
  const std::string id = leaf ? leaf->id() : std::string("unparsable");
  const bool ca_problem = a.reason == x509::error::untrusted ||  // no registered CA signed it
                          a.reason == registry::error::unknown_ca ||
                          a.reason == registry::error::ca_inactive ||
                          a.reason == registry::error::auto_registration_disabled;
  if (a.reason != registry::error::pending_activation) {
    const int code = openssl_verify_error(a.reason);
    const std::string code_text = code != 0 ? std::to_string(code) : std::string();
    log_.write(log_level::warn, ca_problem ? "tls_refused_ca" : "tls_refused",
               {{"peer", peer.address},
                {"transport", net::name(peer.kind)},
                {"certificate_id", id},
                {"verify_error", code_text},
                {"error", a.reason.message()},
                {"reason", a.message}});
  }
  return false;
}

void security::on_tls_refused(const net::peer_info& peer, const net::tls_refusal& why) {
  // The certificate id (SHA-256 of the leaf's DER) when the client presented one.
  std::string id;
  if (!peer.chain.empty()) {
    const auto leaf = x509::certificate::from_der(peer.chain.front());
    id = leaf ? leaf->id() : std::string("unparsable");
  }
  const std::string code = std::to_string(why.verify_error);
  log_.write(log_level::warn, "tls_refused",
             {{"peer", peer.address},
              {"transport", net::name(peer.kind)},
              {"certificate_id", id},
              {"verify_error", why.verify_error != 0 ? std::string_view(code) : ""},
              {"error", why.reason}});
}

void security::install() {
  broker_.on_authenticate([this](const mqtt::connect_view& p, broker::client_info& info) {
    return authenticate(p, info);
  });
  // MQTT 5 enhanced authentication against the same users (broker.hpp, enhanced_auth.hpp).
  broker_.on_enhanced_auth("SCRAM-SHA-256", detail::scram_sha256([this](std::string_view name) {
                             return users_ ? users_->encoded(name) : std::nullopt;
                           }));
  if (cfg_.authorize) {
    broker_.on_authorize([this](const broker::client_info& info, broker::action a,
                                std::string_view topic) { return authorize(info, a, topic); });
  }
  // Custom authorizers (custom_auth_invoke.cpp). Clients with a certificate or a
  // presigned URL are not theirs; every other CONNECT naming an authorizer is, and one
  // naming none goes to the default authorizer when it came over TLS.
  broker_.on_authenticate_deferred([this](const mqtt::connect_view& p,
                                          const broker::client_info& info,
                                          broker::connect_resumer r) {
    const auto* peer = info.peer;
    if (peer != nullptr && (!peer->chain.empty() || peer->identity.starts_with(sigv4_identity))) {
      return false;
    }
    const auto ws = ws_request(peer);
    const bool tls = peer != nullptr && (peer->transport == "tls" || peer->transport == "wss");
    return authorizers_->take(p, info, ws ? &*ws : nullptr, tls, std::move(r));
  });
}

namespace {

bool is_sigv4(std::string_view query) {
  return query.find("X-Amz-Signature=") != std::string_view::npos ||
         query.find("X-Amz-Credential=") != std::string_view::npos ||
         query.find("X-Amz-Algorithm=") != std::string_view::npos;
}

}  // namespace

void security::on_ws_upgrade_async(net::peer_info& peer,
                                   std::function<void(net::upgrade_verdict)> done) {
  const std::string_view target = peer.ws_target;
  const auto q = target.find('?');
  const auto query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (!is_sigv4(query)) {
    // Custom-auth credentials in the headers or query string: the authorizer decides now.
    if (auto ws = ws_request(peer.ws_target, peer.ws_headers)) {
      const bool custom = authorizers_->check_upgrade(*ws, peer.address, peer.server_name,
                                                      [done](unsigned status, std::string body) {
                                                        done({status, std::move(body)});
                                                      });
      if (custom) return;
    }
  }
  done(on_ws_upgrade(peer));
}

net::upgrade_verdict security::on_ws_upgrade(net::peer_info& peer) {
  const std::string_view target = peer.ws_target;
  const auto q = target.find('?');
  const auto query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (!is_sigv4(query)) return {};  // not SigV4: other credentials come with the CONNECT
  std::vector<aws::header> headers(peer.ws_headers.begin(), peer.ws_headers.end());
  aws::http_request_view view{"GET", target.substr(0, q), query, headers, {}};
  auto who = ws_keys_.verify_presigned(view, static_cast<std::int64_t>(std::time(nullptr)));
  if (who.ok() && who.service != "iotdevicegateway") {
    return {403,
            "InvalidSignatureException: the credential scope's service must be "
            "iotdevicegateway, not " +
                who.service + "\n"};
  }
  if (!who.ok()) return {403, who.error_type + ": " + who.message + "\n"};
  peer.identity = std::string(sigv4_identity) + who.access_key_id;
  return {};
}

void security::tick() { authorizers_->tick(); }

mqtt::reason_code security::authenticate(const mqtt::connect_view& p, broker::client_info& info) {
  policy::context ctx;
  ctx.region = cfg_.aws.region;
  ctx.account = cfg_.aws.account_id;
  ctx.any_account = cfg_.aws.any_account;
  ctx.client_id = info.client_id;
  if (info.peer != nullptr) ctx.source_ip = info.peer->address;
  std::string principal;
  if (info.credentials) {
    // Admitted by a custom authorizer (custom_auth_invoke.cpp): its policies decide,
    // as its latest refresh answered them.
    auto g = std::static_pointer_cast<const custom_auth::grant>(info.credentials);
    if (!cfg_.authorize) return mqtt::reason_code::success;
    return admit(std::make_shared<connection_state>(std::move(g), std::move(ctx)), info);
  }
  if (info.peer != nullptr && info.peer->identity.starts_with(sigv4_identity)) {
    // A presigned WebSocket URL (on_ws_upgrade): the access key's policy decides.
    if (!cfg_.authorize) return mqtt::reason_code::success;
    const auto key = std::string_view(info.peer->identity).substr(sigv4_identity.size());
    auto it = key_policies_.find(key);
    auto set = it == key_policies_.end() ? nullptr : it->second;
    return admit(std::make_shared<connection_state>(std::move(set), std::move(ctx)), info);
  }
  if (info.peer != nullptr && !info.peer->chain.empty()) {
    auto leaf = x509::certificate::from_der(info.peer->chain.front());
    if (!leaf) return mqtt::reason_code::not_authorized;
    add_certificate(ctx, *leaf);
    principal = leaf->id();
    ctx.thing_is_attached = false;
    if (auto rec = reg_->find_certificate(principal)) {
      if (registry_enabled(cfg_) && rec->status != registry::certificate_status::active) {
        log_.write(log_level::warn, "auth_failure",
                   {{"client_id", info.client_id},
                    {"peer", ctx.source_ip.value_or("")},
                    {"certificate_id", principal},
                    {"reason", "certificate is " + std::string(registry::to_string(rec->status))}});
        return mqtt::reason_code::not_authorized;  // changed since the handshake
      }
      for (const auto& t : rec->things) {
        if (t.name != info.client_id) continue;
        ctx.thing_name = t.name;
        if (!t.type.empty()) ctx.thing_type_name = t.type;
        for (const auto& [k, v] : t.attributes) ctx.thing_attributes.emplace_back(k, v);
        ctx.thing_is_attached = true;
      }
    }
  } else if (passwords_enabled()) {
    // SCRAM-SHA-256 (info.auth_method) has checked the password already.
    if (info.auth_method.empty() &&
        (!p.username || !p.password || !users_->check(*p.username, as_string_view(*p.password)))) {
      log_.write(log_level::warn, "auth_failure",
                 {{"client_id", info.client_id},
                  {"peer", ctx.source_ip.value_or("")},
                  {"username", p.username ? *p.username : std::string_view{}},
                  {"reason", p.username ? "wrong username or password" : "no username"}});
      return mqtt::reason_code::bad_user_name_or_password;
    }
    principal = std::string(default_principal);
  } else {
    principal = std::string(default_principal);
  }
  if (!cfg_.authorize) return mqtt::reason_code::success;
  const std::string thing = ctx.thing_is_attached ? ctx.thing_name.value_or("") : "";
  auto st = std::make_shared<connection_state>(*policies_, std::move(principal), std::move(ctx));
  if (groups_ != nullptr && !thing.empty()) {  // policies attached to the thing's groups
    st->session->also_principals([groups = groups_, thing] {
      std::vector<std::string> out;
      for (const auto& g : groups->memberships(thing)) out.push_back(group_principal(g));
      return out;
    });
  }
  return admit(std::move(st), info);
}

mqtt::reason_code security::admit(std::shared_ptr<connection_state> st, broker::client_info& info) {
  const auto resource = policy::make_arn(st->ctx(), "client", info.client_id);
  if (const auto d = st->decide({policy::actions::connect, resource}); !d.allowed()) {
    log_denial(info, "iot:Connect", resource, d);
    return mqtt::reason_code::not_authorized;
  }
  info.principal = std::move(st);
  return mqtt::reason_code::success;
}

bool security::authorize(const broker::client_info& info, broker::action a,
                         std::string_view topic) {
  if (a == broker::action::receive && !provisioning_reply_receivable(info.client_id, topic)) {
    return false;
  }
  auto* st = static_cast<connection_state*>(info.principal.get());
  if (st == nullptr) return false;
  policy::action_id id = policy::actions::publish;
  std::string_view type = "topic";
  switch (a) {
    case broker::action::publish: id = policy::actions::publish; break;
    case broker::action::subscribe: id = policy::actions::subscribe, type = "topicfilter"; break;
    case broker::action::receive: id = policy::actions::receive; break;
    case broker::action::retain_publish: id = policy::actions::retain_publish; break;
  }
  std::lock_guard lock(st->mutex);
  const auto resource = policy::make_arn(st->ctx(), type, topic);
  const auto d = st->decide({id, resource});
  if (!d.allowed()) log_denial(info, policy::action_name(id), resource, d);
  return d.allowed();
}

void security::log_denial(const broker::client_info& info, std::string_view action,
                          std::string_view resource, const policy::decision& d) {
  if (!log_.enabled(log_level::warn)) return;
  std::string statement;
  std::string sid;
  if (d.policy != nullptr && d.statement != policy::decision::no_statement) {
    statement = d.policy->name + "#" + std::to_string(d.statement);
    sid = std::string(d.policy->doc.statement(d.statement).sid);
  }
  log_.write(log_level::warn, "policy_denied",
             {{"client_id", info.client_id},
              {"action", action},
              {"resource", resource},
              {"decision", policy::to_string(d.result)},
              {"statement", statement},
              {"sid", sid}});
}

}  // namespace iotblocks::gateway
