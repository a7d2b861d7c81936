// The AWS IoT control plane, security half: certificates (create-keys-and-certificate,
// register, describe, list, update, delete), CA certificates and the registration
// code, policies with versions, and policy attachments; through the registry, the
// device CA and the policy store the admin API uses.
#include <iotblocks/registry/types.hpp>

#include <iotblocks/provisioning/template_store.hpp>

#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"
#include "gateway/security.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>

namespace iotblocks::gateway::aws {
namespace {

double seconds(time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

std::string public_key_pem(const x509::private_key& key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), static_cast<EVP_PKEY*>(key.native_handle())) != 1) {
    return {};
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

/// "true"/"false"/absent query flags.
bool flag(const call& c, std::string_view key) { return c.r.query_param(key) == "true"; }

net::http_reply create_keys_and_certificate(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  auto& sec = *c.g.sec;
  auto issued = sec.issue_device("AWS IoT Certificate");
  if (!issued) return error(500, "InternalFailureException", issued.describe());
  const auto& [cert, key] = *issued;
  const auto status = flag(c, "setAsActive") ? registry::certificate_status::active
                                             : registry::certificate_status::inactive;
  auto id = reg->register_certificate(cert.pem(), status, sec.ca().certificate.pem());
  if (!id) return error_for(id.fail());
  sec.changed();
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "certificateArn", c.arn("cert", *id), a);
  put(d, "certificateId", *id, a);
  put(d, "certificatePem", cert.pem(), a);
  rapidjson::Value pair(rapidjson::kObjectType);
  put(pair, "PublicKey", public_key_pem(key), a);
  put(pair, "PrivateKey", key.pem(), a);
  d.AddMember("keyPair", pair, a);
  return ok(d);
}

net::http_reply create_certificate_from_csr(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  const auto csr = string_member(body, "certificateSigningRequest", bad);
  if (bad) return *bad;
  if (!csr) return invalid("certificateSigningRequest: required");
  auto& sec = *c.g.sec;
  x509::certificate_request req;
  req.client_auth = true;
  req.days = 365;
  auto cert = x509::issue_from_csr(*csr, req, sec.ca().certificate, sec.ca().key);
  if (!cert) return invalid("certificateSigningRequest: " + cert.describe());
  const auto status = flag(c, "setAsActive") ? registry::certificate_status::active
                                             : registry::certificate_status::inactive;
  auto id = reg->register_certificate(cert->pem(), status, sec.ca().certificate.pem());
  if (!id) return error_for(id.fail());
  sec.changed();
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "certificateArn", c.arn("cert", *id), a);
  put(d, "certificateId", *id, a);
  put(d, "certificatePem", cert->pem(), a);
  return ok(d);
}

net::http_reply register_certificate(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  const auto pem = string_member(body, "certificatePem", bad);
  const auto ca = string_member(body, "caCertificatePem", bad);
  const auto status_text = string_member(body, "status", bad);
  if (bad) return *bad;
  if (!pem) return invalid("certificatePem: required");
  auto status = registry::certificate_status::inactive;
  if (status_text) {
    auto s = registry::parse_certificate_status(*status_text);
    if (!s) return invalid("status: " + s.describe());
    status = *s;
  } else if (json::get_bool(body, "setAsActive").value_or(flag(c, "setAsActive"))) {
    status = registry::certificate_status::active;
  }
  auto id = reg->register_certificate(*pem, status, ca.value_or(std::string{}));
  if (!id) return error_for(id.fail());
  c.g.sec->changed();
  rapidjson::Document d;
  d.SetObject();
  put(d, "certificateArn", c.arn("cert", *id), d.GetAllocator());
  put(d, "certificateId", *id, d.GetAllocator());
  return ok(d);
}

net::http_reply register_certificate_without_ca(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  const auto pem = string_member(body, "certificatePem", bad);
  const auto status_text = string_member(body, "status", bad);
  if (bad) return *bad;
  if (!pem) return invalid("certificatePem: required");
  auto status = registry::certificate_status::inactive;
  if (status_text) {
    auto s = registry::parse_certificate_status(*status_text);
    if (!s) return invalid("status: " + s.describe());
    status = *s;
  }
  auto id = reg->register_certificate_without_ca(*pem, status);
  if (!id) return error_for(id.fail());
  c.g.sec->changed();
  rapidjson::Document d;
  d.SetObject();
  put(d, "certificateArn", c.arn("cert", *id), d.GetAllocator());
  put(d, "certificateId", *id, d.GetAllocator());
  return ok(d);
}

rapidjson::Value validity(const x509::certificate& cert, alloc& a) {
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("notBefore", seconds(cert.not_before()), a);
  v.AddMember("notAfter", seconds(cert.not_after()), a);
  return v;
}

net::http_reply describe_certificate(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  auto rec = reg->describe_certificate(c.params[0]);
  if (!rec) return error_for(rec.fail());
  const auto& r = **rec;
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value o(rapidjson::kObjectType);
  put(o, "certificateArn", c.arn("cert", r.id()), a);
  put(o, "certificateId", r.id(), a);
  if (!r.ca_id.empty()) put(o, "caCertificateId", r.ca_id, a);  // none: registered without a CA
  put(o, "status", registry::to_string(r.status), a);
  put(o, "certificatePem", r.certificate.pem(), a);
  put(o, "ownedBy", c.g.cfg.aws.account_id, a);
  o.AddMember("creationDate", epoch_seconds(r.registered_ms), a);
  o.AddMember("lastModifiedDate", epoch_seconds(r.updated_ms), a);
  o.AddMember("customerVersion", 1, a);
  o.AddMember("validity", validity(r.certificate, a), a);
  put(o, "certificateMode", "DEFAULT", a);
  d.AddMember("certificateDescription", o, a);
  return ok(d);
}

/// One page of records sorted by id, from `marker` (ascending unless asked otherwise).
template <class Records, class Id>
std::pair<Records, std::string> page(Records all, Id id_of, std::size_t size,
                                     const std::string& from, bool ascending) {
  std::sort(all.begin(), all.end(), [&](const auto& x, const auto& y) {
    return ascending ? id_of(x) < id_of(y) : id_of(y) < id_of(x);
  });
  Records out;
  std::string next;
  for (const auto& r : all) {
    if (!from.empty() && (ascending ? id_of(r) < from : from < id_of(r))) continue;
    if (out.size() == size) {
      next = make_token(id_of(r));
      break;
    }
    out.push_back(r);
  }
  return {std::move(out), std::move(next)};
}

net::http_reply list_certificates(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  const auto size = page_size(c, "pageSize", 25, 250, bad);
  const auto from = page_token(c, "marker", bad);
  if (bad) return *bad;
  auto [records, next] = page(
      reg->list_certificates(), [](const auto& r) -> const std::string& { return r->id(); }, *size,
      *from, c.r.query_param("isAscendingOrder") != "false");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& r : records) {
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "certificateArn", c.arn("cert", r->id()), a);
    put(o, "certificateId", r->id(), a);
    put(o, "status", registry::to_string(r->status), a);
    put(o, "certificateMode", "DEFAULT", a);
    o.AddMember("creationDate", epoch_seconds(r->registered_ms), a);
    arr.PushBack(o, a);
  }
  d.AddMember("certificates", arr, a);
  if (!next.empty()) put(d, "nextMarker", next, a);
  return ok(d);
}

net::http_reply update_certificate(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  const std::string text = c.r.query_param("newStatus");
  if (text.empty()) return invalid("newStatus: required");
  auto status = registry::parse_certificate_status(text);
  if (!status) return invalid("newStatus: " + status.describe());
  if (auto ok = reg->update_certificate(c.params[0], *status); !ok) return error_for(ok.fail());
  c.g.sec->changed();
  return {200, ""};
}

net::http_reply delete_certificate(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  auto rec = reg->describe_certificate(c.params[0]);
  if (!rec) return error_for(rec.fail());
  const auto& r = **rec;
  if (r.status == registry::certificate_status::active) {
    return error(406, "CertificateStateException",
                 "Certificate " + r.id() + " is ACTIVE: deactivate it first");
  }
  if (!r.things.empty()) {
    return error(409, "DeleteConflictException",
                 "Things are attached to certificate " + r.id() + ": detach them first");
  }
  auto& policies = c.g.sec->policies();
  const auto attached = policies.attached_policies(r.id());
  if (!attached.empty() && !flag(c, "forceDelete")) {
    return error(409, "DeleteConflictException",
                 "Policies are attached to certificate " + r.id() +
                     ": detach them first or use --force-delete");
  }
  for (const auto& p : attached) (void)policies.detach_policy(p, r.id());
  if (auto ok = reg->delete_certificate(r.id()); !ok) return error_for(ok.fail());
  c.g.sec->changed();
  return {200, ""};
}

// CA certificates.

net::http_reply get_registration_code(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  auto code = reg->registration_code();
  if (!code) return error_for(code.fail());
  rapidjson::Document d;
  d.SetObject();
  put(d, "registrationCode", *code, d.GetAllocator());
  return ok(d);
}

/// A body's registrationConfig (JITP) checked before anything is written: nothing, or 400.
std::optional<net::http_reply> check_registration_config(call& c, const rapidjson::Value& body) {
  const auto* rc = json::find(body, "registrationConfig");
  if (rc == nullptr || rc->IsNull()) return std::nullopt;
  if (!rc->IsObject()) return invalid("registrationConfig: expected an object");
  if (c.g.templates == nullptr) {
    return invalid("registrationConfig needs \"authorize\": true and the registry");
  }
  if (const auto* b = json::find(*rc, "templateBody"); b && b->IsString()) {
    if (auto t = provisioning::parse_template(json::view(*b)); !t) {
      return invalid("registrationConfig.templateBody: " + t.describe());
    }
  }
  return std::nullopt;
}

/// Stores a body's registrationConfig for the CA `id` (after check_registration_config).
std::optional<net::http_reply> set_registration_config(call& c, const std::string& id,
                                                       const rapidjson::Value& body) {
  const auto* rc = json::find(body, "registrationConfig");
  if (rc == nullptr || rc->IsNull()) return std::nullopt;
  std::optional<net::http_reply> bad;
  provisioning::ca_registration r;
  if (auto v = string_member(*rc, "templateBody", bad)) r.template_body = *v;
  if (auto v = string_member(*rc, "templateName", bad)) r.template_name = *v;
  if (auto v = string_member(*rc, "roleArn", bad)) r.role_arn = *v;
  if (bad) return bad;
  if (auto ok = c.g.templates->set_ca_registration(id, r); !ok) return invalid(ok.describe());
  return std::nullopt;
}

/// describe-ca-certificate's registrationConfig, when the CA has one.
void registration_config_into(call& c, const std::string& id, rapidjson::Document& d) {
  if (c.g.templates == nullptr) return;
  const auto r = c.g.templates->ca_registration_of(id);
  if (!r) return;
  auto& a = d.GetAllocator();
  rapidjson::Value o(rapidjson::kObjectType);
  if (!r->template_body.empty()) put(o, "templateBody", r->template_body, a);
  if (!r->template_name.empty()) put(o, "templateName", r->template_name, a);
  if (!r->role_arn.empty()) put(o, "roleArn", r->role_arn, a);
  d.AddMember("registrationConfig", o, a);
}

net::http_reply register_ca_certificate(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  const auto ca = string_member(body, "caCertificate", bad);
  const auto verification = string_member(body, "verificationCertificate", bad);
  if (bad) return *bad;
  if (!ca) return invalid("caCertificate: required");
  if (!verification) {
    return invalid("verificationCertificate: required (SNI_ONLY mode is not implemented)");
  }
  registry::ca_registration flags;
  flags.active = flag(c, "setAsActive");
  flags.auto_registration = flag(c, "allowAutoRegistration");
  if (auto r = check_registration_config(c, body)) return *r;
  auto id = reg->register_ca(*ca, *verification, flags);
  if (!id) return error_for(id.fail());
  if (auto r = set_registration_config(c, *id, body)) return *r;
  rapidjson::Document d;
  d.SetObject();
  put(d, "certificateArn", c.arn("cacert", *id), d.GetAllocator());
  put(d, "certificateId", *id, d.GetAllocator());
  return ok(d);
}

net::http_reply describe_ca_certificate(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  auto r = reg->describe_ca(c.params[0]);
  if (!r) return error_for(r.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value o(rapidjson::kObjectType);
  put(o, "certificateArn", c.arn("cacert", r->id()), a);
  put(o, "certificateId", r->id(), a);
  put(o, "status", registry::to_string(r->status), a);
  put(o, "certificatePem", r->certificate.pem(), a);
  put(o, "ownedBy", c.g.cfg.aws.account_id, a);
  o.AddMember("creationDate", epoch_seconds(r->registered_ms), a);
  o.AddMember("lastModifiedDate", epoch_seconds(r->updated_ms), a);
  put(o, "autoRegistrationStatus", r->auto_registration ? "ENABLE" : "DISABLE", a);
  o.AddMember("customerVersion", 1, a);
  o.AddMember("validity", validity(r->certificate, a), a);
  put(o, "certificateMode", "DEFAULT", a);
  d.AddMember("certificateDescription", o, a);
  registration_config_into(c, r->id(), d);
  return ok(d);
}

net::http_reply list_ca_certificates(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  const auto size = page_size(c, "pageSize", 25, 250, bad);
  const auto from = page_token(c, "marker", bad);
  if (bad) return *bad;
  auto [records, next] = page(
      reg->list_cas(), [](const auto& r) -> const std::string& { return r.id(); }, *size, *from,
      c.r.query_param("isAscendingOrder") != "false");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& r : records) {
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "certificateArn", c.arn("cacert", r.id()), a);
    put(o, "certificateId", r.id(), a);
    put(o, "status", registry::to_string(r.status), a);
    o.AddMember("creationDate", epoch_seconds(r.registered_ms), a);
    arr.PushBack(o, a);
  }
  d.AddMember("certificates", arr, a);
  if (!next.empty()) put(d, "nextMarker", next, a);
  return ok(d);
}

net::http_reply update_ca_certificate(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  std::optional<registry::ca_status> status;
  if (const auto s = c.r.query_param("newStatus"); !s.empty()) {
    auto st = registry::parse_ca_status(s);
    if (!st) return invalid("newStatus: " + st.describe());
    status = *st;
  }
  std::optional<bool> auto_registration;
  if (const auto s = c.r.query_param("newAutoRegistrationStatus"); !s.empty()) {
    if (s != "ENABLE" && s != "DISABLE") {
      return invalid("newAutoRegistrationStatus: expected ENABLE or DISABLE");
    }
    auto_registration = s == "ENABLE";
  }
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  if (auto r = check_registration_config(c, body)) return *r;
  if (auto ok = reg->update_ca(c.params[0], status, auto_registration); !ok) {
    return error_for(ok.fail());
  }
  if (auto r = set_registration_config(c, c.params[0], body)) return *r;
  return {200, ""};
}

net::http_reply delete_ca_certificate(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  auto r = reg->describe_ca(c.params[0]);
  if (!r) return error_for(r.fail());
  if (r->status == registry::ca_status::active) {
    return error(406, "CertificateStateException",
                 "CA certificate " + r->id() + " is ACTIVE: deactivate it first");
  }
  if (auto ok = reg->delete_ca(c.params[0]); !ok) return error_for(ok.fail());
  return {200, ""};
}

// Policies.

net::http_reply create_policy(call& c) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  std::optional<net::http_reply> bad;
  const auto document = string_member(body, "policyDocument", bad);
  if (bad) return *bad;
  if (!document) return invalid("policyDocument: required");
  auto info = c.g.sec->policies().create_policy(c.params[0], *document);
  if (!info) return error_for(info.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "policyName", c.params[0], a);
  put(d, "policyArn", c.arn("policy", c.params[0]), a);
  put(d, "policyDocument", *document, a);
  put(d, "policyVersionId", std::to_string(info->default_version), a);
  return ok(d);
}

net::http_reply get_policy(call& c) {
  auto info = c.g.sec->policies().get_policy(c.params[0]);
  if (!info) return error_for(info.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "policyName", info->name, a);
  put(d, "policyArn", c.arn("policy", info->name), a);
  for (const auto& v : info->versions) {
    if (!v.is_default) continue;
    put(d, "policyDocument", v.document, a);
    put(d, "defaultVersionId", std::to_string(v.version), a);
    d.AddMember("lastModifiedDate", epoch_seconds(v.created_ms), a);
  }
  if (!info->versions.empty()) {
    d.AddMember("creationDate", epoch_seconds(info->versions.front().created_ms), a);
  }
  put(d, "generationId", std::to_string(info->default_version), a);
  return ok(d);
}

net::http_reply list_policies(call& c) {
  std::optional<net::http_reply> bad;
  const auto size = page_size(c, "pageSize", 250, 250, bad);
  const auto from = page_token(c, "marker", bad);
  if (bad) return *bad;
  auto [names, next] = page(
      c.g.sec->policies().list_policies(), [](const auto& n) -> const std::string& { return n; },
      *size, *from, c.r.query_param("isAscendingOrder") != "false");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& n : names) {
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "policyName", n, a);
    put(o, "policyArn", c.arn("policy", n), a);
    arr.PushBack(o, a);
  }
  d.AddMember("policies", arr, a);
  if (!next.empty()) put(d, "nextMarker", next, a);
  return ok(d);
}

net::http_reply delete_policy(call& c) {
  auto& store = c.g.sec->policies();
  auto info = store.get_policy(c.params[0]);
  if (!info) return error_for(info.fail());
  if (!store.targets_for_policy(c.params[0]).empty()) {
    return error(409, "DeleteConflictException",
                 "The policy " + c.params[0] + " is attached to one or more targets");
  }
  if (info->versions.size() > 1) {
    return error(409, "DeleteConflictException",
                 "Cannot delete the policy because it has one or more policy versions attached "
                 "to it (delete the non-default versions first)");
  }
  if (auto ok = store.delete_policy(c.params[0]); !ok) return error_for(ok.fail());
  return {200, ""};
}

std::optional<std::uint32_t> version_param(const call& c, std::optional<net::http_reply>& bad) {
  const auto& s = c.params.at(1);
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v == 0) {
    bad = invalid("policyVersionId: expected a positive integer");
    return std::nullopt;
  }
  return v;
}

net::http_reply create_policy_version(call& c) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  std::optional<net::http_reply> bad;
  const auto document = string_member(body, "policyDocument", bad);
  if (bad) return *bad;
  if (!document) return invalid("policyDocument: required");
  const bool make_default = flag(c, "setAsDefault");
  auto v = c.g.sec->policies().create_policy_version(c.params[0], *document, make_default);
  if (!v) return error_for(v.fail());
  c.g.sec->changed();
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "policyArn", c.arn("policy", c.params[0]), a);
  put(d, "policyDocument", *document, a);
  put(d, "policyVersionId", std::to_string(*v), a);
  d.AddMember("isDefaultVersion", make_default, a);
  return ok(d);
}

net::http_reply list_policy_versions(call& c) {
  auto info = c.g.sec->policies().get_policy(c.params[0]);
  if (!info) return error_for(info.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (auto it = info->versions.rbegin(); it != info->versions.rend(); ++it) {
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "versionId", std::to_string(it->version), a);
    o.AddMember("isDefaultVersion", it->is_default, a);
    o.AddMember("createDate", epoch_seconds(it->created_ms), a);
    arr.PushBack(o, a);
  }
  d.AddMember("policyVersions", arr, a);
  return ok(d);
}

net::http_reply get_policy_version(call& c) {
  std::optional<net::http_reply> bad;
  const auto version = version_param(c, bad);
  if (bad) return *bad;
  auto info = c.g.sec->policies().get_policy(c.params[0]);
  if (!info) return error_for(info.fail());
  for (const auto& v : info->versions) {
    if (v.version != *version) continue;
    rapidjson::Document d;
    d.SetObject();
    auto& a = d.GetAllocator();
    put(d, "policyArn", c.arn("policy", info->name), a);
    put(d, "policyName", info->name, a);
    put(d, "policyDocument", v.document, a);
    put(d, "policyVersionId", std::to_string(v.version), a);
    d.AddMember("isDefaultVersion", v.is_default, a);
    d.AddMember("creationDate", epoch_seconds(v.created_ms), a);
    d.AddMember("lastModifiedDate", epoch_seconds(v.created_ms), a);
    put(d, "generationId", std::to_string(v.version), a);
    return ok(d);
  }
  return error(404, "ResourceNotFoundException",
               "no version " + c.params[1] + " of policy " + c.params[0]);
}

net::http_reply set_default_policy_version(call& c) {
  std::optional<net::http_reply> bad;
  const auto version = version_param(c, bad);
  if (bad) return *bad;
  if (auto ok = c.g.sec->policies().set_default_version(c.params[0], *version); !ok) {
    return error_for(ok.fail());
  }
  c.g.sec->changed();
  return {200, ""};
}

net::http_reply delete_policy_version(call& c) {
  std::optional<net::http_reply> bad;
  const auto version = version_param(c, bad);
  if (bad) return *bad;
  if (auto ok = c.g.sec->policies().delete_policy_version(c.params[0], *version); !ok) {
    return error_for(ok.fail());
  }
  return {200, ""};
}

/// The principal an attach-policy target is stored under: a certificate's id, a thing group's
/// security::group_principal (so the region and account of its ARN do not matter), or the
/// target itself.
std::string principal_of_target(std::string_view target) {
  constexpr std::string_view group = ":thinggroup/";
  if (target.starts_with("arn:aws:iot:")) {
    if (const auto at = target.find(group); at != std::string_view::npos) {
      return security::group_principal(target.substr(at + group.size()));
    }
  }
  return certificate_id_of(target);
}

/// attach-policy (PUT) and detach-policy (POST) /target-policies/{policyName}.
net::http_reply attach_policy(call& c) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  std::optional<net::http_reply> bad;
  const auto target = string_member(body, "target", bad);
  if (bad) return *bad;
  if (!target || target->empty()) return invalid("target: required");
  auto& store = c.g.sec->policies();
  if (auto info = store.get_policy(c.params[0]); !info) return error_for(info.fail());
  const std::string principal = principal_of_target(*target);
  if (principal.starts_with("thinggroup/") && !c.g.groups->describe(principal.substr(11))) {
    return error(404, "ResourceNotFoundException", "no such thing group: " + *target);
  }
  if (target->find(":cert/") != std::string::npos) {
    if (auto* reg = c.g.sec->reg(); reg == nullptr || !reg->find_certificate(principal)) {
      return error(404, "ResourceNotFoundException", "no such certificate: " + *target);
    }
  }
  auto ok = c.r.method == "PUT" ? store.attach_policy(c.params[0], principal)
                                : store.detach_policy(c.params[0], principal);
  if (!ok) return error_for(ok.fail());
  c.g.sec->changed();
  return {200, ""};
}

std::string target_arn(call& c, const std::string& principal) {
  if (principal.starts_with("thinggroup/")) return c.arn("thinggroup", principal.substr(11));
  auto* reg = c.g.sec->reg();
  if (reg != nullptr && reg->find_certificate(principal)) return c.arn("cert", principal);
  return principal;
}

net::http_reply list_attached_policies(call& c) {
  std::optional<net::http_reply> bad;
  const auto size = page_size(c, "pageSize", 250, 250, bad);
  const auto from = page_token(c, "marker", bad);
  if (bad) return *bad;
  const std::string principal = principal_of_target(c.params[0]);
  auto [names, next] = page_of(c.g.sec->policies().attached_policies(principal), *from, *size);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (!next.empty()) put(d, "nextMarker", next, a);
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& n : names) {
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "policyName", n, a);
    put(o, "policyArn", c.arn("policy", n), a);
    arr.PushBack(o, a);
  }
  d.AddMember("policies", arr, a);
  return ok(d);
}

net::http_reply list_targets_for_policy(call& c) {
  std::optional<net::http_reply> bad;
  const auto size = page_size(c, "pageSize", 250, 250, bad);
  const auto from = page_token(c, "marker", bad);
  if (bad) return *bad;
  auto& store = c.g.sec->policies();
  if (auto info = store.get_policy(c.params[0]); !info) return error_for(info.fail());
  auto [targets, next] = page_of(store.targets_for_policy(c.params[0]), *from, *size);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (!next.empty()) put(d, "nextMarker", next, a);
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& t : targets) {
    arr.PushBack(json::string_value(target_arn(c, t), a), a);
  }
  d.AddMember("targets", arr, a);
  return ok(d);
}

constexpr std::array ops{
    operation{"POST", "/keys-and-certificate", create_keys_and_certificate,
              "iot:CreateKeysAndCertificate"},
    operation{"POST", "/certificate/register", register_certificate, "iot:RegisterCertificate"},
    operation{"POST", "/certificate/register-no-ca", register_certificate_without_ca,
              "iot:RegisterCertificateWithoutCA"},
    operation{"POST", "/certificates", create_certificate_from_csr, "iot:CreateCertificateFromCsr"},
    operation{"GET", "/certificates", list_certificates, "iot:ListCertificates"},
    operation{"GET", "/certificates/{}", describe_certificate, "iot:DescribeCertificate", "cert"},
    operation{"PUT", "/certificates/{}", update_certificate, "iot:UpdateCertificate", "cert"},
    operation{"DELETE", "/certificates/{}", delete_certificate, "iot:DeleteCertificate", "cert"},
    operation{"GET", "/registrationcode", get_registration_code, "iot:GetRegistrationCode"},
    operation{"POST", "/cacertificate", register_ca_certificate, "iot:RegisterCACertificate"},
    operation{"GET", "/cacertificates", list_ca_certificates, "iot:ListCACertificates"},
    operation{"GET", "/cacertificate/{}", describe_ca_certificate, "iot:DescribeCACertificate",
              "cacert"},
    operation{"PUT", "/cacertificate/{}", update_ca_certificate, "iot:UpdateCACertificate",
              "cacert"},
    operation{"DELETE", "/cacertificate/{}", delete_ca_certificate, "iot:DeleteCACertificate",
              "cacert"},
    operation{"GET", "/policies", list_policies, "iot:ListPolicies"},
    operation{"POST", "/policies/{}", create_policy, "iot:CreatePolicy", "policy"},
    operation{"GET", "/policies/{}", get_policy, "iot:GetPolicy", "policy"},
    operation{"DELETE", "/policies/{}", delete_policy, "iot:DeletePolicy", "policy"},
    operation{"POST", "/policies/{}/version", create_policy_version, "iot:CreatePolicyVersion",
              "policy"},
    operation{"GET", "/policies/{}/version", list_policy_versions, "iot:ListPolicyVersions",
              "policy"},
    operation{"GET", "/policies/{}/version/{}", get_policy_version, "iot:GetPolicyVersion",
              "policy"},
    operation{"PATCH", "/policies/{}/version/{}", set_default_policy_version,
              "iot:SetDefaultPolicyVersion", "policy"},
    operation{"DELETE", "/policies/{}/version/{}", delete_policy_version, "iot:DeletePolicyVersion",
              "policy"},
    operation{"PUT", "/target-policies/{}", attach_policy, "iot:AttachPolicy", "policy"},
    operation{"POST", "/target-policies/{}", attach_policy, "iot:DetachPolicy", "policy"},
    operation{"POST", "/attached-policies/{}", list_attached_policies, "iot:ListAttachedPolicies"},
    operation{"POST", "/policy-targets/{}", list_targets_for_policy, "iot:ListTargetsForPolicy",
              "policy"},
};

}  // namespace

std::span<const operation> security_operations() { return ops; }

}  // namespace iotblocks::gateway::aws
