#include "registry/sqlite_type_store.hpp"

#include <iotblocks/registry/error.hpp>

namespace iotblocks::registry::detail {
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

failure storage(const failure& f) { return failure{error::storage, f.describe(), {}}; }

}  // namespace

std::string join_searchable(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out.append(out.empty() ? "" : "\n").append(n);
  return out;
}

std::vector<std::string> split_searchable(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    out.emplace_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return out;
}

result<std::unique_ptr<sqlite_type_store>> sqlite_type_store::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  return std::make_unique<sqlite_type_store>(std::move(*db));
}

result<std::vector<thing_type>> sqlite_type_store::load() {
  auto q = db_.prepare(
      "SELECT name, description, searchable, deprecated, deprecated_ms, created_ms "
      "FROM thing_types");
  if (!q) return storage(q.fail());
  std::vector<thing_type> out;
  for (;;) {
    auto row = q->step();
    if (!row) return storage(row.fail());
    if (!*row) return out;
    out.push_back(thing_type{.name = std::string(q->column_text(0)),
                             .description = std::string(q->column_text(1)),
                             .searchable_attributes = split_searchable(q->column_text(2)),
                             .deprecated = q->column_int64(3) != 0,
                             .deprecated_ms = q->column_int64(4),
                             .created_ms = q->column_int64(5)});
  }
}

result<void> sqlite_type_store::write(const char* sql, const thing_type& t) {
  auto st = db_.prepare(sql);
  if (!st) return storage(st.fail());
  st->bind(1, t.name)
      .bind(2, t.description)
      .bind(3, join_searchable(t.searchable_attributes))
      .bind(4, t.deprecated ? 1 : 0)
      .bind(5, t.deprecated_ms)
      .bind(6, t.created_ms);
  if (auto r = st->run(); !r) return storage(r.fail());
  return {};
}

result<void> sqlite_type_store::insert_type(const thing_type& t) {
  return write("INSERT INTO thing_types VALUES(?1, ?2, ?3, ?4, ?5, ?6)", t);
}

result<void> sqlite_type_store::update_type(const thing_type& t) {
  return write("INSERT OR REPLACE INTO thing_types VALUES(?1, ?2, ?3, ?4, ?5, ?6)", t);
}

result<void> sqlite_type_store::delete_type(std::string_view name) {
  auto st = db_.prepare("DELETE FROM thing_types WHERE name = ?1");
  if (!st) return storage(st.fail());
  st->bind(1, name);
  if (auto r = st->run(); !r) return storage(r.fail());
  return {};
}

}  // namespace iotblocks::registry::detail
