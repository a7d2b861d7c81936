#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/thing_group_store.hpp>
#include <iotblocks/registry/error.hpp>

#include "postgres/columns.hpp"
#include "postgres/connection.hpp"
#include "postgres/prepared.hpp"
#include "postgres/revisioned.hpp"

#include <optional>

namespace iotblocks::postgres {
namespace {

namespace rg = iotblocks::registry;
using rerror = rg::error;

constexpr int schema_version = 1;

constexpr const char* create_v1[] = {
    "CREATE TABLE iotblocks_thing_groups("
    "name text PRIMARY KEY, parent text NOT NULL, description text NOT NULL, "
    "attributes text NOT NULL, version bigint NOT NULL, created_ms bigint NOT NULL)",
    "CREATE TABLE iotblocks_thing_group_members("
    "name text NOT NULL REFERENCES iotblocks_thing_groups(name) ON DELETE CASCADE, "
    "thing text NOT NULL, PRIMARY KEY(name, thing))",
    "CREATE INDEX iotblocks_thing_group_members_by_thing ON iotblocks_thing_group_members(thing)",
};

failure storage(const failure& f, std::string_view what) {
  return {rerror::storage, std::string(what) + ": " + f.describe(), {}};
}

}  // namespace

struct thing_group_store::impl {
  detail::revisioned db;

  explicit impl(detail::connection conn) : db(std::move(conn), "iotblocks_thing_group_revision") {}

  /// One statement in its own transaction, after the revision lock: store_changed when
  /// another process wrote since this one looked. `on_none`: the error when the statement
  /// touched no row; a foreign key that refuses it: not_found (no such group).
  result<void> write(const char* name, const char* sql, std::initializer_list<detail::param> params,
                     std::optional<rerror> on_none = {}) {
    auto r = db.write([&]() -> result<void> {
      auto current = db.lock_current();
      if (!current) return std::move(current).take_failure();
      if (!*current) {
        return failure{rerror::store_changed, "thing groups changed by another process", {}};
      }
      auto done = db.exec(name, sql, params);
      if (!done) return std::move(done).take_failure();
      if (on_none && std::string_view(PQcmdTuples(done->get())) == "0") {
        return failure{*on_none, std::string(name) + ": changed by another process", {}};
      }
      return {};
    });
    if (r || r.error().category() == rg::error_category()) return r;
    const auto state = detail::sqlstate(r.fail());
    if (state == "23505") return failure{rerror::already_exists, r.fail().message, {}};
    if (state == "23503") return failure{rerror::not_found, r.fail().message, {}};
    return storage(r.fail(), name);
  }
};

thing_group_store::thing_group_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
thing_group_store::~thing_group_store() = default;

result<std::unique_ptr<thing_group_store>> thing_group_store::open(const std::string& url) {
  auto conn = detail::connection::open(url);
  if (!conn) return std::move(conn).take_failure();
  auto p = std::make_unique<impl>(std::move(*conn));
  auto& c = p->db.conn();
  if (auto r = c.run("SET client_min_messages = warning"); !r) return r.fail();
  auto version = c.lock_schema("thing_groups");
  if (!version) return std::move(version).take_failure();
  if (*version > schema_version) {
    (void)c.run("ROLLBACK");
    return failure{postgres::error::schema_too_new,
                   "thing_groups schema version " + std::to_string(*version) +
                       " is newer than this build's " + std::to_string(schema_version),
                   {}};
  }
  if (*version < 1) {
    if (auto r = p->db.create_table(); !r) return (void)c.run("ROLLBACK"), r.fail();
    for (const char* sql : create_v1) {
      if (auto r = c.run(sql); !r) return (void)c.run("ROLLBACK"), r.fail();
    }
    if (auto r = c.set_schema("thing_groups", 1); !r) return (void)c.run("ROLLBACK"), r.fail();
  }
  if (auto r = c.run("COMMIT"); !r) return r.fail();
  return std::unique_ptr<thing_group_store>(new thing_group_store(std::move(p)));
}

result<void> thing_group_store::begin_batch() {
  if (auto r = p_->db.begin_batch(); !r) return storage(r.fail(), "batch");
  return {};
}

result<void> thing_group_store::commit_batch() {
  if (auto r = p_->db.commit_batch(); !r) return storage(r.fail(), "batch");
  return {};
}

void thing_group_store::rollback_batch() { p_->db.rollback_batch(); }

result<bool> thing_group_store::changed_elsewhere() {
  auto r = p_->db.changed_elsewhere();
  if (!r) return storage(r.fail(), "revision");
  return r;
}

result<rg::stored_groups> thing_group_store::load() {
  auto state = p_->db.read([&]() -> result<rg::stored_groups> {
    rg::stored_groups out;
    auto groups = p_->db.exec("thing_groups_load",
                              "SELECT name, parent, description, attributes, version, created_ms "
                              "FROM iotblocks_thing_groups");
    if (!groups) return storage(groups.fail(), "load");
    for (int i = 0; i < PQntuples(groups->get()); ++i) {
      auto attributes = detail::parse_attributes(detail::text(*groups, i, 3));
      auto version = detail::to_int64(detail::text(*groups, i, 4));
      auto created = detail::to_int64(detail::text(*groups, i, 5));
      if (!attributes || !version || !created) {
        return failure{rerror::storage, "corrupt thing group row", {}};
      }
      out.groups.push_back(rg::thing_group{
          std::string(detail::text(*groups, i, 0)), std::string(detail::text(*groups, i, 1)),
          std::string(detail::text(*groups, i, 2)), std::move(*attributes), *version, *created});
    }
    auto members = p_->db.exec("thing_groups_load_members",
                               "SELECT name, thing FROM iotblocks_thing_group_members");
    if (!members) return storage(members.fail(), "load");
    for (int i = 0; i < PQntuples(members->get()); ++i) {
      out.members.emplace_back(detail::text(*members, i, 0), detail::text(*members, i, 1));
    }
    return out;
  });
  if (!state && state.error().category() != rg::error_category()) {
    return storage(state.fail(), "load");
  }
  return state;
}

result<void> thing_group_store::insert_group(const rg::thing_group& g) {
  const std::string attributes = detail::attributes_json(g.attributes),
                    v = std::to_string(g.version), created = std::to_string(g.created_ms);
  return p_->write("thing_groups_insert",
                   "INSERT INTO iotblocks_thing_groups VALUES($1, $2, $3, $4, $5, $6)",
                   {g.name, g.parent, g.description, attributes, v, created});
}

result<void> thing_group_store::update_group(const rg::thing_group& g,
                                             std::int64_t previous_version) {
  const std::string attributes = detail::attributes_json(g.attributes),
                    v = std::to_string(g.version), prev = std::to_string(previous_version);
  return p_->write("thing_groups_update",
                   "UPDATE iotblocks_thing_groups SET description = $2, attributes = $3, "
                   "version = $4 WHERE name = $1 AND version = $5",
                   {g.name, g.description, attributes, v, prev}, rerror::version_conflict);
}

result<void> thing_group_store::delete_group(std::string_view name, std::int64_t version) {
  const std::string v = std::to_string(version);
  return p_->write("thing_groups_delete",
                   "DELETE FROM iotblocks_thing_groups WHERE name = $1 AND version = $2", {name, v},
                   rerror::version_conflict);
}

result<void> thing_group_store::add_member(std::string_view group, std::string_view thing) {
  return p_->write("thing_groups_add_member",
                   "INSERT INTO iotblocks_thing_group_members VALUES($1, $2) "
                   "ON CONFLICT DO NOTHING",
                   {group, thing});
}

result<void> thing_group_store::remove_member(std::string_view group, std::string_view thing) {
  return p_->write("thing_groups_remove_member",
                   "DELETE FROM iotblocks_thing_group_members WHERE name = $1 AND thing = $2",
                   {group, thing});
}

result<void> thing_group_store::forget_thing(std::string_view thing) {
  return p_->write("thing_groups_forget_thing",
                   "DELETE FROM iotblocks_thing_group_members WHERE thing = $1", {thing});
}

}  // namespace iotblocks::postgres
