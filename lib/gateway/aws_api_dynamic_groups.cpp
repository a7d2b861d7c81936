// Dynamic thing groups over the AWS-shaped API (`aws iot create-dynamic-thing-group` …): a
// thing group of registry::thing_groups whose query (registry::fleet_query, kept in
// fleet_indexing.db) decides its things. Membership is evaluated against the registry when the
// group is created or its query updated (every thing); for one thing when it is created,
// updated or added to or removed from a static group (every group), and when its shadow is
// updated or deleted or it connects or disconnects (the groups whose queries read shadow.* or
// connectivity.*). A thing that joins gets the group's continuous jobs, as with static groups.
#include <iotblocks/registry/fleet_query.hpp>

#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"
#include "gateway/aws_index_config.hpp"
#include "gateway/security.hpp"

#include <algorithm>

namespace iotblocks::gateway::aws {
namespace {

std::string group_id(std::string_view name) { return uuid_from("thinggroup/" + std::string(name)); }

/// Whether `q` (an AWS_Things query) matches the thing.
bool member(gateway::impl& g, const indexing_config& cfg, const registry::fleet_query& q,
            const registry::thing& t) {
  return q.matches(index_document(g, cfg, t, q.reads("shadow.")));
}

/// Makes the thing's memberships of `groups` what their queries say now.
void refresh(gateway::impl& g, std::string_view thing,
             const std::vector<std::pair<std::string, registry::fleet_query>>& groups) {
  if (groups.empty()) return;
  auto* reg = g.sec->reg();
  if (reg == nullptr) return;
  auto t = reg->describe_thing(thing);
  if (!t) return;
  const auto cfg = g.indexing->get();
  const auto current = g.groups->groups_of(thing);
  bool joined = false, changed = false;
  for (const auto& [name, q] : groups) {
    const bool in = std::binary_search(current.begin(), current.end(), name);
    if (member(g, cfg, q, *t) == in) continue;
    // A failure (the thing is in 10 groups already) leaves the membership as it was.
    auto done = in ? g.groups->remove_thing(name, thing) : g.groups->add_thing(name, thing);
    if (done) {
      changed = true;
      joined = joined || !in;
    }
  }
  if (changed) g.sec->changed();
  if (joined) reached_by_group_jobs(g, thing);
}

/// Makes the group's things those its query matches now.
std::optional<net::http_reply> evaluate(call& c, const std::string& group,
                                        const registry::fleet_query& q) {
  auto* reg = c.g.sec->reg();
  if (reg == nullptr) return std::nullopt;
  const auto cfg = c.indexing->get();
  const auto before = c.g.groups->things_in(group);
  for (const auto& t : reg->list_things()) {
    const bool in = std::binary_search(before.begin(), before.end(), t.name);
    if (member(c.g, cfg, q, t) == in) continue;
    auto done = in ? c.g.groups->remove_thing(group, t.name) : c.g.groups->add_thing(group, t.name);
    // A thing in 10 groups already stays out (as in dynamic_groups_refresh); a store failure
    // is reported, and the next evaluation of the query completes the membership.
    if (!done && done.fail().code == registry::error::storage) return error_for(done.fail());
    if (done && !in) reached_by_group_jobs(c.g, t.name);
  }
  c.g.sec->changed();  // the group's policies follow its things
  return std::nullopt;
}

/// queryString (required when `required`), indexName (AWS_Things only), queryVersion.
std::optional<net::http_reply> read_query(call& c, const rapidjson::Value& body, bool required,
                                          dynamic_group& g,
                                          std::optional<registry::fleet_query>& parsed) {
  std::optional<net::http_reply> bad;
  auto query = string_member(body, "queryString", bad);
  auto index = string_member(body, "indexName", bad);
  auto version = string_member(body, "queryVersion", bad);
  if (bad) return bad;
  if (index && *index != "AWS_Things") {
    return invalid("indexName: dynamic thing groups search AWS_Things");
  }
  if (version) g.query_version = *version;
  if (!query) {
    if (required) return invalid("queryString: required");
    return std::nullopt;
  }
  if (c.indexing->get().thing_mode == "OFF") {
    return invalid(
        "fleet indexing is OFF: set thingIndexingMode with "
        "update-indexing-configuration first");
  }
  auto q = registry::fleet_query::parse(*query);
  if (!q) return error(400, "InvalidQueryException", q.describe());
  g.query = *query;
  parsed = std::move(*q);
  return std::nullopt;
}

std::optional<net::http_reply> need_store(call& c) {
  if (c.indexing != nullptr) return std::nullopt;
  return error(500, "InternalFailureException", "fleet_indexing.db could not be opened");
}

net::http_reply create_dynamic_thing_group(call& c) {
  if (auto bad = need_store(c)) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  dynamic_group dg;
  std::optional<registry::fleet_query> q;
  if (auto bad = read_query(c, body, true, dg, q)) return *bad;
  const auto& name = c.params[0];
  if (c.g.groups->describe(name)) {
    return error(409, "ResourceAlreadyExistsException", "thing group " + name + " exists");
  }
  registry::thing_group g;
  g.name = name;
  std::optional<net::http_reply> bad;
  if (const auto* props = json::find(body, "thingGroupProperties"); props && !props->IsNull()) {
    if (!props->IsObject()) return invalid("thingGroupProperties: expected an object");
    if (auto d = string_member(*props, "thingGroupDescription", bad)) g.description = *d;
    if (bad) return *bad;
  }
  auto made = c.g.groups->create(std::move(g));
  if (!made) return error_for(made.fail());
  if (auto r = c.indexing->set_dynamic(name, dg); !r) {
    (void)c.g.groups->remove(name);
    return error_for(r.fail());
  }
  if (auto failed = evaluate(c, name, *q)) return *failed;
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "thingGroupName", name, a);
  put(d, "thingGroupArn", c.arn("thinggroup", name), a);
  put(d, "thingGroupId", group_id(name), a);
  put(d, "indexName", dg.index_name, a);
  put(d, "queryString", dg.query, a);
  put(d, "queryVersion", dg.query_version, a);
  return ok(d);
}

net::http_reply update_dynamic_thing_group(call& c) {
  if (auto bad = need_store(c)) return *bad;
  const auto& name = c.params[0];
  auto all = c.indexing->dynamic_groups();
  const auto it = all.find(name);
  if (it == all.end()) {
    return error(404, "ResourceNotFoundException", "no dynamic thing group " + name);
  }
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  if (const auto* props = json::find(body, "thingGroupProperties"); props && !props->IsNull()) {
    const auto* desc = props->IsObject() ? json::find(*props, "thingGroupDescription") : nullptr;
    const auto* attrs = props->IsObject() ? json::find(*props, "attributePayload") : nullptr;
    if (!props->IsObject() || (desc != nullptr && !desc->IsNull()) ||
        (attrs != nullptr && !attrs->IsNull())) {
      return invalid(
          "thingGroupProperties: changing a group's description or attributes is not "
          "implemented (update-thing-group is not either)");
    }
  }
  auto group = c.g.groups->describe(name);
  if (!group) return error_for(group.fail());
  if (const auto* v = json::find(body, "expectedVersion"); v && !v->IsNull()) {
    if (!v->IsInt64()) return invalid("expectedVersion: expected an integer");
    if (v->GetInt64() != group->version) {
      return error(409, "VersionConflictException", "expectedVersion does not match");
    }
  }
  dynamic_group dg = it->second;
  std::optional<registry::fleet_query> q;
  if (auto bad = read_query(c, body, false, dg, q)) return *bad;
  if (!q) {
    auto again = registry::fleet_query::parse(dg.query);
    if (!again) return error(500, "InternalFailureException", "stored query: " + again.describe());
    q = std::move(*again);
  }
  if (auto r = c.indexing->set_dynamic(name, dg); !r) return error_for(r.fail());
  if (auto failed = evaluate(c, name, *q)) return *failed;
  rapidjson::Document d;
  d.SetObject();
  d.AddMember("version", group->version, d.GetAllocator());
  return ok(d);
}

net::http_reply delete_dynamic_thing_group(call& c) {
  if (auto bad = need_store(c)) return *bad;
  const auto& name = c.params[0];
  if (!is_dynamic_group(c, name)) {
    if (c.g.groups->describe(name)) return invalid("thing group " + name + " is not dynamic");
    return {200, "{}"};  // AWS: deleting nothing succeeds
  }
  if (auto done = c.g.groups->remove(name); !done) return error_for(done.fail());
  if (auto r = c.indexing->remove_dynamic(name); !r) return error_for(r.fail());
  auto& policies = c.g.sec->policies();
  const std::string principal = security::group_principal(name);
  for (const auto& p : policies.attached_policies(principal)) {
    (void)policies.detach_policy(p, principal);
  }
  c.g.sec->changed();
  return {200, "{}"};
}

}  // namespace

bool is_dynamic_group(call& c, std::string_view group) {
  if (c.indexing == nullptr) return false;
  return c.indexing->dynamic_groups().contains(group);
}

void dynamic_groups_refresh(call& c, std::string_view thing) {
  if (c.indexing != nullptr) refresh(c.g, thing, c.indexing->dynamic_queries());
}

void dynamic_groups_follow(gateway::impl& g, std::string_view topic) {
  if (g.indexing == nullptr) return;
  constexpr std::string_view presence = "$aws/events/presence/", things = "$aws/things/";
  std::string_view thing, fields;
  if (topic.starts_with(presence)) {
    topic.remove_prefix(presence.size());
    const auto slash = topic.find('/');
    if (slash == std::string_view::npos) return;
    thing = topic.substr(slash + 1);  // the client id: AWS keys connectivity by it
    fields = "connectivity.";
  } else if (topic.starts_with(things) &&
             (topic.ends_with("/update/accepted") || topic.ends_with("/delete/accepted"))) {
    topic.remove_prefix(things.size());
    const auto slash = topic.find('/');
    if (slash == std::string_view::npos || !topic.substr(slash).starts_with("/shadow/")) return;
    thing = topic.substr(0, slash);
    fields = "shadow.";
  } else {
    return;
  }
  refresh(g, thing, g.indexing->dynamic_queries(fields));
}

std::span<const operation> dynamic_group_operations() {
  static const operation all[] = {
      {"POST", "/dynamic-thing-groups/{}", create_dynamic_thing_group,
       "iot:CreateDynamicThingGroup", "thinggroup"},
      {"PATCH", "/dynamic-thing-groups/{}", update_dynamic_thing_group,
       "iot:UpdateDynamicThingGroup", "thinggroup"},
      {"DELETE", "/dynamic-thing-groups/{}", delete_dynamic_thing_group,
       "iot:DeleteDynamicThingGroup", "thinggroup"},
  };
  return all;
}

}  // namespace iotblocks::gateway::aws
