#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/thing_type_store.hpp>
#include <iotblocks/registry/error.hpp>

#include "postgres/columns.hpp"
#include "postgres/connection.hpp"
#include "postgres/prepared.hpp"
#include "postgres/revisioned.hpp"

namespace iotblocks::postgres {
namespace {

namespace rg = iotblocks::registry;
using rerror = rg::error;

constexpr int schema_version = 1;

// Searchable attribute names '\n'-separated (not an attribute character), as in SQLite.
constexpr const char* create_v1[] = {
    "CREATE TABLE iotblocks_thing_types("
    "name text PRIMARY KEY, description text NOT NULL, searchable text NOT NULL, "
    "deprecated boolean NOT NULL, deprecated_ms bigint NOT NULL, created_ms bigint NOT NULL)",
};

failure storage(const failure& f, std::string_view what) {
  return {rerror::storage, std::string(what) + ": " + f.describe(), {}};
}

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

struct thing_type_store::impl {
  detail::revisioned db;

  explicit impl(detail::connection conn) : db(std::move(conn), "iotblocks_thing_type_revision") {}

  /// One statement in its own transaction, after the revision lock: store_changed when
  /// another process wrote since this one looked.
  result<void> write(const char* name, const char* sql,
                     std::initializer_list<detail::param> params) {
    auto r = db.write([&]() -> result<void> {
      auto current = db.lock_current();
      if (!current) return std::move(current).take_failure();
      if (!*current) {
        return failure{rerror::store_changed, "thing types changed by another process", {}};
      }
      auto done = db.exec(name, sql, params);
      if (!done) return std::move(done).take_failure();
      return {};
    });
    if (r || r.error().category() == rg::error_category()) return r;
    if (detail::sqlstate(r.fail()) == "23505") {
      return failure{rerror::already_exists, r.fail().message, {}};
    }
    return storage(r.fail(), name);
  }

  result<void> put(const char* name, const char* sql, const rg::thing_type& t) {
    const std::string searchable = join(t.searchable_attributes),
                      deprecated_ms = std::to_string(t.deprecated_ms),
                      created = std::to_string(t.created_ms);
    return write(name, sql,
                 {t.name, t.description, searchable, t.deprecated ? "true" : "false", deprecated_ms,
                  created});
  }
};

thing_type_store::thing_type_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
thing_type_store::~thing_type_store() = default;

result<std::unique_ptr<thing_type_store>> thing_type_store::open(const std::string& url) {
  auto conn = detail::connection::open(url);
  if (!conn) return std::move(conn).take_failure();
  auto p = std::make_unique<impl>(std::move(*conn));
  auto& c = p->db.conn();
  if (auto r = c.run("SET client_min_messages = warning"); !r) return r.fail();
  auto version = c.lock_schema("thing_types");
  if (!version) return std::move(version).take_failure();
  if (*version > schema_version) {
    (void)c.run("ROLLBACK");
    return failure{postgres::error::schema_too_new,
                   "thing_types schema version " + std::to_string(*version) +
                       " is newer than this build's " + std::to_string(schema_version),
                   {}};
  }
  if (*version < 1) {
    if (auto r = p->db.create_table(); !r) return (void)c.run("ROLLBACK"), r.fail();
    for (const char* sql : create_v1) {
      if (auto r = c.run(sql); !r) return (void)c.run("ROLLBACK"), r.fail();
    }
    if (auto r = c.set_schema("thing_types", 1); !r) return (void)c.run("ROLLBACK"), r.fail();
  }
  if (auto r = c.run("COMMIT"); !r) return r.fail();
  return std::unique_ptr<thing_type_store>(new thing_type_store(std::move(p)));
}

result<bool> thing_type_store::changed_elsewhere() {
  auto r = p_->db.changed_elsewhere();
  if (!r) return storage(r.fail(), "revision");
  return r;
}

result<std::vector<rg::thing_type>> thing_type_store::load() {
  auto all = p_->db.read([&]() -> result<std::vector<rg::thing_type>> {
    auto rows = p_->db.exec("thing_types_load",
                            "SELECT name, description, searchable, deprecated, deprecated_ms, "
                            "created_ms FROM iotblocks_thing_types");
    if (!rows) return storage(rows.fail(), "load");
    std::vector<rg::thing_type> out;
    for (int i = 0; i < PQntuples(rows->get()); ++i) {
      auto deprecated_ms = detail::to_int64(detail::text(*rows, i, 4));
      auto created = detail::to_int64(detail::text(*rows, i, 5));
      if (!deprecated_ms || !created) return failure{rerror::storage, "corrupt thing type", {}};
      out.push_back(rg::thing_type{std::string(detail::text(*rows, i, 0)),
                                   std::string(detail::text(*rows, i, 1)),
                                   split(detail::text(*rows, i, 2)),
                                   detail::text(*rows, i, 3) == "t", *deprecated_ms, *created});
    }
    return out;
  });
  if (!all && all.error().category() != rg::error_category()) return storage(all.fail(), "load");
  return all;
}

result<void> thing_type_store::insert_type(const rg::thing_type& t) {
  return p_->put("thing_types_insert",
                 "INSERT INTO iotblocks_thing_types VALUES($1, $2, $3, $4, $5, $6)", t);
}

result<void> thing_type_store::update_type(const rg::thing_type& t) {
  return p_->put("thing_types_update",
                 "UPDATE iotblocks_thing_types SET description = $2, searchable = $3, "
                 "deprecated = $4, deprecated_ms = $5, created_ms = $6 WHERE name = $1",
                 t);
}

result<void> thing_type_store::delete_type(std::string_view name) {
  return p_->write("thing_types_delete", "DELETE FROM iotblocks_thing_types WHERE name = $1",
                   {name});
}

}  // namespace iotblocks::postgres
