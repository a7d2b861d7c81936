// The AWS IoT control plane (`aws iot …`): things and their principals,
// describe-endpoint and topic rules, through the registry and the rules engine
// the admin API uses; certificates, CAs and policies are in aws_api_iot_security.cpp.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/sql/rule.hpp>

#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"
#include "gateway/security.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace iotblocks::gateway::aws {

registry::registry* need_registry(call& c, std::optional<net::http_reply>& bad) {
  auto* reg = c.g.sec->reg();
  if (reg == nullptr) {
    bad = invalid(
        "the certificate registry is off: configure an mqtts listener that requests client "
        "certificates");
  }
  return reg;
}

std::string certificate_id_of(std::string_view principal) {
  const auto at = principal.find(":cert/");
  return std::string(at == std::string_view::npos ? principal : principal.substr(at + 6));
}

const std::string* header_value(const net::incoming_request& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) == name[i];
    }
    if (same) return &v;
  }
  return nullptr;
}

std::optional<std::size_t> page_size(const call& c, std::string_view key, std::size_t fallback,
                                     std::size_t max, std::optional<net::http_reply>& bad) {
  const std::string v = c.r.query_param(key);
  if (v.empty()) return fallback;
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || n < 1 || n > max) {
    bad = invalid(std::string(key) + ": expected an integer in 1.." + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<std::string> page_token(const call& c, std::string_view key,
                                      std::optional<net::http_reply>& bad) {
  const std::string v = c.r.query_param(key);
  if (v.empty()) return std::string{};
  auto bytes = from_base64(v);
  if (!bytes || bytes->empty()) {
    bad = invalid(std::string(key) + ": not a token this API returned");
    return std::nullopt;
  }
  return std::string(as_string_view(*bytes));
}

std::string make_token(std::string_view next_key) { return to_base64(as_bytes(next_key)); }

std::pair<std::vector<std::string>, std::string> page_of(std::vector<std::string> keys,
                                                         const std::string& from,
                                                         std::size_t size) {
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> out;
  std::string next;
  for (auto& k : keys) {
    if (!from.empty() && k < from) continue;
    if (out.size() == size) {
      next = make_token(k);
      break;
    }
    out.push_back(std::move(k));
  }
  return {std::move(out), std::move(next)};
}

std::string uuid_from(std::string_view seed) {
  const auto h = sigv4::hex_sha256(seed);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

namespace {

std::string thing_id(std::string_view name) { return uuid_from(name); }

rapidjson::Value attributes_json(const registry::thing& t, alloc& a) {
  rapidjson::Value attrs(rapidjson::kObjectType);
  for (const auto& [k, v] : t.attributes) put(attrs, k, v, a);
  return attrs;
}

/// Reads attributePayload {attributes, merge} and thingTypeName into `t`.
std::optional<net::http_reply> read_thing_body(const rapidjson::Value& body, registry::thing& t,
                                               bool& merge) {
  std::optional<net::http_reply> bad;
  if (auto type = string_member(body, "thingTypeName", bad)) t.type = *type;
  if (bad) return bad;
  const auto* payload = json::find(body, "attributePayload");
  if (payload == nullptr || payload->IsNull()) return std::nullopt;
  if (!payload->IsObject()) return invalid("attributePayload: expected an object");
  if (const auto* m = json::find(*payload, "merge")) {
    if (!m->IsBool()) return invalid("attributePayload.merge: expected true or false");
    merge = m->GetBool();
  }
  const auto* attrs = json::find(*payload, "attributes");
  if (attrs == nullptr || attrs->IsNull()) return std::nullopt;
  if (!attrs->IsObject()) return invalid("attributePayload.attributes: expected an object");
  for (auto it = attrs->MemberBegin(); it != attrs->MemberEnd(); ++it) {
    const std::string key(json::view(it->name));
    if (!it->value.IsString()) {
      return invalid("attributePayload.attributes." + key + ": expected a string");
    }
    t.attributes[key] = std::string(json::view(it->value));
  }
  return std::nullopt;
}

net::http_reply create_thing(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  registry::thing t;
  t.name = c.params[0];
  bool merge = false;
  if (auto b = read_thing_body(body, t, merge)) return *b;
  if (auto b = thing_type_assignable(c, t.type)) return *b;
  std::erase_if(t.attributes, [](const auto& kv) { return kv.second.empty(); });
  if (auto ok = reg->create_thing(t); !ok) {
    // As AWS: the same name and configuration again succeeds; another configuration is 409.
    auto existing = reg->describe_thing(t.name);
    if (!existing || existing->type != t.type || existing->attributes != t.attributes) {
      return error_for(ok.fail());
    }
  }
  c.g.sec->changed();
  dynamic_groups_refresh(c, t.name);
  rapidjson::Document d;
  d.SetObject();
  put(d, "thingName", t.name, d.GetAllocator());
  put(d, "thingArn", c.arn("thing", t.name), d.GetAllocator());
  put(d, "thingId", thing_id(t.name), d.GetAllocator());
  return ok(d);
}

net::http_reply describe_thing(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  auto t = reg->describe_thing(c.params[0]);
  if (!t) return error_for(t.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "defaultClientId", t->name, a);
  put(d, "thingName", t->name, a);
  put(d, "thingId", thing_id(t->name), a);
  put(d, "thingArn", c.arn("thing", t->name), a);
  if (!t->type.empty()) put(d, "thingTypeName", t->type, a);
  d.AddMember("attributes", attributes_json(*t, a), a);
  d.AddMember("version", t->version, a);
  return ok(d);
}

net::http_reply list_things(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  const std::string attr = c.r.query_param("attributeName");
  const std::string value = c.r.query_param("attributeValue");
  const std::string type = c.r.query_param("thingTypeName");
  const bool prefix = c.r.query_param("usePrefixAttributeValue") == "true";
  auto things = reg->list_things();
  std::sort(things.begin(), things.end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& t : things) {
    if (!from->empty() && t.name < *from) continue;
    if (!type.empty() && t.type != type) continue;
    if (!attr.empty()) {
      const auto it = t.attributes.find(attr);
      if (it == t.attributes.end()) continue;
      if (!value.empty() && (prefix ? !it->second.starts_with(value) : it->second != value)) {
        continue;
      }
    }
    if (arr.Size() == *max) {
      put(d, "nextToken", make_token(t.name), a);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "thingName", t.name, a);
    if (!t.type.empty()) put(o, "thingTypeName", t.type, a);
    put(o, "thingArn", c.arn("thing", t.name), a);
    o.AddMember("attributes", attributes_json(t, a), a);
    o.AddMember("version", t.version, a);
    arr.PushBack(o, a);
  }
  d.AddMember("things", arr, a);
  return ok(d);
}

net::http_reply update_thing(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  auto now = reg->describe_thing(c.params[0]);
  if (!now) return error_for(now.fail());
  registry::thing change;
  change.name = now->name;
  bool merge = false;
  if (auto b = read_thing_body(body, change, merge)) return *b;
  registry::thing t = *now;
  if (json::find(body, "thingTypeName") != nullptr && change.type != t.type) {
    if (auto b = thing_type_assignable(c, change.type)) return *b;
    t.type = change.type;
  }
  if (json::get_bool(body, "removeThingType").value_or(false)) t.type.clear();
  if (const auto* p = json::find(body, "attributePayload");
      p != nullptr && json::find(*p, "attributes") != nullptr) {
    if (!merge) t.attributes.clear();
    for (const auto& [k, v] : change.attributes) {
      if (v.empty()) {
        t.attributes.erase(k);
      } else {
        t.attributes[k] = v;
      }
    }
  }
  std::optional<std::int64_t> expected;
  if (const auto* v = json::find(body, "expectedVersion"); v != nullptr && !v->IsNull()) {
    if (!v->IsInt64()) return invalid("expectedVersion: expected an integer");
    expected = v->GetInt64();
  }
  if (auto ok = reg->update_thing(t, expected); !ok) return error_for(ok.fail());
  c.g.sec->changed();
  dynamic_groups_refresh(c, t.name);
  return {200, "{}"};
}

net::http_reply delete_thing(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  std::optional<std::int64_t> expected;
  if (const auto v = c.r.query_param("expectedVersion"); !v.empty()) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size()) {
      return invalid("expectedVersion: expected an integer");
    }
    expected = n;
  }
  if (!reg->describe_thing(c.params[0])) return {200, "{}"};  // AWS: deleting nothing succeeds
  auto principals = reg->list_thing_principals(c.params[0]);
  if (principals && !principals->empty()) {
    return invalid("Cannot delete thing " + c.params[0] +
                   " which has attached principals: detach them first");
  }
  if (auto ok = reg->delete_thing(c.params[0], expected); !ok) return error_for(ok.fail());
  c.g.sec->changed();
  thing_deleted(c, c.params[0]);
  return {200, "{}"};
}

std::optional<std::string> principal_header(const call& c, std::optional<net::http_reply>& bad) {
  const auto* p = header_value(c.r, "x-amzn-principal");
  if (p == nullptr || p->empty()) {
    bad = invalid("principal: the x-amzn-principal header is required");
    return std::nullopt;
  }
  return certificate_id_of(*p);
}

net::http_reply attach_thing_principal(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  const auto id = principal_header(c, bad);
  if (bad) return *bad;
  auto ok = c.r.method == "PUT" ? reg->attach_thing(c.params[0], *id)
                                : reg->detach_thing(c.params[0], *id);
  if (!ok) return error_for(ok.fail());
  c.g.sec->changed();
  return {200, "{}"};
}

/// {"<key>": [...], "<token key>": next} (the token only when there is a next page).
net::http_reply page_reply(std::string_view key, const std::vector<std::string>& items,
                           std::string_view token_key, const std::string& next) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& i : items) arr.PushBack(json::string_value(i, a), a);
  d.AddMember(json::string_value(key, a), arr, a);
  if (!next.empty()) put(d, token_key, next, a);
  return ok(d);
}

net::http_reply list_thing_principals(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  const auto size = page_size(c, "maxResults", 25, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  auto ids = reg->list_thing_principals(c.params[0]);
  if (!ids) return error_for(ids.fail());
  auto [items, next] = page_of(std::move(*ids), *from, *size);
  for (auto& id : items) id = c.arn("cert", id);
  return page_reply("principals", items, "nextToken", next);
}

net::http_reply list_principal_things(call& c) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  const auto id = principal_header(c, bad);
  const auto size = page_size(c, "maxResults", 25, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  auto rec = reg->describe_certificate(*id);
  if (!rec) return error_for(rec.fail());
  std::vector<std::string> names;
  for (const auto& t : (*rec)->things) names.push_back(t.name);
  auto [items, next] = page_of(std::move(names), *from, *size);
  return page_reply("things", items, "nextToken", next);
}

net::http_reply describe_endpoint(call& c) {
  const std::string type = c.r.query_param("endpointType");
  std::vector<std::string_view> wanted;
  if (type.empty() || type == "iot:Data-ATS" || type == "iot:Data") {
    wanted = {"mqtts", "mqtt"};
  } else if (type == "iot:CredentialProvider" || type == "iot:Jobs") {
    wanted = {"http"};
  } else {
    return invalid(
        "endpointType: expected iot:Data, iot:Data-ATS, iot:CredentialProvider or "
        "iot:Jobs");
  }
  for (auto want : wanted) {
    for (const auto& e : c.g.endpoints) {
      if (e.type != want) continue;
      const bool aws_port =
          (want == "mqtts" && e.port == 8883) || (want == "http" && e.port == 443);
      rapidjson::Document d;
      d.SetObject();
      put(d, "endpointAddress", aws_port ? e.address : e.address + ":" + std::to_string(e.port),
          d.GetAllocator());
      return ok(d);
    }
  }
  return error(404, "ResourceNotFoundException", "no listener serves " + type);
}

// Topic rules.

net::http_reply save_rule(call& c, const std::string& name) {
  const auto info = c.g.rules->rule(name);
  if (!info) return error(404, "ResourceNotFoundException", "no such rule: " + name);
  if (auto saved = c.g.rule_changes->save(name, info->document.to_json()); !saved) {
    return error_for(saved.fail());
  }
  return {200, "{}"};
}

std::optional<net::http_reply> check_sql(call& c) {
  auto doc = json::parse(c.r.body);
  if (!doc) return invalid("the body is not JSON: " + doc.describe());
  if (!doc->IsObject()) return invalid("the body must be a topicRulePayload object");
  const auto sql_text = json::get_string(*doc, "sql");
  if (!sql_text) return invalid("sql: expected a string");
  auto q =
      sql::compile(*sql_text, sql::compile_options{}.functions(c.g.sec->sql_functions().get()));
  if (!q) return error(400, "SqlParseException", "sql: " + q.describe());
  return std::nullopt;
}

net::http_reply create_topic_rule(call& c) {
  if (auto bad = check_sql(c)) return *bad;
  const std::string& name = c.params[0];
  if (c.g.rules->rule(name)) {
    return error(409, "ResourceAlreadyExistsException", "rule " + name + " already exists");
  }
  if (auto ok = c.g.rules->add_rule(name, c.r.body); !ok) return error_for(ok.fail());
  return save_rule(c, name);
}

net::http_reply replace_topic_rule(call& c) {
  if (auto bad = check_sql(c)) return *bad;
  if (auto ok = c.g.rules->replace_rule(c.params[0], c.r.body); !ok) return error_for(ok.fail());
  return save_rule(c, c.params[0]);
}

net::http_reply get_topic_rule(call& c) {
  const auto info = c.g.rules->rule(c.params[0]);
  if (!info) return error(404, "ResourceNotFoundException", "no such rule: " + c.params[0]);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "ruleArn", c.arn("rule", c.params[0]), a);
  rapidjson::Value rule(rapidjson::kObjectType);
  put(rule, "ruleName", c.params[0], a);
  if (auto doc = json::parse(info->document.to_json()); doc && doc->IsObject()) {
    const rapidjson::Value& parsed = *doc;
    for (auto it = parsed.MemberBegin(); it != parsed.MemberEnd(); ++it) {
      rule.AddMember(rapidjson::Value(it->name, a), rapidjson::Value(it->value, a), a);
    }
  }
  d.AddMember("rule", rule, a);
  return ok(d);
}

net::http_reply list_topic_rules(call& c) {
  std::optional<net::http_reply> bad;
  const auto max = page_size(c, "maxResults", 1000, 10000, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  const std::string topic = c.r.query_param("topic");
  const std::string disabled = c.r.query_param("ruleDisabled");
  auto names = c.g.rules->rule_names();
  std::sort(names.begin(), names.end());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& name : names) {
    if (!from->empty() && name < *from) continue;
    const auto info = c.g.rules->rule(name);
    if (!info) continue;
    if (!topic.empty() && info->from != topic) continue;
    if (!disabled.empty() && (disabled == "true") != info->document.disabled) continue;
    if (arr.Size() == *max) {
      put(d, "nextToken", make_token(name), a);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "ruleArn", c.arn("rule", name), a);
    put(o, "ruleName", name, a);
    put(o, "topicPattern", info->from, a);
    o.AddMember("ruleDisabled", info->document.disabled, a);
    arr.PushBack(o, a);
  }
  d.AddMember("rules", arr, a);
  return ok(d);
}

net::http_reply delete_topic_rule(call& c) {
  if (!c.g.rules->remove_rule(c.params[0])) {
    return error(404, "ResourceNotFoundException", "no such rule: " + c.params[0]);
  }
  if (auto saved = c.g.rule_changes->erase(c.params[0]); !saved) return error_for(saved.fail());
  return {200, "{}"};
}

net::http_reply enable_topic_rule(call& c) {
  const bool enable = c.r.raw_path.ends_with("/enable");
  if (auto ok = c.g.rules->set_rule_enabled(c.params[0], enable); !ok) {
    return error_for(ok.fail());
  }
  return save_rule(c, c.params[0]);
}

}  // namespace

std::span<const operation> iot_operations() {
  static const auto all = [] {
    std::vector<operation> v{
        {"GET", "/things", list_things, "iot:ListThings"},
        {"POST", "/things/{}", create_thing, "iot:CreateThing", "thing"},
        {"GET", "/things/{}", describe_thing, "iot:DescribeThing", "thing"},
        {"PATCH", "/things/{}", update_thing, "iot:UpdateThing", "thing"},
        {"DELETE", "/things/{}", delete_thing, "iot:DeleteThing", "thing"},
        {"PUT", "/things/{}/principals", attach_thing_principal, "iot:AttachThingPrincipal",
         "thing"},
        {"DELETE", "/things/{}/principals", attach_thing_principal, "iot:DetachThingPrincipal",
         "thing"},
        {"GET", "/things/{}/principals", list_thing_principals, "iot:ListThingPrincipals", "thing"},
        {"GET", "/principals/things", list_principal_things, "iot:ListPrincipalThings"},
        {"GET", "/endpoint", describe_endpoint, "iot:DescribeEndpoint"},
        {"GET", "/rules", list_topic_rules, "iot:ListTopicRules"},
        {"POST", "/rules/{}", create_topic_rule, "iot:CreateTopicRule", "rule"},
        {"GET", "/rules/{}", get_topic_rule, "iot:GetTopicRule", "rule"},
        {"PATCH", "/rules/{}", replace_topic_rule, "iot:ReplaceTopicRule", "rule"},
        {"DELETE", "/rules/{}", delete_topic_rule, "iot:DeleteTopicRule", "rule"},
        {"POST", "/rules/{}/enable", enable_topic_rule, "iot:EnableTopicRule", "rule"},
        {"POST", "/rules/{}/disable", enable_topic_rule, "iot:DisableTopicRule", "rule"},
    };
    const auto more = security_operations();
    v.insert(v.end(), more.begin(), more.end());
    const auto jobs = jobs_operations();
    v.insert(v.end(), jobs.begin(), jobs.end());
    const auto groups = group_operations();
    v.insert(v.end(), groups.begin(), groups.end());
    const auto types = thing_type_operations();
    v.insert(v.end(), types.begin(), types.end());
    const auto tags = tag_operations();
    v.insert(v.end(), tags.begin(), tags.end());
    const auto index = index_operations();
    v.insert(v.end(), index.begin(), index.end());
    const auto dynamic = dynamic_group_operations();
    v.insert(v.end(), dynamic.begin(), dynamic.end());
    const auto templates = provisioning_template_operations();
    v.insert(v.end(), templates.begin(), templates.end());
    const auto events = event_operations();
    v.insert(v.end(), events.begin(), events.end());
    return v;
  }();
  return all;
}

}  // namespace iotblocks::gateway::aws
