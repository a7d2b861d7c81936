// Provisioning templates over the AWS-shaped API (`aws iot create-provisioning-template` …) on
// provisioning::template_store (provisioning_templates.db): templates, their versions and the
// default version, with AWS's shapes, errors and quotas. RegisterThing uses the stored default
// version (provisioning_plane.cpp).
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/template_store.hpp>

#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"

#include <charconv>

namespace iotblocks::gateway::aws {
namespace {

namespace prov = iotblocks::provisioning;

net::http_reply prov_error(const failure& f) {
  using prov::error;
  const std::error_code ec = f.code;
  const std::string message = f.message.empty() ? ec.message() : std::string{f.message.view()};
  if (ec == error::template_not_found) return aws::error(404, "ResourceNotFoundException", message);
  if (ec == error::template_exists) {
    return aws::error(409, "ResourceAlreadyExistsException", message);
  }
  if (ec == error::version_limit) return aws::error(409, "VersionsLimitExceededException", message);
  if (ec == error::delete_conflict) return aws::error(409, "DeleteConflictException", message);
  if (ec == error::limit_exceeded) return aws::error(410, "LimitExceededException", message);
  if (ec == error::internal_error) return aws::error(500, "InternalFailureException", message);
  return invalid(message);
}

/// The store, or 400 when the gateway runs without the registry.
prov::template_store* store_of(call& c, std::optional<net::http_reply>& bad) {
  if (c.g.templates == nullptr) {
    bad = invalid("provisioning templates need \"authorize\": true and the registry");
  }
  return c.g.templates.get();
}

std::optional<bool> bool_member(const rapidjson::Value& o, std::string_view key,
                                std::optional<net::http_reply>& bad) {
  const auto* v = json::find(o, key);
  if (v == nullptr || v->IsNull()) return std::nullopt;
  if (!v->IsBool()) {
    if (!bad) bad = invalid(std::string(key) + ": expected true or false");
    return std::nullopt;
  }
  return v->IsTrue();
}

std::optional<prov::provisioning_hook> hook_member(const rapidjson::Value& o,
                                                   std::optional<net::http_reply>& bad) {
  const auto* v = json::find(o, "preProvisioningHook");
  if (v == nullptr || v->IsNull()) return std::nullopt;
  if (!v->IsObject()) {
    bad = invalid("preProvisioningHook: expected an object");
    return std::nullopt;
  }
  prov::provisioning_hook h;
  auto arn = string_member(*v, "targetArn", bad);
  if (!arn && !bad) bad = invalid("preProvisioningHook.targetArn: required");
  if (arn) h.target_arn = *arn;
  if (auto pv = string_member(*v, "payloadVersion", bad)) h.payload_version = *pv;
  return h;
}

void put_hook(rapidjson::Value& o, const prov::stored_template& t, alloc& a) {
  if (!t.hook) return;
  rapidjson::Value h(rapidjson::kObjectType);
  put(h, "payloadVersion", t.hook->payload_version, a);
  put(h, "targetArn", t.hook->target_arn, a);
  o.AddMember("preProvisioningHook", h, a);
}

std::optional<std::int64_t> version_param(std::string_view text) {
  std::int64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || p != end || v < 1) return std::nullopt;
  return v;
}

net::http_reply create_template(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = store_of(c, bad);
  if (bad) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  prov::stored_template t;
  const auto name = string_member(body, "templateName", bad);
  const auto text = string_member(body, "templateBody", bad);
  const auto role = string_member(body, "provisioningRoleArn", bad);
  if (auto d = string_member(body, "description", bad)) t.description = *d;
  if (auto ty = string_member(body, "type", bad)) t.type = *ty;
  if (auto e = bool_member(body, "enabled", bad)) t.enabled = *e;
  t.hook = hook_member(body, bad);
  if (const auto* tags = json::find(body, "tags"); tags && !tags->IsNull() && !tags->IsArray()) {
    return invalid("tags: expected a list");
  }
  if (bad) return *bad;
  for (auto [member, key] : {std::pair{&name, "templateName"}, std::pair{&text, "templateBody"},
                             std::pair{&role, "provisioningRoleArn"}}) {
    if (!*member) return invalid(std::string(key) + ": required");
  }
  t.name = *name;
  t.role_arn = *role;
  auto made = store->create(std::move(t), *text);
  if (!made) return prov_error(made.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "templateArn", c.arn("provisioningtemplate", made->name), a);
  put(d, "templateName", made->name, a);
  d.AddMember("defaultVersionId", made->default_version, a);
  return ok(d);
}

net::http_reply describe_template(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = store_of(c, bad);
  if (bad) return *bad;
  auto t = store->describe(c.params[0]);
  if (!t) return prov_error(t.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "templateArn", c.arn("provisioningtemplate", t->name), a);
  put(d, "templateName", t->name, a);
  put(d, "description", t->description, a);
  d.AddMember("creationDate", epoch_seconds(t->created_ms), a);
  d.AddMember("lastModifiedDate", epoch_seconds(t->modified_ms), a);
  d.AddMember("defaultVersionId", t->default_version, a);
  put(d, "templateBody", t->body(), a);
  d.AddMember("enabled", t->enabled, a);
  put(d, "provisioningRoleArn", t->role_arn, a);
  put_hook(d, *t, a);
  put(d, "type", t->type, a);
  return ok(d);
}

net::http_reply list_templates(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = store_of(c, bad);
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& t : store->list()) {
    if (t.name < *from) continue;
    if (arr.Size() == *max) {
      put(d, "nextToken", make_token(t.name), a);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "templateArn", c.arn("provisioningtemplate", t.name), a);
    put(o, "templateName", t.name, a);
    put(o, "description", t.description, a);
    o.AddMember("creationDate", epoch_seconds(t.created_ms), a);
    o.AddMember("lastModifiedDate", epoch_seconds(t.modified_ms), a);
    o.AddMember("enabled", t.enabled, a);
    put(o, "type", t.type, a);
    arr.PushBack(o, a);
  }
  d.AddMember("templates", arr, a);
  return ok(d);
}

net::http_reply update_template(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = store_of(c, bad);
  if (bad) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  prov::template_update u;
  u.description = string_member(body, "description", bad);
  u.enabled = bool_member(body, "enabled", bad);
  u.role_arn = string_member(body, "provisioningRoleArn", bad);
  u.hook = hook_member(body, bad);
  u.remove_hook = bool_member(body, "removePreProvisioningHook", bad).value_or(false);
  if (const auto* v = json::find(body, "defaultVersionId"); v && !v->IsNull()) {
    if (!v->IsInt64()) return invalid("defaultVersionId: expected an integer");
    u.default_version = v->GetInt64();
  }
  if (bad) return *bad;
  if (u.hook && u.remove_hook) {
    return invalid("preProvisioningHook and removePreProvisioningHook: one or the other");
  }
  if (auto t = store->update(c.params[0], u); !t) return prov_error(t.fail());
  return {200, "{}"};
}

net::http_reply delete_template(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = store_of(c, bad);
  if (bad) return *bad;
  if (auto r = store->remove(c.params[0]); !r) return prov_error(r.fail());
  return {200, "{}"};
}

net::http_reply create_version(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = store_of(c, bad);
  if (bad) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  const auto text = string_member(body, "templateBody", bad);
  if (bad) return *bad;
  if (!text) return invalid("templateBody: required");
  const auto flag = c.r.query_param("setAsDefault");
  if (!flag.empty() && flag != "true" && flag != "false") {
    return invalid("setAsDefault: expected true or false");
  }
  auto v = store->create_version(c.params[0], *text, flag == "true");
  if (!v) return prov_error(v.fail());
  auto t = store->describe(c.params[0]);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "templateArn", c.arn("provisioningtemplate", c.params[0]), a);
  put(d, "templateName", c.params[0], a);
  d.AddMember("versionId", v->id, a);
  d.AddMember("isDefaultVersion", t && t->default_version == v->id, a);
  return ok(d);
}

net::http_reply list_versions(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = store_of(c, bad);
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  auto t = store->describe(c.params[0]);
  if (!t) return prov_error(t.fail());
  const auto first = from->empty() ? std::optional<std::int64_t>(0) : version_param(*from);
  if (!first) return invalid("nextToken: not a token of this API");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& v : t->versions) {
    if (v.id < *first) continue;
    if (arr.Size() == *max) {
      put(d, "nextToken", make_token(std::to_string(v.id)), a);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("versionId", v.id, a);
    o.AddMember("creationDate", epoch_seconds(v.created_ms), a);
    o.AddMember("isDefaultVersion", v.id == t->default_version, a);
    arr.PushBack(o, a);
  }
  d.AddMember("versions", arr, a);
  return ok(d);
}

net::http_reply describe_version(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = store_of(c, bad);
  if (bad) return *bad;
  const auto id = version_param(c.params[1]);
  if (!id) return invalid("versionId: expected a positive integer");
  auto t = store->describe(c.params[0]);
  if (!t) return prov_error(t.fail());
  for (const auto& v : t->versions) {
    if (v.id != *id) continue;
    rapidjson::Document d;
    d.SetObject();
    auto& a = d.GetAllocator();
    d.AddMember("versionId", v.id, a);
    d.AddMember("creationDate", epoch_seconds(v.created_ms), a);
    put(d, "templateBody", v.body, a);
    d.AddMember("isDefaultVersion", v.id == t->default_version, a);
    return ok(d);
  }
  return aws::error(404, "ResourceNotFoundException",
                    "provisioning template " + t->name + " has no version " + c.params[1]);
}

net::http_reply delete_version(call& c) {
  std::optional<net::http_reply> bad;
  auto* store = store_of(c, bad);
  if (bad) return *bad;
  const auto id = version_param(c.params[1]);
  if (!id) return invalid("versionId: expected a positive integer");
  if (auto r = store->delete_version(c.params[0], *id); !r) return prov_error(r.fail());
  return {200, "{}"};
}

}  // namespace

std::span<const operation> provisioning_template_operations() {
  static const operation all[] = {
      {"GET", "/provisioning-templates", list_templates, "iot:ListProvisioningTemplates"},
      {"POST", "/provisioning-templates", create_template, "iot:CreateProvisioningTemplate"},
      {"GET", "/provisioning-templates/{}", describe_template, "iot:DescribeProvisioningTemplate",
       "provisioningtemplate"},
      {"PATCH", "/provisioning-templates/{}", update_template, "iot:UpdateProvisioningTemplate",
       "provisioningtemplate"},
      {"DELETE", "/provisioning-templates/{}", delete_template, "iot:DeleteProvisioningTemplate",
       "provisioningtemplate"},
      {"POST", "/provisioning-templates/{}/versions", create_version,
       "iot:CreateProvisioningTemplateVersion", "provisioningtemplate"},
      {"GET", "/provisioning-templates/{}/versions", list_versions,
       "iot:ListProvisioningTemplateVersions", "provisioningtemplate"},
      {"GET", "/provisioning-templates/{}/versions/{}", describe_version,
       "iot:DescribeProvisioningTemplateVersion", "provisioningtemplate"},
      {"DELETE", "/provisioning-templates/{}/versions/{}", delete_version,
       "iot:DeleteProvisioningTemplateVersion", "provisioningtemplate"},
  };
  return all;
}

}  // namespace iotblocks::gateway::aws
