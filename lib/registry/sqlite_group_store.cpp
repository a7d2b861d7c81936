#include "registry/sqlite_group_store.hpp"

#include <iotblocks/registry/error.hpp>

#include <initializer_list>

namespace iotblocks::registry::detail {
namespace {

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS thing_groups(
  name TEXT PRIMARY KEY,
  parent TEXT NOT NULL,
  description TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS thing_group_attributes(
  name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(name, key));
CREATE TABLE IF NOT EXISTS thing_group_members(
  name TEXT NOT NULL, thing TEXT NOT NULL, PRIMARY KEY(name, thing));
CREATE INDEX IF NOT EXISTS thing_group_members_by_thing ON thing_group_members(thing);
)sql";

failure storage(const failure& f) { return failure{error::storage, f.describe(), {}}; }

/// Runs `sql` with text arguments, then integer arguments.
result<void> run(sqlite::database& db, std::string_view sql,
                 std::initializer_list<std::string_view> text,
                 std::initializer_list<std::int64_t> ints = {}) {
  auto st = db.prepare(sql);
  if (!st) return std::move(st).take_failure();
  int i = 1;
  for (auto v : text) st->bind(i++, v);
  for (auto v : ints) st->bind(i++, v);
  return st->run();
}

result<void> insert_attributes(sqlite::database& db, const thing_group& g) {
  for (const auto& [k, v] : g.attributes) {
    if (auto r = run(db, "INSERT INTO thing_group_attributes VALUES(?1, ?2, ?3)", {g.name, k, v});
        !r) {
      return r;
    }
  }
  return {};
}

}  // namespace

result<std::unique_ptr<sqlite_group_store>> sqlite_group_store::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  return std::make_unique<sqlite_group_store>(std::move(*db));
}

template <class F>
result<void> sqlite_group_store::write(F&& fn) {
  sqlite::transaction tx{db_};
  if (!tx.begun()) return storage(tx.begun().fail());
  if (auto r = fn(db_); !r) {
    if (r.error().category() == error_category()) return r;
    return storage(r.fail());
  }
  if (auto r = tx.commit(); !r) return storage(r.fail());
  return {};
}

result<void> sqlite_group_store::begin_batch() {
  if (auto r = db_.exec("BEGIN IMMEDIATE"); !r) return storage(r.fail());
  return {};
}

result<void> sqlite_group_store::commit_batch() {
  if (auto r = db_.exec("COMMIT"); !r) {
    (void)db_.exec("ROLLBACK");  // a busy COMMIT leaves the transaction open
    return storage(r.fail());
  }
  return {};
}

void sqlite_group_store::rollback_batch() { (void)db_.exec("ROLLBACK"); }

result<stored_groups> sqlite_group_store::load() {
  stored_groups out;
  std::map<std::string, std::size_t, std::less<>> at;
  auto q = db_.prepare("SELECT name, parent, description, version, created_ms FROM thing_groups");
  if (!q) return storage(q.fail());
  for (;;) {
    auto row = q->step();
    if (!row) return storage(row.fail());
    if (!*row) break;
    thing_group g;
    g.name = std::string(q->column_text(0));
    g.parent = std::string(q->column_text(1));
    g.description = std::string(q->column_text(2));
    g.version = q->column_int64(3);
    g.created_ms = q->column_int64(4);
    at.emplace(g.name, out.groups.size());
    out.groups.push_back(std::move(g));
  }
  auto attrs = db_.prepare("SELECT name, key, value FROM thing_group_attributes");
  if (!attrs) return storage(attrs.fail());
  for (;;) {
    auto row = attrs->step();
    if (!row) return storage(row.fail());
    if (!*row) break;
    if (auto it = at.find(attrs->column_text(0)); it != at.end()) {
      out.groups[it->second].attributes.emplace(attrs->column_text(1), attrs->column_text(2));
    }
  }
  auto m = db_.prepare("SELECT name, thing FROM thing_group_members");
  if (!m) return storage(m.fail());
  for (;;) {
    auto row = m->step();
    if (!row) return storage(row.fail());
    if (!*row) break;
    out.members.emplace_back(m->column_text(0), m->column_text(1));
  }
  return out;
}

result<void> sqlite_group_store::insert_group(const thing_group& g) {
  return write([&](sqlite::database& db) -> result<void> {
    if (auto r = run(db, "INSERT INTO thing_groups VALUES(?1, ?2, ?3, ?4, ?5)",
                     {g.name, g.parent, g.description}, {g.version, g.created_ms});
        !r) {
      return r;
    }
    return insert_attributes(db, g);
  });
}

result<void> sqlite_group_store::update_group(const thing_group& g, std::int64_t previous_version) {
  return write([&](sqlite::database& db) -> result<void> {
    if (auto r = run(db,
                     "UPDATE thing_groups SET description = ?2, version = ?3 "
                     "WHERE name = ?1 AND version = ?4",
                     {g.name, g.description}, {g.version, previous_version});
        !r) {
      return r;
    }
    if (db.changes() == 0) {
      return failure{error::version_conflict, "thing group " + g.name + " changed", {}};
    }
    if (auto r = run(db, "DELETE FROM thing_group_attributes WHERE name = ?1", {g.name}); !r) {
      return r;
    }
    return insert_attributes(db, g);
  });
}

result<void> sqlite_group_store::delete_group(std::string_view name, std::int64_t version) {
  return write([&](sqlite::database& db) -> result<void> {
    if (auto r =
            run(db, "DELETE FROM thing_groups WHERE name = ?1 AND version = ?2", {name}, {version});
        !r) {
      return r;
    }
    if (db.changes() == 0) {
      return failure{error::version_conflict, "thing group " + std::string(name) + " changed", {}};
    }
    for (auto sql : {"DELETE FROM thing_group_attributes WHERE name = ?1",
                     "DELETE FROM thing_group_members WHERE name = ?1"}) {
      if (auto r = run(db, sql, {name}); !r) return r;
    }
    return {};
  });
}

result<void> sqlite_group_store::add_member(std::string_view group, std::string_view thing) {
  return write([&](sqlite::database& db) {
    return run(db, "INSERT OR IGNORE INTO thing_group_members VALUES(?1, ?2)", {group, thing});
  });
}

result<void> sqlite_group_store::remove_member(std::string_view group, std::string_view thing) {
  return write([&](sqlite::database& db) {
    return run(db, "DELETE FROM thing_group_members WHERE name = ?1 AND thing = ?2",
               {group, thing});
  });
}

result<void> sqlite_group_store::forget_thing(std::string_view thing) {
  return write([&](sqlite::database& db) {
    return run(db, "DELETE FROM thing_group_members WHERE thing = ?1", {thing});
  });
}

}  // namespace iotblocks::registry::detail
