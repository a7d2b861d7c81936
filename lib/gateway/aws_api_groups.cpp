// Static thing groups over the AWS-shaped API (`aws iot create-thing-group` …) on
// registry::thing_groups (thing_groups.db). Adding a thing to a group gives it an execution of
// each IN_PROGRESS continuous job that targets the group or one of its ancestors.
#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"
#include "gateway/aws_index_config.hpp"
#include "gateway/security.hpp"

#include <charconv>

namespace iotblocks::gateway::aws {
namespace {

std::string group_id(std::string_view name) { return uuid_from("thinggroup/" + std::string(name)); }

rapidjson::Value name_and_arn(const call& c, std::string_view name, alloc& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  put(o, "groupName", name, a);
  put(o, "groupArn", c.arn("thinggroup", name), a);
  return o;
}

registry::thing_groups& groups_of(call& c) { return *c.g.groups; }

/// thingGroupProperties: thingGroupDescription and attributePayload {attributes, merge}.
std::optional<net::http_reply> read_properties(const rapidjson::Value& body,
                                               registry::thing_group_update& u) {
  const auto* props = json::find(body, "thingGroupProperties");
  if (props == nullptr || props->IsNull()) return std::nullopt;
  if (!props->IsObject()) return invalid("thingGroupProperties: expected an object");
  std::optional<net::http_reply> bad;
  if (auto d = string_member(*props, "thingGroupDescription", bad)) u.description = *d;
  if (bad) return bad;
  const auto* payload = json::find(*props, "attributePayload");
  if (payload == nullptr || payload->IsNull()) return std::nullopt;
  const auto* attrs = payload->IsObject() ? json::find(*payload, "attributes") : nullptr;
  if (!payload->IsObject() || (attrs != nullptr && !attrs->IsObject())) {
    return invalid("thingGroupProperties.attributePayload: expected {attributes: {...}}");
  }
  if (const auto* merge = json::find(*payload, "merge"); merge != nullptr && !merge->IsNull()) {
    if (!merge->IsBool()) return invalid("attributePayload.merge: expected a boolean");
    u.merge = merge->GetBool();
  }
  auto& out = u.attributes.emplace();
  if (attrs == nullptr) return std::nullopt;
  for (auto it = attrs->MemberBegin(); it != attrs->MemberEnd(); ++it) {
    if (!it->value.IsString()) {
      return invalid("attributePayload.attributes." + std::string(json::view(it->name)) +
                     ": expected a string");
    }
    out[std::string(json::view(it->name))] = std::string(json::view(it->value));
  }
  return std::nullopt;
}

/// expectedVersion: a number in a body, a decimal in a query string.
std::optional<net::http_reply> read_expected_version(std::string_view text,
                                                     std::optional<std::int64_t>& out) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || v < 0) {
    return invalid("expectedVersion: expected a non-negative integer");
  }
  out = v;
  return std::nullopt;
}

net::http_reply create_thing_group(call& c) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  std::optional<net::http_reply> bad;
  registry::thing_group g;
  g.name = c.params[0];
  if (auto parent = string_member(body, "parentGroupName", bad)) g.parent = *parent;
  if (bad) return *bad;
  registry::thing_group_update props;
  if (auto b = read_properties(body, props)) return *b;
  if (props.description) g.description = *props.description;
  if (props.attributes) g.attributes = *props.attributes;
  auto made = groups_of(c).create(std::move(g));
  if (!made) return error_for(made.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "thingGroupName", made->name, a);
  put(d, "thingGroupArn", c.arn("thinggroup", made->name), a);
  put(d, "thingGroupId", group_id(made->name), a);
  return ok(d);
}

net::http_reply update_thing_group(call& c) {
  if (is_dynamic_group(c, c.params[0])) {
    return invalid("thing group " + c.params[0] + " is dynamic: use update-dynamic-thing-group");
  }
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  registry::thing_group_update u;
  if (auto b = read_properties(body, u)) return *b;
  if (const auto* v = json::find(body, "expectedVersion"); v != nullptr && !v->IsNull()) {
    if (!v->IsInt64() || v->GetInt64() < 0) {
      return invalid("expectedVersion: expected a non-negative integer");
    }
    u.expected_version = v->GetInt64();
  }
  auto done = groups_of(c).update(c.params[0], u);
  if (!done) return error_for(done.fail());
  rapidjson::Document d;
  d.SetObject();
  d.AddMember("version", done->version, d.GetAllocator());
  return ok(d);
}

net::http_reply describe_thing_group(call& c) {
  auto g = groups_of(c).describe(c.params[0]);
  if (!g) return error_for(g.fail());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "thingGroupName", g->name, a);
  put(d, "thingGroupId", group_id(g->name), a);
  put(d, "thingGroupArn", c.arn("thinggroup", g->name), a);
  d.AddMember("version", g->version, a);
  rapidjson::Value props(rapidjson::kObjectType);
  if (!g->description.empty()) put(props, "thingGroupDescription", g->description, a);
  rapidjson::Value payload(rapidjson::kObjectType);
  rapidjson::Value attrs(rapidjson::kObjectType);
  for (const auto& [k, v] : g->attributes) put(attrs, k, v, a);
  payload.AddMember("attributes", attrs, a);
  props.AddMember("attributePayload", payload, a);
  d.AddMember("thingGroupProperties", props, a);
  rapidjson::Value meta(rapidjson::kObjectType);
  if (!g->parent.empty()) {
    put(meta, "parentGroupName", g->parent, a);
    rapidjson::Value chain(rapidjson::kArrayType);
    for (const auto& name : groups_of(c).ancestors(g->name)) {
      chain.PushBack(name_and_arn(c, name, a), a);
    }
    meta.AddMember("rootToParentThingGroups", chain, a);
  }
  meta.AddMember("creationDate", epoch_seconds(g->created_ms), a);
  d.AddMember("thingGroupMetadata", meta, a);
  if (c.indexing != nullptr) {
    const auto dynamic = c.indexing->dynamic_groups();
    if (const auto it = dynamic.find(g->name); it != dynamic.end()) {
      put(d, "indexName", it->second.index_name, a);
      put(d, "queryString", it->second.query, a);
      put(d, "queryVersion", it->second.query_version, a);
      put(d, "status", "ACTIVE", a);
    }
  }
  return ok(d);
}

/// One page of group names as ThingGroupNameAndArnList under "thingGroups".
net::http_reply group_page(call& c, std::vector<std::string> names) {
  std::optional<net::http_reply> bad;
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  auto [page, next] = page_of(std::move(names), *from, *max);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& n : page) arr.PushBack(name_and_arn(c, n, a), a);
  d.AddMember("thingGroups", arr, a);
  if (!next.empty()) put(d, "nextToken", next, a);
  return ok(d);
}

net::http_reply list_thing_groups(call& c) {
  const std::string parent = c.r.query_param("parentGroup");
  const std::string prefix = c.r.query_param("namePrefixFilter");
  const std::string recursive = c.r.query_param("recursive");
  if (!parent.empty() && !groups_of(c).describe(parent)) {
    return error(404, "ResourceNotFoundException", "no thing group " + parent);
  }
  // AWS: recursive defaults to true; with a parent, false lists its direct children only.
  std::vector<std::string> names;
  if (parent.empty() && recursive == "false") {
    for (auto& n : groups_of(c).list()) {
      if (groups_of(c).ancestors(n).empty()) names.push_back(std::move(n));
    }
  } else {
    names = groups_of(c).list(parent, recursive != "false");
  }
  std::erase_if(names, [&](const std::string& n) { return !n.starts_with(prefix); });
  return group_page(c, std::move(names));
}

net::http_reply delete_thing_group(call& c) {
  if (is_dynamic_group(c, c.params[0])) {
    return invalid("thing group " + c.params[0] + " is dynamic: use delete-dynamic-thing-group");
  }
  std::optional<std::int64_t> expected;
  if (const auto v = c.r.query_param("expectedVersion"); !v.empty()) {
    if (auto b = read_expected_version(v, expected)) return *b;
  }
  auto done = groups_of(c).remove(c.params[0], expected);
  if (!done) {
    if (done.fail().code == registry::error::in_use) return invalid(done.describe());
    return error_for(done.fail());
  }
  // Its policies go with it (a group made again under the name starts with none).
  auto& policies = c.g.sec->policies();
  const std::string principal = security::group_principal(c.params[0]);
  for (const auto& p : policies.attached_policies(principal)) {
    (void)policies.detach_policy(p, principal);
  }
  c.g.sec->changed();  // its things lose its policies
  return {200, "{}"};
}

/// thingGroupName or thingGroupArn, thingName or thingArn.
std::optional<net::http_reply> membership_body(call& c, std::string& group, std::string& thing) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return b;
  std::optional<net::http_reply> bad;
  auto gn = string_member(body, "thingGroupName", bad);
  auto ga = string_member(body, "thingGroupArn", bad);
  auto tn = string_member(body, "thingName", bad);
  auto ta = string_member(body, "thingArn", bad);
  if (bad) return bad;
  auto after = [](const std::optional<std::string>& arn, std::string_view kind) {
    if (!arn) return std::string{};
    const auto at = arn->find(kind);
    return at == std::string::npos ? std::string{} : arn->substr(at + kind.size());
  };
  group = gn ? *gn : after(ga, ":thinggroup/");
  thing = tn ? *tn : after(ta, ":thing/");
  if (group.empty()) return invalid("thingGroupName or thingGroupArn is required");
  if (thing.empty()) return invalid("thingName or thingArn is required");
  return std::nullopt;
}

net::http_reply add_thing_to_thing_group(call& c) {
  std::string group, thing;
  if (auto b = membership_body(c, group, thing)) return *b;
  if (auto* reg = c.g.sec->reg(); reg != nullptr && !reg->describe_thing(thing)) {
    return error(404, "ResourceNotFoundException", "no such thing: " + thing);
  }
  if (is_dynamic_group(c, group)) {
    return invalid("thing group " + group + " is dynamic: its query decides its things");
  }
  if (auto ok = groups_of(c).add_thing(group, thing); !ok) return error_for(ok.fail());
  c.g.sec->changed();  // the group's policies apply to the thing's connections now
  reached_by_group_jobs(c.g, thing);
  dynamic_groups_refresh(c, thing);  // thingGroupNames changed
  return {200, "{}"};
}

net::http_reply remove_thing_from_thing_group(call& c) {
  std::string group, thing;
  if (auto b = membership_body(c, group, thing)) return *b;
  if (is_dynamic_group(c, group)) {
    return invalid("thing group " + group + " is dynamic: its query decides its things");
  }
  if (auto ok = groups_of(c).remove_thing(group, thing); !ok) return error_for(ok.fail());
  c.g.sec->changed();  // and no longer
  dynamic_groups_refresh(c, thing);
  return {200, "{}"};
}

net::http_reply list_things_in_thing_group(call& c) {
  if (!groups_of(c).describe(c.params[0])) {
    return error(404, "ResourceNotFoundException", "no thing group " + c.params[0]);
  }
  std::optional<net::http_reply> bad;
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  auto [page, next] = page_of(
      groups_of(c).things_in(c.params[0], c.r.query_param("recursive") == "true"), *from, *max);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& t : page) arr.PushBack(json::string_value(t, a), a);
  d.AddMember("things", arr, a);
  if (!next.empty()) put(d, "nextToken", next, a);
  return ok(d);
}

net::http_reply list_thing_groups_for_thing(call& c) {
  return group_page(c, groups_of(c).groups_of(c.params[0]));
}

}  // namespace

void reached_by_group_jobs(gateway::impl& g, std::string_view thing) {
  // Continuous jobs that target one of the thing's groups or their ancestors reach it now.
  const auto member_of = g.groups->memberships(thing);
  auto& store = g.jobs->store();
  for (const auto& id : store.job_ids()) {
    auto j = store.find_job(id);
    if (!j || !j->continuous || j->status != jobs::job_status::in_progress) continue;
    const bool targeted = std::any_of(j->targets.begin(), j->targets.end(), [&](const auto& t) {
      return t.starts_with("thinggroup/") &&
             std::binary_search(member_of.begin(), member_of.end(), t.substr(11));
    });
    if (!targeted) continue;
    if (auto out = g.jobs->service().add_target(id, thing)) {
      g.jobs->publish(std::move(*out));
    }
  }
}

void thing_deleted(call& c, std::string_view thing) {
  (void)c.g.groups->forget_thing(thing);  // a failure leaves memberships of a gone thing only
  if (auto out = c.g.jobs->service().remove_thing(thing)) c.g.jobs->publish(std::move(*out));
}

std::span<const operation> group_operations() {
  static const operation all[] = {
      {"GET", "/thing-groups", list_thing_groups, "iot:ListThingGroups"},
      {"PUT", "/thing-groups/addThingToThingGroup", add_thing_to_thing_group,
       "iot:AddThingToThingGroup"},
      {"PUT", "/thing-groups/removeThingFromThingGroup", remove_thing_from_thing_group,
       "iot:RemoveThingFromThingGroup"},
      {"POST", "/thing-groups/{}", create_thing_group, "iot:CreateThingGroup", "thinggroup"},
      {"GET", "/thing-groups/{}", describe_thing_group, "iot:DescribeThingGroup", "thinggroup"},
      {"PATCH", "/thing-groups/{}", update_thing_group, "iot:UpdateThingGroup", "thinggroup"},
      {"DELETE", "/thing-groups/{}", delete_thing_group, "iot:DeleteThingGroup", "thinggroup"},
      {"GET", "/thing-groups/{}/things", list_things_in_thing_group, "iot:ListThingsInThingGroup",
       "thinggroup"},
      {"GET", "/things/{}/thing-groups", list_thing_groups_for_thing, "iot:ListThingGroupsForThing",
       "thing"},
  };
  return all;
}

}  // namespace iotblocks::gateway::aws
