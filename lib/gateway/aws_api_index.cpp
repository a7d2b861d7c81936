// Fleet indexing over the AWS-shaped API (`aws iot update-indexing-configuration`,
// `search-index` …). There is no separate index: search-index parses the query
// (registry::fleet_query), then scans the registry's things (or the thing groups) in name
// order, building each one's document from the same registry, thing group, shadow service and
// connectivity calls the other handlers use, so a search always sees the current state. The
// cost is linear in the number of things (plus one shadow read per thing when the query names a
// shadow field), which is fine for the tens of thousands of things a gateway holds.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/registry/fleet_query.hpp>

#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"
#include "gateway/aws_index_config.hpp"
#include "gateway/security.hpp"

#include <algorithm>

namespace iotblocks::gateway::aws {
namespace {

constexpr std::string_view things_index = "AWS_Things";
constexpr std::string_view groups_index = "AWS_ThingGroups";

std::optional<net::http_reply> need_store(call& c) {
  if (c.indexing != nullptr) return std::nullopt;
  return error(500, "InternalFailureException", "fleet_indexing.db could not be opened");
}

net::http_reply get_indexing_configuration(call& c) {
  if (auto bad = need_store(c)) return *bad;
  const auto cfg = c.indexing->get();
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  auto thing = json::parse(cfg.thing_json);
  auto group = json::parse(cfg.group_json);
  if (!thing || !group) return error(500, "InternalFailureException", "stored configuration");
  rapidjson::Value t, g;
  t.CopyFrom(*thing, a);
  g.CopyFrom(*group, a);
  d.AddMember("thingIndexingConfiguration", t, a);
  d.AddMember("thingGroupIndexingConfiguration", g, a);
  return ok(d);
}

net::http_reply update_indexing_configuration(call& c) {
  if (auto bad = need_store(c)) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  for (auto it = body.MemberBegin(); it != body.MemberEnd(); ++it) {
    const auto k = json::view(it->name);
    if (k != "thingIndexingConfiguration" && k != "thingGroupIndexingConfiguration") {
      return invalid(std::string(k) + ": unknown member");
    }
  }
  auto cfg = c.indexing->get();
  if (const auto* t = json::find(body, "thingIndexingConfiguration"); t && !t->IsNull()) {
    if (auto bad = read_thing_indexing(*t, cfg)) return invalid(*bad);
  }
  if (const auto* g = json::find(body, "thingGroupIndexingConfiguration"); g && !g->IsNull()) {
    if (auto bad = read_group_indexing(*g, cfg)) return invalid(*bad);
  }
  if (auto r = c.indexing->set(cfg); !r) return error_for(r.fail());
  return {200, "{}"};
}

/// The schema describe-index reports for the things index.
std::string things_schema(const indexing_config& cfg) {
  std::string s = cfg.thing_mode;
  if (cfg.connectivity_mode == "STATUS") s += "_AND_CONNECTIVITY_STATUS";
  if (cfg.named_shadow_mode == "ON") s = "MULTI_INDEXING_MODE";
  return s;
}

bool index_on(const indexing_config& cfg, std::string_view name) {
  return (name == things_index && cfg.thing_mode != "OFF") ||
         (name == groups_index && cfg.group_mode != "OFF");
}

net::http_reply no_index(std::string_view name) {
  return error(404, "ResourceNotFoundException",
               "Index " + std::string(name) + " does not exist (its indexing mode is OFF)");
}

net::http_reply describe_index(call& c) {
  if (auto bad = need_store(c)) return *bad;
  const auto cfg = c.indexing->get();
  const auto& name = c.params[0];
  if (!index_on(cfg, name)) return no_index(name);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "indexName", name, a);
  put(d, "indexStatus", "ACTIVE", a);  // searches scan the registry: never BUILDING
  put(d, "schema", name == things_index ? things_schema(cfg) : std::string("THING_GROUPS"), a);
  return ok(d);
}

net::http_reply list_indices(call& c) {
  if (auto bad = need_store(c)) return *bad;
  std::optional<net::http_reply> bad;
  const auto max = page_size(c, "maxResults", 500, 500, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  const auto cfg = c.indexing->get();
  std::vector<std::string> names;
  for (auto n : {things_index, groups_index}) {
    if (index_on(cfg, n)) names.emplace_back(n);
  }
  auto [page, next] = page_of(std::move(names), *from, *max);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& n : page) arr.PushBack(json::string_value(n, a), a);
  d.AddMember("indexNames", arr, a);
  if (!next.empty()) put(d, "nextToken", next, a);
  return ok(d);
}

/// The shadows of `thing` the configuration indexes, as {"<name or empty>": state object}.
std::vector<std::pair<std::string, rapidjson::Document>> shadows_of(gateway::impl& g,
                                                                    const indexing_config& cfg,
                                                                    const std::string& thing) {
  std::vector<std::pair<std::string, rapidjson::Document>> out;
  if (cfg.thing_mode != "REGISTRY_AND_SHADOW") return out;
  std::vector<std::string> names{""};
  if (cfg.named_shadow_mode == "ON") {
    names.insert(names.end(), cfg.named_shadows.begin(), cfg.named_shadows.end());
  }
  for (const auto& name : names) {
    auto got = g.shadows->get({thing, name});
    if (!got.accepted()) continue;
    auto doc = json::parse(got.body);
    if (!doc || !doc->IsObject()) continue;
    out.emplace_back(name, std::move(*doc));
  }
  return out;
}

/// Adds a shadow's state sections to the document: shadow[.name.<n>].{desired,reported,delta}.
void index_shadow(registry::thing_document& d, const std::string& name,
                  const rapidjson::Value& shadow) {
  const std::string prefix = name.empty() ? "shadow" : "shadow.name." + name;
  const auto* state = json::find(shadow, "state");
  if (state == nullptr || !state->IsObject()) return;
  for (auto section : {"desired", "reported", "delta"}) {
    if (const auto* s = json::find(*state, section); s && s->IsObject()) {
      (void)d.add_json(prefix + "." + section, json::write(*s));
    }
  }
  d.add(prefix + ".hasDelta", json::find(*state, "delta") != nullptr ? "true" : "false");
  if (const auto* v = json::find(shadow, "version"); v && v->IsInt64()) {
    d.add(prefix + ".version", std::to_string(v->GetInt64()));
  }
}

/// The ThingDocument's "shadow" string: {"desired","reported","delta","version",
/// "name":{<n>: {…}}} (AWS's shape, metadata left out).
std::string shadow_json(const std::vector<std::pair<std::string, rapidjson::Document>>& shadows) {
  rapidjson::Document out;
  out.SetObject();
  auto& a = out.GetAllocator();
  rapidjson::Value named(rapidjson::kObjectType);
  for (const auto& [name, doc] : shadows) {
    rapidjson::Value one(rapidjson::kObjectType);
    if (const auto* state = json::find(doc, "state"); state && state->IsObject()) {
      for (auto it = state->MemberBegin(); it != state->MemberEnd(); ++it) {
        rapidjson::Value v;
        v.CopyFrom(it->value, a);
        one.AddMember(json::string_value(json::view(it->name), a), v, a);
      }
      one.AddMember("hasDelta", json::find(*state, "delta") != nullptr, a);
    }
    if (const auto* v = json::find(doc, "version"); v && v->IsInt64()) {
      one.AddMember("version", v->GetInt64(), a);
    }
    if (name.empty()) {
      for (auto it = one.MemberBegin(); it != one.MemberEnd(); ++it) {
        out.AddMember(it->name, it->value, a);
      }
    } else {
      named.AddMember(json::string_value(name, a), one, a);
    }
  }
  if (named.MemberCount() > 0) out.AddMember("name", named, a);
  return json::write(out);
}

}  // namespace

registry::thing_document index_document(gateway::impl& g, const indexing_config& cfg,
                                        const registry::thing& t, bool with_shadow) {
  registry::thing_document doc;
  doc.add("thingName", t.name);
  doc.add("thingId", uuid_from(t.name));
  if (!t.type.empty()) doc.add("thingTypeName", t.type);
  for (const auto& group : g.groups->groups_of(t.name)) doc.add("thingGroupNames", group);
  for (const auto& [k, v] : t.attributes) doc.add("attributes." + k, v);
  if (with_shadow) {
    for (const auto& [name, s] : shadows_of(g, cfg, t.name)) index_shadow(doc, name, s);
  }
  if (cfg.connectivity_mode == "STATUS") {
    const auto link = g.connectivity.of(t.name);
    doc.add("connectivity.connected", link && link->connected ? "true" : "false");
    if (link) {
      doc.add("connectivity.timestamp", std::to_string(link->timestamp_ms));
      if (!link->disconnect_reason.empty()) {
        doc.add("connectivity.disconnectReason", link->disconnect_reason);
      }
    }
  }
  return doc;
}

namespace {

net::http_reply search_things(call& c, const indexing_config& cfg, const registry::fleet_query& q,
                              std::size_t max, const std::string& from) {
  std::optional<net::http_reply> bad;
  auto* reg = need_registry(c, bad);
  if (bad) return *bad;
  auto things = reg->list_things();
  std::sort(things.begin(), things.end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  const bool connectivity = cfg.connectivity_mode == "STATUS";
  const bool query_reads_shadow = q.reads("shadow.");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& t : things) {
    if (t.name < from) continue;
    if (!q.matches(index_document(c.g, cfg, t, query_reads_shadow))) continue;
    if (arr.Size() == max) {
      put(d, "nextToken", make_token(t.name), a);
      break;
    }
    const auto groups = c.g.groups->groups_of(t.name);
    const auto shadows = shadows_of(c.g, cfg, t.name);
    const auto link = connectivity ? c.g.connectivity.of(t.name) : std::nullopt;
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "thingName", t.name, a);
    put(o, "thingId", uuid_from(t.name), a);
    if (!t.type.empty()) put(o, "thingTypeName", t.type, a);
    rapidjson::Value names(rapidjson::kArrayType);
    for (const auto& g : groups) names.PushBack(json::string_value(g, a), a);
    o.AddMember("thingGroupNames", names, a);
    rapidjson::Value attrs(rapidjson::kObjectType);
    for (const auto& [k, v] : t.attributes) put(attrs, k, v, a);
    o.AddMember("attributes", attrs, a);
    if (!shadows.empty()) put(o, "shadow", shadow_json(shadows), a);
    if (connectivity) {
      rapidjson::Value conn(rapidjson::kObjectType);
      conn.AddMember("connected", link.has_value() && link->connected, a);
      if (link) {
        conn.AddMember("timestamp", link->timestamp_ms, a);
        if (!link->disconnect_reason.empty()) {
          put(conn, "disconnectReason", link->disconnect_reason, a);
        }
      }
      o.AddMember("connectivity", conn, a);
    }
    arr.PushBack(o, a);
  }
  d.AddMember("things", arr, a);
  d.AddMember("thingGroups", rapidjson::Value(rapidjson::kArrayType), a);
  return ok(d);
}

net::http_reply search_groups(call& c, const registry::fleet_query& q, std::size_t max,
                              const std::string& from) {
  auto& groups = *c.g.groups;
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& name : groups.list()) {  // sorted
    if (name < from) continue;
    auto g = groups.describe(name);
    if (!g) continue;
    const auto parents = groups.ancestors(name);
    registry::thing_document doc;
    doc.add("thingGroupName", g->name);
    doc.add("thingGroupId", uuid_from("thinggroup/" + g->name));
    if (!g->description.empty()) doc.add("thingGroupDescription", g->description);
    for (const auto& p : parents) doc.add("parentGroupNames", p);
    for (const auto& [k, v] : g->attributes) doc.add("attributes." + k, v);
    if (!q.matches(doc)) continue;
    if (arr.Size() == max) {
      put(d, "nextToken", make_token(name), a);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "thingGroupName", g->name, a);
    put(o, "thingGroupId", uuid_from("thinggroup/" + g->name), a);
    if (!g->description.empty()) put(o, "thingGroupDescription", g->description, a);
    rapidjson::Value attrs(rapidjson::kObjectType);
    for (const auto& [k, v] : g->attributes) put(attrs, k, v, a);
    o.AddMember("attributes", attrs, a);
    rapidjson::Value names(rapidjson::kArrayType);
    for (const auto& p : parents) names.PushBack(json::string_value(p, a), a);
    o.AddMember("parentGroupNames", names, a);
    arr.PushBack(o, a);
  }
  d.AddMember("things", rapidjson::Value(rapidjson::kArrayType), a);
  d.AddMember("thingGroups", arr, a);
  return ok(d);
}

net::http_reply search_index(call& c) {
  if (auto bad = need_store(c)) return *bad;
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  std::optional<net::http_reply> bad;
  const auto name = string_member(body, "indexName", bad).value_or(std::string(things_index));
  const auto query = string_member(body, "queryString", bad);
  const auto token = string_member(body, "nextToken", bad);
  (void)string_member(body, "queryVersion", bad);
  if (bad) return *bad;
  if (!query) return invalid("queryString: required");
  std::size_t max = 100;
  if (const auto* m = json::find(body, "maxResults"); m && !m->IsNull()) {
    if (!m->IsInt64() || m->GetInt64() < 1 || m->GetInt64() > 500) {
      return invalid("maxResults: expected an integer in 1..500");
    }
    max = static_cast<std::size_t>(m->GetInt64());
  }
  std::string from;
  if (token && !token->empty()) {
    // The same opaque tokens as the list calls (page_token reads them from the query string).
    auto decoded = from_base64(*token);
    if (!decoded || decoded->empty()) return invalid("nextToken: not a token this API returned");
    from = std::string(as_string_view(*decoded));
  }
  if (name != things_index && name != groups_index) {
    return error(404, "ResourceNotFoundException", "Index " + name + " does not exist");
  }
  const auto cfg = c.indexing->get();
  if (!index_on(cfg, name)) return no_index(name);
  auto q = registry::fleet_query::parse(*query, name == things_index
                                                    ? registry::fleet_index::things
                                                    : registry::fleet_index::thing_groups);
  if (!q) return error(400, "InvalidQueryException", q.describe());
  return name == things_index ? search_things(c, cfg, *q, max, from)
                              : search_groups(c, *q, max, from);
}

}  // namespace

std::span<const operation> index_operations() {
  static const operation all[] = {
      {"GET", "/indexing/config", get_indexing_configuration, "iot:GetIndexingConfiguration"},
      {"POST", "/indexing/config", update_indexing_configuration,
       "iot:UpdateIndexingConfiguration"},
      {"GET", "/indices", list_indices, "iot:ListIndices"},
      {"POST", "/indices/search", search_index, "iot:SearchIndex"},
      {"GET", "/indices/{}", describe_index, "iot:DescribeIndex", "index"},
  };
  return all;
}

}  // namespace iotblocks::gateway::aws
