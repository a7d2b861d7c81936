// Thing types: the whole set in memory, every change written to SQLite first (one statement,
// committed before the call returns).
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/registry/thing_types.hpp>

#include "core/sqlite.hpp"
#include "registry/change_queue.hpp"

#include <map>
#include <mutex>

namespace iotblocks::registry {
namespace {

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS thing_types(
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  searchable TEXT NOT NULL,
  deprecated INTEGER NOT NULL,
  deprecated_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL);
)sql";

failure fail(error e, std::string message) { return failure{e, std::move(message), {}}; }

// Searchable attribute names in one column, '\n'-separated (not an attribute character).
std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out.append(out.empty() ? "" : "\n").append(n);
  return out;
}

std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    out.emplace_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return out;
}

}  // namespace

struct thing_types::impl {
  detail::change_queue changes;
  sqlite::database db;
  const iotblocks::clock& clock;
  mutable std::mutex mutex;
  std::map<std::string, thing_type, std::less<>> types;

  impl(sqlite::database d, const iotblocks::clock& c) : db(std::move(d)), clock(c) {}

  result<void> load() {
    auto q = db.prepare(
        "SELECT name, description, searchable, deprecated, deprecated_ms, created_ms "
        "FROM thing_types");
    if (!q) return std::move(q).take_failure();
    for (;;) {
      auto row = q->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) return {};
      thing_type t{.name = std::string(q->column_text(0)),
                   .description = std::string(q->column_text(1)),
                   .searchable_attributes = split(q->column_text(2)),
                   .deprecated = q->column_int64(3) != 0,
                   .deprecated_ms = q->column_int64(4),
                   .created_ms = q->column_int64(5)};
      types.emplace(t.name, std::move(t));
    }
  }

  // Writes `t` (insert or replace) in one statement.
  result<void> store(const thing_type& t) {
    auto st = db.prepare("INSERT OR REPLACE INTO thing_types VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st) return fail(error::storage, st.describe());
    st->bind(1, t.name)
        .bind(2, t.description)
        .bind(3, join(t.searchable_attributes))
        .bind(4, t.deprecated ? 1 : 0)
        .bind(5, t.deprecated_ms)
        .bind(6, t.created_ms);
    if (auto r = st->run(); !r) return fail(error::storage, r.describe());
    return {};
  }

  result<thing_type*> find(std::string_view name) {
    auto it = types.find(name);
    if (it == types.end()) return fail(error::not_found, "no thing type " + std::string(name));
    return &it->second;
  }
};

result<std::unique_ptr<thing_types>> thing_types::open(const std::string& path,
                                                       const iotblocks::clock& clock) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  auto p = std::make_unique<impl>(std::move(*db), clock);
  if (auto r = p->load(); !r) return std::move(r).take_failure();
  return std::unique_ptr<thing_types>(new thing_types(std::move(p)));
}

thing_types::thing_types(std::unique_ptr<impl> p) : p_(std::move(p)) {}
thing_types::~thing_types() = default;

result<thing_type> thing_types::create(thing_type t) {
  if (!valid_thing_name(t.name)) {
    return fail(error::invalid_name, "thing type name is not [a-zA-Z0-9:_-]{1,128}");
  }
  if (t.description.size() > max_description) {
    return fail(error::limit_exceeded, "description exceeds 2028 characters");
  }
  if (t.searchable_attributes.size() > max_searchable_attributes) {
    return fail(error::limit_exceeded, "more than 3 searchable attributes");
  }
  for (const auto& a : t.searchable_attributes) {
    if (!valid_attribute_name(a)) {
      return fail(error::invalid_name, "searchable attribute '" + a.substr(0, 140) +
                                           "' is not [a-zA-Z0-9_.,@/:#-]{1,128}");
    }
  }
  detail::changes_flush flush{p_->changes};
  std::lock_guard lock{p_->mutex};
  if (p_->types.count(t.name))
    return fail(error::already_exists, "thing type " + t.name + " exists");
  t.deprecated = false;
  t.deprecated_ms = 0;
  t.created_ms = p_->clock.now_ms();
  if (auto r = p_->store(t); !r) return r.fail();
  p_->types.emplace(t.name, t);
  p_->changes.push(thing_type_change{change_op::created, t});
  return t;
}

result<thing_type> thing_types::describe(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  auto t = p_->find(name);
  if (!t) return t.fail();
  return **t;
}

std::vector<thing_type> thing_types::list(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  std::vector<thing_type> out;
  for (const auto& [n, t] : p_->types) {
    if (name.empty() || n == name) out.push_back(t);
  }
  return out;
}

result<thing_type> thing_types::deprecate(std::string_view name, bool undo) {
  detail::changes_flush flush{p_->changes};
  std::lock_guard lock{p_->mutex};
  auto t = p_->find(name);
  if (!t) return t.fail();
  thing_type next = **t;
  next.deprecated = !undo;
  if (!undo) next.deprecated_ms = p_->clock.now_ms();
  if (auto r = p_->store(next); !r) return r.fail();
  **t = next;
  p_->changes.push(thing_type_change{change_op::updated, next});
  return next;
}

result<void> thing_types::remove(std::string_view name) {
  detail::changes_flush flush{p_->changes};
  std::lock_guard lock{p_->mutex};
  auto t = p_->find(name);
  if (!t) return t.fail();
  if (!(*t)->deprecated) {
    return fail(error::deprecated,
                "thing type " + std::string(name) + " must be deprecated before it is deleted");
  }
  const auto since = p_->clock.now_ms() - (*t)->deprecated_ms;
  if (since < std::chrono::milliseconds(delete_after).count()) {
    return fail(error::deprecated,
                "thing type " + std::string(name) + " was deprecated less than 5 minutes ago");
  }
  auto st = p_->db.prepare("DELETE FROM thing_types WHERE name = ?1");
  if (!st) return fail(error::storage, st.describe());
  st->bind(1, name);
  if (auto r = st->run(); !r) return fail(error::storage, r.describe());
  const auto gone = p_->types.find(name);
  p_->changes.push(thing_type_change{change_op::deleted, gone->second});
  p_->types.erase(gone);
  return {};
}

void thing_types::on_change(change_observer f) { p_->changes.observe(std::move(f)); }

result<void> thing_types::assignable(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  auto t = p_->find(name);
  if (!t) return t.fail();
  if ((*t)->deprecated) {
    return fail(error::deprecated, "thing type " + std::string(name) + " is deprecated");
  }
  return {};
}

}  // namespace iotblocks::registry
