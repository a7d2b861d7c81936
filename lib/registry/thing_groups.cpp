// Thing groups: the whole set in memory, every change written to SQLite first.
#include <iotblocks/core/clock.hpp>
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/registry/thing_groups.hpp>

#include "core/sqlite.hpp"

#include <algorithm>
#include <mutex>
#include <set>

namespace iotblocks::registry {
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

failure fail(error e, std::string message) { return failure{e, std::move(message), {}}; }

}  // namespace

struct thing_groups::impl {
  sqlite::database db;
  mutable std::mutex mutex;
  /// Taken before `mutex` by every change, and held by a batch from begin to end.
  std::recursive_mutex gate;
  std::map<std::string, thing_group, std::less<>> groups;
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> members;  // group → things
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>>
      of_thing;  // thing → groups

  explicit impl(sqlite::database d) : db(std::move(d)) {}

  // Runs statements in one transaction; `fn(db)` returns the first failure.
  template <class F>
  result<void> write(F&& fn) {
    sqlite::transaction tx{db};
    if (!tx.begun()) return fail(error::storage, tx.begun().describe());
    if (auto r = fn(db); !r) return fail(error::storage, r.describe());
    if (auto r = tx.commit(); !r) return fail(error::storage, r.describe());
    return {};
  }

  static result<void> run(sqlite::database& db, std::string_view sql,
                          std::initializer_list<std::string_view> args,
                          std::optional<std::int64_t> a = {}, std::optional<std::int64_t> b = {}) {
    auto st = db.prepare(sql);
    if (!st) return std::move(st).take_failure();
    int i = 1;
    for (auto v : args) st->bind(i++, v);
    if (a) st->bind(i++, *a);
    if (b) st->bind(i++, *b);
    return st->run();
  }

  /// Replaces the in-memory view with what is committed.
  result<void> reload() {
    groups.clear();
    members.clear();
    of_thing.clear();
    return load();
  }

  result<void> load() {
    auto q = db.prepare("SELECT name, parent, description, version, created_ms FROM thing_groups");
    if (!q) return std::move(q).take_failure();
    for (;;) {
      auto row = q->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      thing_group g;
      g.name = std::string(q->column_text(0));
      g.parent = std::string(q->column_text(1));
      g.description = std::string(q->column_text(2));
      g.version = q->column_int64(3);
      g.created_ms = q->column_int64(4);
      groups.emplace(g.name, std::move(g));
    }
    auto attrs = db.prepare("SELECT name, key, value FROM thing_group_attributes");
    if (!attrs) return std::move(attrs).take_failure();
    for (;;) {
      auto row = attrs->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      auto it = groups.find(attrs->column_text(0));
      if (it != groups.end()) {
        it->second.attributes.emplace(attrs->column_text(1), attrs->column_text(2));
      }
    }
    auto m = db.prepare("SELECT name, thing FROM thing_group_members");
    if (!m) return std::move(m).take_failure();
    for (;;) {
      auto row = m->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      std::string group(m->column_text(0)), thing(m->column_text(1));
      members[group].insert(thing);
      of_thing[thing].insert(group);
    }
    return {};
  }

  std::vector<std::string> chain(std::string_view name) const {  // root first, without name
    std::vector<std::string> out;
    auto it = groups.find(name);
    while (it != groups.end() && !it->second.parent.empty() && out.size() <= max_depth) {
      out.push_back(it->second.parent);
      it = groups.find(it->second.parent);
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  std::string root_of(std::string_view name) const {
    auto c = chain(name);
    return c.empty() ? std::string(name) : c.front();
  }

  void descendants(std::string_view name, std::vector<std::string>& out) const {
    for (const auto& [n, g] : groups) {
      if (g.parent == name) {
        out.push_back(n);
        descendants(n, out);
      }
    }
  }
};

result<std::unique_ptr<thing_groups>> thing_groups::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  auto p = std::make_unique<impl>(std::move(*db));
  if (auto r = p->load(); !r) return std::move(r).take_failure();
  return std::unique_ptr<thing_groups>(new thing_groups(std::move(p)));
}

thing_groups::thing_groups(std::unique_ptr<impl> p) : p_(std::move(p)) {}

result<void> thing_groups::begin_batch() {
  std::unique_lock gate{p_->gate};
  std::lock_guard lock{p_->mutex};
  if (auto r = p_->db.exec("BEGIN IMMEDIATE"); !r) return fail(error::storage, r.describe());
  gate.release();  // held until commit_batch() or rollback_batch()
  return {};
}

result<void> thing_groups::commit_batch() {
  std::unique_lock gate{p_->gate, std::adopt_lock};
  std::lock_guard lock{p_->mutex};
  if (auto r = p_->db.exec("COMMIT"); !r) {
    (void)p_->db.exec("ROLLBACK");  // a busy COMMIT leaves the transaction open
    (void)p_->reload();
    return fail(error::storage, r.describe());
  }
  return {};
}

void thing_groups::rollback_batch() {
  std::unique_lock gate{p_->gate, std::adopt_lock};
  std::lock_guard lock{p_->mutex};
  (void)p_->db.exec("ROLLBACK");
  (void)p_->reload();
}
thing_groups::~thing_groups() = default;

result<thing_group> thing_groups::create(thing_group g) {
  if (!valid_thing_name(g.name)) return fail(error::invalid_name, "invalid thing group name");
  if (!g.parent.empty() && !valid_thing_name(g.parent)) {
    return fail(error::invalid_name, "invalid parent group name");
  }
  if (g.description.size() > max_description) {
    return fail(error::limit_exceeded, "description exceeds 2028 characters");
  }
  if (g.attributes.size() > max_attributes) {
    return fail(error::limit_exceeded, "more than 50 attributes");
  }
  for (const auto& [k, v] : g.attributes) {
    if (!valid_thing_name(k) || v.size() > 800) {
      return fail(error::invalid_name, "invalid attribute " + k);
    }
  }
  std::lock_guard gate{p_->gate};  // a batch of another thread ends first
  std::lock_guard lock{p_->mutex};
  if (auto it = p_->groups.find(g.name); it != p_->groups.end()) {
    const auto& e = it->second;
    if (e.parent == g.parent && e.attributes == g.attributes && e.description == g.description) {
      return e;
    }
    return fail(error::already_exists, "thing group " + g.name + " exists");
  }
  if (!g.parent.empty()) {
    if (!p_->groups.count(g.parent)) return fail(error::not_found, "no parent group " + g.parent);
    if (p_->chain(g.parent).size() + 2 > max_depth) {
      return fail(error::limit_exceeded, "the hierarchy would be deeper than 7 levels");
    }
  }
  g.version = 1;
  g.created_ms = default_clock().now_ms();
  auto ok = p_->write([&](sqlite::database& db) -> result<void> {
    if (auto r = impl::run(db, "INSERT INTO thing_groups VALUES(?1, ?2, ?3, ?4, ?5)",
                           {g.name, g.parent, g.description}, g.version, g.created_ms);
        !r) {
      return r;
    }
    for (const auto& [k, v] : g.attributes) {
      if (auto r = impl::run(db, "INSERT INTO thing_group_attributes VALUES(?1, ?2, ?3)",
                             {g.name, k, v});
          !r) {
        return r;
      }
    }
    return {};
  });
  if (!ok) return ok.fail();
  p_->groups.emplace(g.name, g);
  return g;
}

result<thing_group> thing_groups::describe(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  auto it = p_->groups.find(name);
  if (it == p_->groups.end()) return fail(error::not_found, "no thing group " + std::string(name));
  return it->second;
}

result<void> thing_groups::remove(std::string_view name) {
  std::lock_guard gate{p_->gate};  // a batch of another thread ends first
  std::lock_guard lock{p_->mutex};
  if (!p_->groups.count(name)) return {};
  for (const auto& [n, g] : p_->groups) {
    if (g.parent == name) return fail(error::in_use, "the thing group has child groups");
  }
  const std::string key(name);
  auto ok = p_->write([&](sqlite::database& db) -> result<void> {
    for (auto sql : {"DELETE FROM thing_groups WHERE name = ?1",
                     "DELETE FROM thing_group_attributes WHERE name = ?1",
                     "DELETE FROM thing_group_members WHERE name = ?1"}) {
      if (auto r = impl::run(db, sql, {key}); !r) return r;
    }
    return {};
  });
  if (!ok) return ok;
  if (auto m = p_->members.find(name); m != p_->members.end()) {
    for (const auto& thing : m->second) {
      auto& set = p_->of_thing[thing];
      set.erase(key);
      if (set.empty()) p_->of_thing.erase(thing);
    }
    p_->members.erase(m);
  }
  p_->groups.erase(key);
  return {};
}

std::vector<std::string> thing_groups::list(std::string_view parent, bool recursive) const {
  std::lock_guard lock{p_->mutex};
  std::vector<std::string> out;
  if (parent.empty() && recursive) {
    for (const auto& [n, g] : p_->groups) out.push_back(n);
    return out;
  }
  if (recursive) {
    p_->descendants(parent, out);
  } else {
    for (const auto& [n, g] : p_->groups) {
      if (g.parent == parent) out.push_back(n);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> thing_groups::ancestors(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  return p_->chain(name);
}

result<void> thing_groups::add_thing(std::string_view group, std::string_view thing) {
  if (!valid_thing_name(thing)) return fail(error::invalid_name, "invalid thing name");
  std::lock_guard gate{p_->gate};  // a batch of another thread ends first
  std::lock_guard lock{p_->mutex};
  if (!p_->groups.count(group)) {
    return fail(error::not_found, "no thing group " + std::string(group));
  }
  auto mine = p_->of_thing.find(thing);
  if (mine != p_->of_thing.end()) {
    if (mine->second.count(group)) return {};
    if (mine->second.size() >= max_groups_per_thing) {
      return fail(error::limit_exceeded, "a thing can be in at most 10 thing groups");
    }
    const std::string root = p_->root_of(group);
    for (const auto& other : mine->second) {
      if (p_->root_of(other) == root) {
        return fail(
            error::hierarchy_conflict,
            "the thing is in " + other + ", in the same hierarchy as " + std::string(group));
      }
    }
  }
  const std::string g(group), t(thing);
  auto ok = p_->write([&](sqlite::database& db) {
    return impl::run(db, "INSERT INTO thing_group_members VALUES(?1, ?2)", {g, t});
  });
  if (!ok) return ok;
  p_->members[g].insert(t);
  p_->of_thing[t].insert(g);
  return {};
}

result<void> thing_groups::remove_thing(std::string_view group, std::string_view thing) {
  std::lock_guard gate{p_->gate};  // a batch of another thread ends first
  std::lock_guard lock{p_->mutex};
  if (!p_->groups.count(group)) {
    return fail(error::not_found, "no thing group " + std::string(group));
  }
  auto m = p_->members.find(group);
  if (m == p_->members.end() || !m->second.count(thing)) return {};
  const std::string g(group), t(thing);
  auto ok = p_->write([&](sqlite::database& db) {
    return impl::run(db, "DELETE FROM thing_group_members WHERE name = ?1 AND thing = ?2", {g, t});
  });
  if (!ok) return ok;
  m->second.erase(t);
  if (m->second.empty()) p_->members.erase(m);
  auto& set = p_->of_thing[t];
  set.erase(g);
  if (set.empty()) p_->of_thing.erase(t);
  return {};
}

std::vector<std::string> thing_groups::things_in(std::string_view group, bool recursive) const {
  std::lock_guard lock{p_->mutex};
  std::vector<std::string> groups{std::string(group)};
  if (recursive) p_->descendants(group, groups);
  std::set<std::string> out;
  for (const auto& g : groups) {
    if (auto m = p_->members.find(g); m != p_->members.end()) {
      out.insert(m->second.begin(), m->second.end());
    }
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> thing_groups::groups_of(std::string_view thing) const {
  std::lock_guard lock{p_->mutex};
  auto it = p_->of_thing.find(thing);
  if (it == p_->of_thing.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<std::string> thing_groups::memberships(std::string_view thing) const {
  std::lock_guard lock{p_->mutex};
  std::set<std::string> out;
  if (auto it = p_->of_thing.find(thing); it != p_->of_thing.end()) {
    for (const auto& g : it->second) {
      out.insert(g);
      for (auto& a : p_->chain(g)) out.insert(std::move(a));
    }
  }
  return {out.begin(), out.end()};
}

result<void> thing_groups::forget_thing(std::string_view thing) {
  std::lock_guard gate{p_->gate};  // a batch of another thread ends first
  std::lock_guard lock{p_->mutex};
  auto it = p_->of_thing.find(thing);
  if (it == p_->of_thing.end()) return {};
  const std::string t(thing);
  auto ok = p_->write([&](sqlite::database& db) {
    return impl::run(db, "DELETE FROM thing_group_members WHERE thing = ?1", {t});
  });
  if (!ok) return ok;
  for (const auto& g : it->second) {
    if (auto m = p_->members.find(g); m != p_->members.end()) {
      m->second.erase(t);
      if (m->second.empty()) p_->members.erase(m);
    }
  }
  p_->of_thing.erase(it);
  return {};
}

}  // namespace iotblocks::registry
