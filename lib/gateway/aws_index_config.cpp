#include <iotblocks/registry/error.hpp>

#include "gateway/aws_index_config.hpp"
#include "sqlite/database.hpp"

#include <algorithm>
#include <initializer_list>

namespace iotblocks::gateway::aws {
namespace {

constexpr std::string_view schema =
    "CREATE TABLE IF NOT EXISTS indexing(name TEXT PRIMARY KEY, document TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS dynamic_groups(name TEXT PRIMARY KEY, query TEXT NOT NULL, "
    "index_name TEXT NOT NULL, query_version TEXT NOT NULL)";

/// The string member `key` of `v` in `allowed` (absent: `fallback`), or the error.
std::optional<std::string> mode(const rapidjson::Value& v, std::string_view at,
                                std::string_view key,
                                std::initializer_list<std::string_view> allowed,
                                std::optional<std::string_view> fallback, std::string& out) {
  const auto* m = json::find(v, key);
  const std::string field = std::string(at) + "." + std::string(key);
  if (m == nullptr || m->IsNull()) {
    if (!fallback) return field + ": required";
    out = std::string(*fallback);
    return std::nullopt;
  }
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  if (!m->IsString() ||
      std::find(allowed.begin(), allowed.end(), json::view(*m)) == allowed.end()) {
    return field + ": expected one of " + list;
  }
  out = std::string(json::view(*m));
  return std::nullopt;
}

/// managedFields / customFields: [{"name": "...", "type": "Number|String|Boolean"}].
std::optional<std::string> fields(const rapidjson::Value& v, std::string_view at,
                                  std::string_view key) {
  const auto* f = json::find(v, key);
  if (f == nullptr || f->IsNull()) return std::nullopt;
  const std::string field = std::string(at) + "." + std::string(key);
  if (!f->IsArray()) return field + ": expected a list";
  for (rapidjson::SizeType i = 0; i < f->Size(); ++i) {
    const auto& e = (*f)[i];
    const std::string one = field + "[" + std::to_string(i) + "]";
    if (!e.IsObject()) return one + ": expected {name, type}";
    const auto* name = json::find(e, "name");
    if (name != nullptr && !name->IsNull() && !name->IsString())
      return one + ".name: expected a string";
    std::string type;
    if (auto bad = mode(e, one, "type", {"Number", "String", "Boolean"}, "String", type))
      return bad;
  }
  return std::nullopt;
}

std::optional<std::string> only(const rapidjson::Value& v, std::string_view at,
                                std::initializer_list<std::string_view> keys) {
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    if (std::find(keys.begin(), keys.end(), json::view(it->name)) == keys.end()) {
      return std::string(at) + "." + std::string(json::view(it->name)) + ": unknown member";
    }
  }
  return std::nullopt;
}

failure storage_failure(const failure& f) {
  return failure{registry::error::storage, "fleet indexing: " + f.describe(), {}};
}

}  // namespace

std::optional<std::string> read_thing_indexing(const rapidjson::Value& v, indexing_config& c) {
  constexpr std::string_view at = "thingIndexingConfiguration";
  if (!v.IsObject()) return std::string(at) + ": expected an object";
  if (auto bad =
          only(v, at,
               {"thingIndexingMode", "thingConnectivityIndexingMode", "deviceDefenderIndexingMode",
                "namedShadowIndexingMode", "managedFields", "customFields", "filter"})) {
    return bad;
  }
  indexing_config n = c;
  std::string defender;
  if (auto bad = mode(v, at, "thingIndexingMode", {"OFF", "REGISTRY", "REGISTRY_AND_SHADOW"},
                      std::nullopt, n.thing_mode)) {
    return bad;
  }
  if (auto bad = mode(v, at, "thingConnectivityIndexingMode", {"OFF", "STATUS"}, "OFF",
                      n.connectivity_mode)) {
    return bad;
  }
  if (auto bad =
          mode(v, at, "namedShadowIndexingMode", {"OFF", "ON"}, "OFF", n.named_shadow_mode)) {
    return bad;
  }
  if (auto bad =
          mode(v, at, "deviceDefenderIndexingMode", {"OFF", "VIOLATIONS"}, "OFF", defender)) {
    return bad;
  }
  if (defender != "OFF") {
    return std::string(at) +
           ".deviceDefenderIndexingMode: VIOLATIONS is not implemented here "
           "(no Device Defender)";
  }
  if (n.thing_mode == "OFF" && n.connectivity_mode != "OFF") {
    return std::string(at) +
           ".thingConnectivityIndexingMode: STATUS needs thingIndexingMode "
           "REGISTRY or REGISTRY_AND_SHADOW";
  }
  if (n.named_shadow_mode == "ON" && n.thing_mode != "REGISTRY_AND_SHADOW") {
    return std::string(at) +
           ".namedShadowIndexingMode: ON needs thingIndexingMode "
           "REGISTRY_AND_SHADOW";
  }
  for (auto key : {"managedFields", "customFields"}) {
    if (auto bad = fields(v, at, key)) return bad;
  }
  n.named_shadows.clear();
  if (const auto* filter = json::find(v, "filter"); filter != nullptr && !filter->IsNull()) {
    const std::string f = std::string(at) + ".filter";
    if (!filter->IsObject()) return f + ": expected an object";
    if (auto bad = only(*filter, f, {"namedShadowNames", "geoLocations"})) return bad;
    if (const auto* names = json::find(*filter, "namedShadowNames");
        names != nullptr && !names->IsNull()) {
      if (!names->IsArray()) return f + ".namedShadowNames: expected a list";
      for (const auto& name : names->GetArray()) {
        const bool valid =
            name.IsString() && name.GetStringLength() >= 1 && name.GetStringLength() <= 64 &&
            std::all_of(name.GetString(), name.GetString() + name.GetStringLength(), [](char ch) {
              return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == ':' || ch == '_' || ch == '-';
            });
        if (!valid) return f + ".namedShadowNames: names of 1..64 characters of [a-zA-Z0-9:_-]";
        n.named_shadows.emplace_back(json::view(name));
      }
    }
  }
  // Stored as given, with the defaults AWS fills in.
  rapidjson::Document d;
  d.CopyFrom(v, d.GetAllocator());
  auto& a = d.GetAllocator();
  if (!d.HasMember("thingConnectivityIndexingMode")) {
    d.AddMember("thingConnectivityIndexingMode", json::string_value(n.connectivity_mode, a), a);
  }
  n.thing_json = json::write(d);
  c = std::move(n);
  return std::nullopt;
}

std::optional<std::string> read_group_indexing(const rapidjson::Value& v, indexing_config& c) {
  constexpr std::string_view at = "thingGroupIndexingConfiguration";
  if (!v.IsObject()) return std::string(at) + ": expected an object";
  if (auto bad = only(v, at, {"thingGroupIndexingMode", "managedFields", "customFields"})) {
    return bad;
  }
  std::string m;
  if (auto bad = mode(v, at, "thingGroupIndexingMode", {"OFF", "ON"}, std::nullopt, m)) return bad;
  for (auto key : {"managedFields", "customFields"}) {
    if (auto bad = fields(v, at, key)) return bad;
  }
  c.group_mode = m;
  c.group_json = json::write(v);
  return std::nullopt;
}

struct index_config_store::impl {
  explicit impl(sqlite::database d) : db(std::move(d)) {}
  mutable std::mutex mu;
  sqlite::database db;
  indexing_config current;
  std::map<std::string, dynamic_group, std::less<>> dynamic;
  std::map<std::string, registry::fleet_query, std::less<>> queries;  ///< of `dynamic`, parsed

  void keep(std::string name, dynamic_group g) {
    // A query that no longer parses (stored by an older version) is not evaluated: the
    // group keeps the things it has.
    if (auto q = registry::fleet_query::parse(g.query)) {
      queries.insert_or_assign(name, std::move(*q));
    } else {
      queries.erase(name);
    }
    dynamic.insert_or_assign(std::move(name), std::move(g));
  }
};

result<std::unique_ptr<index_config_store>> index_config_store::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  auto p = std::make_unique<impl>(std::move(*db));
  auto st = p->db.prepare("SELECT name, document FROM indexing");
  if (!st) return std::move(st).take_failure();
  while (true) {
    auto row = st->step();
    if (!row) return std::move(row).take_failure();
    if (!*row) break;
    const std::string name(st->column_text(0));
    auto doc = json::parse(st->column_text(1));
    if (!doc) return failure{registry::error::storage, "fleet_indexing.db: " + doc.describe(), {}};
    auto bad = name == "thing" ? read_thing_indexing(*doc, p->current)
                               : read_group_indexing(*doc, p->current);
    if (bad) return failure{registry::error::storage, "fleet_indexing.db: " + *bad, {}};
  }
  auto groups = p->db.prepare("SELECT name, query, index_name, query_version FROM dynamic_groups");
  if (!groups) return std::move(groups).take_failure();
  while (true) {
    auto row = groups->step();
    if (!row) return std::move(row).take_failure();
    if (!*row) break;
    p->keep(std::string(groups->column_text(0)),
            dynamic_group{std::string(groups->column_text(1)), std::string(groups->column_text(2)),
                          std::string(groups->column_text(3))});
  }
  return std::unique_ptr<index_config_store>(new index_config_store(std::move(p)));
}

index_config_store::index_config_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
index_config_store::~index_config_store() = default;

indexing_config index_config_store::get() const {
  std::lock_guard lock(p_->mu);
  return p_->current;
}

result<void> index_config_store::set(const indexing_config& c) {
  std::lock_guard lock(p_->mu);
  sqlite::transaction tx{p_->db};
  if (!tx.begun()) return storage_failure(tx.begun().fail());
  auto st = p_->db.prepare("INSERT OR REPLACE INTO indexing(name, document) VALUES(?1, ?2)");
  if (!st) return storage_failure(st.fail());
  for (const auto& [name, doc] :
       {std::pair<std::string_view, const std::string*>{"thing", &c.thing_json},
        {"group", &c.group_json}}) {
    st->bind(1, name).bind(2, std::string_view(*doc));
    if (auto r = st->run(); !r) return storage_failure(r.fail());
  }
  if (auto r = tx.commit(); !r) return storage_failure(r.fail());
  p_->current = c;
  return {};
}

std::map<std::string, dynamic_group, std::less<>> index_config_store::dynamic_groups() const {
  std::lock_guard lock(p_->mu);
  return p_->dynamic;
}

result<void> index_config_store::set_dynamic(std::string_view name, const dynamic_group& g) {
  std::lock_guard lock(p_->mu);
  auto st = p_->db.prepare(
      "INSERT OR REPLACE INTO dynamic_groups(name, query, index_name, query_version) "
      "VALUES(?1, ?2, ?3, ?4)");
  if (!st) return storage_failure(st.fail());
  st->bind(1, name).bind(2, std::string_view(g.query)).bind(3, std::string_view(g.index_name));
  st->bind(4, std::string_view(g.query_version));
  if (auto r = st->run(); !r) return storage_failure(r.fail());  // autocommit: durable
  p_->keep(std::string(name), g);
  return {};
}

result<void> index_config_store::remove_dynamic(std::string_view name) {
  std::lock_guard lock(p_->mu);
  auto st = p_->db.prepare("DELETE FROM dynamic_groups WHERE name = ?1");
  if (!st) return storage_failure(st.fail());
  st->bind(1, name);
  if (auto r = st->run(); !r) return storage_failure(r.fail());
  if (auto it = p_->dynamic.find(name); it != p_->dynamic.end()) p_->dynamic.erase(it);
  if (auto it = p_->queries.find(name); it != p_->queries.end()) p_->queries.erase(it);
  return {};
}

std::vector<std::pair<std::string, registry::fleet_query>> index_config_store::dynamic_queries(
    std::string_view prefix) const {
  std::lock_guard lock(p_->mu);
  std::vector<std::pair<std::string, registry::fleet_query>> out;
  for (const auto& [name, q] : p_->queries) {
    if (prefix.empty() || q.reads(prefix)) out.emplace_back(name, q);
  }
  return out;
}

}  // namespace iotblocks::gateway::aws
