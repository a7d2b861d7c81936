// The admin REST API: things, certificates, CAs, registration code, users, and
// the shared helpers (admin_rules.cpp adds policies, rules and stats).
#include <iotblocks/core/error.hpp>
#include <iotblocks/policy/error.hpp>
#include <iotblocks/rules/error.hpp>

#include "gateway/gateway_impl.hpp"
#include "gateway/security.hpp"
#include "gateway/security_admin.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <fstream>
#include <sstream>

namespace iotblocks::gateway::admin {

net::http_reply error_reply(int status, const failure& f) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  d.AddMember(
      "error",
      json::string_value(f.message.empty() ? f.code.message() : std::string{f.message.view()}, a),
      a);
  if (f.code) {
    d.AddMember(
        "code",
        json::string_value(fmt::format("{}:{}", f.code.category().name(), f.code.value()), a), a);
  }
  if (f.where.known()) {
    rapidjson::Value p(rapidjson::kObjectType);
    p.AddMember("line", f.where.line, a);
    p.AddMember("column", f.where.column, a);
    p.AddMember("offset", static_cast<std::uint64_t>(f.where.offset), a);
    d.AddMember("position", p, a);
  }
  return {status, json::write(d)};
}

net::http_reply error_reply(int status, std::string_view message) {
  return error_reply(status, failure{{}, std::string(message), {}});
}

int status_of(std::error_code ec) noexcept {
  using registry::error;
  if (ec == error::not_found || ec == policy::error::no_such_policy ||
      ec == policy::error::no_such_version || ec == rules::error::no_such_rule) {
    return 404;
  }
  if (ec == error::already_exists || ec == error::in_use || ec == error::invalid_transition ||
      ec == error::version_conflict || ec == policy::error::policy_exists ||
      ec == policy::error::policy_in_use || ec == policy::error::default_version ||
      ec == rules::error::rule_exists) {
    return 409;
  }
  if (ec == error::storage) return 500;
  return 400;
}

net::http_reply fail_reply(const failure& f) { return error_reply(status_of(f.code), f); }

net::http_reply ok_reply(const rapidjson::Document& d) { return {200, json::write(d)}; }

net::http_reply ok_message() { return {200, R"({"message":"OK"})"}; }

result<rapidjson::Document> body_object(const net::incoming_request& r, bool allow_empty) {
  if (r.body.empty() && allow_empty) {
    rapidjson::Document d;
    d.SetObject();
    return d;
  }
  auto doc = json::parse(r.body);
  if (!doc) return std::move(doc).take_failure();
  if (!doc->IsObject()) {
    return failure{core::error::invalid_argument, "the body must be a JSON object", {}};
  }
  return doc;
}

std::vector<std::string> segments(std::string_view path, std::string_view prefix) {
  std::vector<std::string> out;
  path.remove_prefix(std::min(path.size(), prefix.size()));
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash);
  }
  return out;
}

rapidjson::Value strings(const std::vector<std::string>& v, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& s : v) arr.PushBack(json::string_value(s, a), a);
  return arr;
}

void member(rapidjson::Value& obj, std::string_view key, rapidjson::Value v,
            rapidjson::Document::AllocatorType& a) {
  obj.AddMember(json::string_value(key, a), v, a);
}

void member(rapidjson::Value& obj, std::string_view key, std::string_view v,
            rapidjson::Document::AllocatorType& a) {
  member(obj, key, json::string_value(v, a), a);
}

namespace {

std::string iso_time(time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(secs)));
}

rapidjson::Value thing_json(const registry::thing& t, const std::vector<std::string>& principals,
                            rapidjson::Document::AllocatorType& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  member(o, "thingName", t.name, a);
  if (!t.type.empty()) member(o, "thingTypeName", t.type, a);
  rapidjson::Value attrs(rapidjson::kObjectType);
  for (const auto& [k, v] : t.attributes) member(attrs, k, v, a);
  member(o, "attributes", std::move(attrs), a);
  o.AddMember("version", t.version, a);
  member(o, "principals", strings(principals, a), a);
  return o;
}

rapidjson::Value certificate_json(security& sec, const registry::certificate_record& c,
                                  bool with_pem, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  member(o, "certificateId", c.id(), a);
  member(o, "status", registry::to_string(c.status), a);
  member(o, "caId", c.ca_id, a);
  member(o, "subject", c.certificate.subject().to_string(), a);
  member(o, "notBefore", iso_time(c.certificate.not_before()), a);
  member(o, "notAfter", iso_time(c.certificate.not_after()), a);
  std::vector<std::string> things;
  for (const auto& t : c.things) things.push_back(t.name);
  member(o, "things", strings(things, a), a);
  member(o, "policies", strings(sec.policies().attached_policies(c.id()), a), a);
  if (with_pem) member(o, "certificatePem", c.certificate.pem(), a);
  return o;
}

rapidjson::Value ca_json(const registry::ca_record& c, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  member(o, "caId", c.id(), a);
  member(o, "status", registry::to_string(c.status), a);
  o.AddMember("autoRegistration", c.auto_registration, a);
  member(o, "subject", c.certificate.subject().to_string(), a);
  member(o, "notAfter", iso_time(c.certificate.not_after()), a);
  return o;
}

/// The CA a client must trust for the first TLS listener's server certificate.
std::string server_ca_pem(const config& cfg) {
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  for (const auto& l : cfg.listeners) {
    if (l.type != "mqtts" && l.type != "wss") continue;
    auto chain = x509::parse_pem_chain(read(l.tls.cert_file));
    if (!chain || chain->empty()) continue;
    const auto& top = chain->back();
    if (top.self_issued()) return top.pem();
    if (!l.tls.ca_file.empty()) {
      if (auto cas = x509::parse_pem_chain(read(l.tls.ca_file))) {
        for (const auto& c : *cas) {
          if (top.issued_by(c)) return c.pem();
        }
      }
    }
    return top.pem();
  }
  return {};
}

/// Detaches every thing of a certificate, and every policy.
void detach_all(security& sec, const registry::certificate_record& c) {
  for (const auto& t : c.things) (void)sec.reg()->detach_thing(t.name, c.id());
  for (const auto& p : sec.policies().attached_policies(c.id())) {
    (void)sec.policies().detach_policy(p, c.id());
  }
}

net::http_reply things_route(gateway::impl& g, const net::incoming_request& r) {
  security& sec = *g.sec;
  auto* reg = sec.reg();
  const auto seg = segments(r.path, "/admin/things");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (seg.empty()) {
    if (r.method != "GET") return error_reply(405, "GET /admin/things");
    rapidjson::Value arr(rapidjson::kArrayType);
    for (const auto& t : reg->list_things()) {
      auto principals = reg->list_thing_principals(t.name);
      arr.PushBack(thing_json(t, principals ? *principals : std::vector<std::string>{}, a), a);
    }
    member(d, "things", std::move(arr), a);
    return ok_reply(d);
  }
  const std::string& name = seg[0];
  if (seg.size() == 2 && seg[1] == "certificate" && r.method == "POST") {
    auto body = body_object(r, true);
    if (!body) return fail_reply(body.fail());
    const auto pol = json::get_string(*body, "policy");
    if (pol && !sec.policies().get_policy(*pol)) return error_reply(404, "no such policy");
    if (!reg->describe_thing(name)) {
      registry::thing t;
      t.name = name;
      if (auto ok = reg->create_thing(t); !ok) return fail_reply(ok.fail());
    }
    auto issued = sec.issue_device(name);
    if (!issued) return error_reply(500, issued.fail());
    const auto& [cert, key] = *issued;
    auto id = reg->register_certificate(cert.pem(), registry::certificate_status::active,
                                        sec.ca().certificate.pem());
    if (!id) return fail_reply(id.fail());
    if (auto ok = reg->attach_thing(name, *id); !ok) return fail_reply(ok.fail());
    if (pol) {
      if (auto ok = sec.policies().attach_policy(*pol, *id); !ok) return fail_reply(ok.fail());
    }
    sec.changed();
    member(d, "certificateId", *id, a);
    member(d, "certificatePem", cert.pem(), a);
    member(d, "privateKey", key.pem(), a);
    member(d, "caPem", server_ca_pem(g.cfg), a);
    member(d, "deviceCaPem", sec.ca().certificate.pem(), a);
    member(d, "clientId", name, a);
    return ok_reply(d);
  }
  if (seg.size() == 3 && seg[1] == "principals" && (r.method == "PUT" || r.method == "DELETE")) {
    // AttachThingPrincipal / DetachThingPrincipal.
    auto ok = r.method == "PUT" ? reg->attach_thing(name, seg[2]) : reg->detach_thing(name, seg[2]);
    if (!ok) return fail_reply(ok.fail());
    sec.changed();
    return ok_message();
  }
  if (seg.size() != 1) return error_reply(404, "unknown admin path");
  if (r.method == "GET") {
    auto t = reg->describe_thing(name);
    if (!t) return fail_reply(t.fail());
    auto principals = reg->list_thing_principals(name);
    auto o = thing_json(*t, principals ? *principals : std::vector<std::string>{}, a);
    return {200, json::write(o)};
  }
  if (r.method == "PUT") {
    auto body = body_object(r, true);
    if (!body) return fail_reply(body.fail());
    registry::thing t;
    t.name = name;
    if (auto type = json::get_string(*body, "thingTypeName")) t.type = std::string(*type);
    if (const auto* attrs = json::find(*body, "attributes")) {
      if (!attrs->IsObject()) return error_reply(400, "attributes: expected an object");
      for (auto it = attrs->MemberBegin(); it != attrs->MemberEnd(); ++it) {
        if (!it->value.IsString()) return error_reply(400, "attributes: values must be strings");
        t.attributes.emplace(std::string(json::view(it->name)), std::string(json::view(it->value)));
      }
    }
    const auto before = reg->describe_thing(name);
    if (!t.type.empty() && (!before || before->type != t.type)) {
      if (auto ok = g.types->assignable(t.type); !ok) return fail_reply(ok.fail());
    }
    const bool exists = static_cast<bool>(before);
    auto ok = exists ? reg->update_thing(t) : reg->create_thing(t);
    if (!ok) return fail_reply(ok.fail());
    sec.changed();
    auto now = reg->describe_thing(name);
    if (!now) return fail_reply(now.fail());
    auto principals = reg->list_thing_principals(name);
    auto o = thing_json(*now, principals ? *principals : std::vector<std::string>{}, a);
    return {200, json::write(o)};
  }
  if (r.method == "DELETE") {
    // The contract has no separate detach: deleting a thing detaches its certificates.
    auto principals = reg->list_thing_principals(name);
    if (!principals) return fail_reply(principals.fail());
    for (const auto& id : *principals) (void)reg->detach_thing(name, id);
    if (auto ok = reg->delete_thing(name); !ok) return fail_reply(ok.fail());
    sec.changed();
    return ok_message();
  }
  return error_reply(405, "method not allowed");
}

net::http_reply certificates_route(gateway::impl& g, const net::incoming_request& r) {
  security& sec = *g.sec;
  auto* reg = sec.reg();
  const auto seg = segments(r.path, "/admin/certificates");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (seg.empty() && r.method == "POST") {
    // RegisterCertificate (with its CA, or found by issuer) / RegisterCertificateWithoutCA.
    auto body = body_object(r, false);
    if (!body) return fail_reply(body.fail());
    const auto pem = json::get_string(*body, "certificatePem");
    if (!pem) return error_reply(400, "certificatePem: expected a PEM string");
    auto status = registry::certificate_status::inactive;
    if (const auto text = json::get_string(*body, "status")) {
      auto st = registry::parse_certificate_status(*text);
      if (!st) return fail_reply(st.fail());
      status = *st;
    }
    const bool without_ca = json::get_bool(*body, "withoutCa").value_or(false);
    const auto ca = json::get_string(*body, "caCertificatePem");
    auto id = without_ca ? reg->register_certificate_without_ca(*pem, status)
                         : reg->register_certificate(*pem, status, ca.value_or(""));
    if (!id) return fail_reply(id.fail());
    sec.changed();
    auto now = reg->describe_certificate(*id);
    if (!now) return fail_reply(now.fail());
    return {200, json::write(certificate_json(sec, **now, false, a))};
  }
  if (seg.empty()) {
    if (r.method != "GET") return error_reply(405, "GET or POST /admin/certificates");
    rapidjson::Value arr(rapidjson::kArrayType);
    for (const auto& c : reg->list_certificates())
      arr.PushBack(certificate_json(sec, *c, false, a), a);
    member(d, "certificates", std::move(arr), a);
    return ok_reply(d);
  }
  if (seg.size() != 1) return error_reply(404, "unknown admin path");
  const std::string& id = seg[0];
  auto rec = reg->describe_certificate(id);
  if (!rec) return fail_reply(rec.fail());
  if (r.method == "GET") return {200, json::write(certificate_json(sec, **rec, true, a))};
  if (r.method == "PUT") {
    auto body = body_object(r, false);
    if (!body) return fail_reply(body.fail());
    const auto text = json::get_string(*body, "status");
    if (!text) return error_reply(400, "status: expected ACTIVE, INACTIVE or REVOKED");
    auto status = registry::parse_certificate_status(*text);
    if (!status) return fail_reply(status.fail());
    if (auto ok = reg->update_certificate(id, *status); !ok) return fail_reply(ok.fail());
    sec.changed();
    auto now = reg->describe_certificate(id);
    if (!now) return fail_reply(now.fail());
    return {200, json::write(certificate_json(sec, **now, false, a))};
  }
  if (r.method == "DELETE") {
    const auto s = (*rec)->status;
    if (s == registry::certificate_status::active ||
        s == registry::certificate_status::pending_transfer) {
      return error_reply(409, "deactivate or revoke the certificate before deleting it");
    }
    detach_all(sec, **rec);
    if (auto ok = reg->delete_certificate(id); !ok) return fail_reply(ok.fail());
    sec.changed();
    return ok_message();
  }
  return error_reply(405, "method not allowed");
}

net::http_reply cas_route(gateway::impl& g, const net::incoming_request& r) {
  auto* reg = g.sec->reg();
  const auto seg = segments(r.path, "/admin/cas");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (seg.empty()) {
    if (r.method == "GET") {
      rapidjson::Value arr(rapidjson::kArrayType);
      for (const auto& c : reg->list_cas()) arr.PushBack(ca_json(c, a), a);
      member(d, "cas", std::move(arr), a);
      return ok_reply(d);
    }
    if (r.method != "POST") return error_reply(405, "GET or POST /admin/cas");
    auto body = body_object(r, false);
    if (!body) return fail_reply(body.fail());
    const auto ca = json::get_string(*body, "caPem");
    const auto verification = json::get_string(*body, "verificationPem");
    if (!ca || !verification) return error_reply(400, "caPem and verificationPem are required");
    registry::ca_registration flags;
    if (auto s = json::get_string(*body, "status")) {
      auto st = registry::parse_ca_status(*s);
      if (!st) return fail_reply(st.fail());
      flags.active = *st == registry::ca_status::active;
    }
    flags.auto_registration = json::get_bool(*body, "autoRegistration").value_or(false);
    auto id = reg->register_ca(*ca, *verification, flags);
    if (!id) return fail_reply(id.fail());
    member(d, "caId", *id, a);
    return ok_reply(d);
  }
  if (seg.size() != 1) return error_reply(404, "unknown admin path");
  const std::string& id = seg[0];
  if (r.method == "GET") {
    auto c = reg->describe_ca(id);
    if (!c) return fail_reply(c.fail());
    auto o = ca_json(*c, a);
    member(o, "certificatePem", c->certificate.pem(), a);
    return {200, json::write(o)};
  }
  if (r.method == "PUT") {
    auto body = body_object(r, false);
    if (!body) return fail_reply(body.fail());
    std::optional<registry::ca_status> status;
    if (auto s = json::get_string(*body, "status")) {
      auto st = registry::parse_ca_status(*s);
      if (!st) return fail_reply(st.fail());
      status = *st;
    }
    if (auto ok = reg->update_ca(id, status, json::get_bool(*body, "autoRegistration")); !ok) {
      return fail_reply(ok.fail());
    }
    auto c = reg->describe_ca(id);
    if (!c) return fail_reply(c.fail());
    return {200, json::write(ca_json(*c, a))};
  }
  if (r.method == "DELETE") {
    if (auto ok = reg->delete_ca(id); !ok) return fail_reply(ok.fail());
    return ok_message();
  }
  return error_reply(405, "method not allowed");
}

net::http_reply users_route(gateway::impl& g, const net::incoming_request& r) {
  auto& users = g.sec->users();
  const auto seg = segments(r.path, "/admin/users");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (seg.empty()) {
    if (r.method != "GET") return error_reply(405, "GET /admin/users");
    member(d, "users", strings(users.names(), a), a);
    return ok_reply(d);
  }
  if (seg.size() != 1) return error_reply(404, "unknown admin path");
  if (r.method == "PUT") {
    auto body = body_object(r, false);
    if (!body) return fail_reply(body.fail());
    const auto password = json::get_string(*body, "password");
    if (!password) return error_reply(400, "password: expected a string");
    if (auto ok = users.put(seg[0], *password); !ok) return fail_reply(ok.fail());
    return ok_message();
  }
  if (r.method == "DELETE") {
    auto ok = users.remove(seg[0]);
    if (!ok) return fail_reply(ok.fail());
    if (!*ok) return error_reply(404, "no such user");
    return ok_message();
  }
  return error_reply(405, "method not allowed");
}

}  // namespace

net::http_route guarded(gateway::impl& g, route_fn fn) {
  return [&g, fn = std::move(fn)](const net::incoming_request& r) {
    if (g.cfg.admin_token.empty()) return error_reply(403, "admin API disabled (no admin_token)");
    const std::string want = "Bearer " + g.cfg.admin_token;
    if (r.authorization.size() != want.size() ||
        CRYPTO_memcmp(r.authorization.data(), want.data(), want.size()) != 0) {
      return error_reply(401, "bad admin token");
    }
    return fn(g, r);
  };
}

}  // namespace iotblocks::gateway::admin

namespace iotblocks::gateway {

void add_admin_routes(gateway::impl& g) {
  using namespace admin;
  g.http.route("*", "/admin/things", guarded(g, things_route));
  g.http.route("*", "/admin/certificates", guarded(g, certificates_route));
  g.http.route("*", "/admin/cas", guarded(g, cas_route));
  g.http.route("*", "/admin/users", guarded(g, users_route));
  g.http.route("GET", "/admin/registration-code",
               guarded(g, [](gateway::impl& gi, const net::incoming_request&) {
                 auto code = gi.sec->reg()->registration_code();
                 if (!code) return error_reply(500, code.fail());
                 return net::http_reply{200, R"({"registrationCode":")" + *code + "\"}"};
               }));
  add_admin_policy_routes(g);
}

}  // namespace iotblocks::gateway
