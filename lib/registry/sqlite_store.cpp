#include "registry/sqlite_store.hpp"

#include <iotblocks/registry/error.hpp>

#include "core/json.hpp"

#include <fmt/format.h>

namespace iotblocks::registry::detail {
namespace {

constexpr std::string_view schema = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ca_certificates(
  id TEXT PRIMARY KEY,
  der BLOB NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('ACTIVE','INACTIVE')),
  auto_registration INTEGER NOT NULL,
  registered_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS certificates(
  id TEXT PRIMARY KEY,
  der BLOB NOT NULL,
  ca_id TEXT REFERENCES ca_certificates(id),
  status TEXT NOT NULL,
  registered_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS certificates_by_ca ON certificates(ca_id, registered_ms);
CREATE TABLE IF NOT EXISTS things(
  name TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  attributes TEXT NOT NULL,
  version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS thing_principals(
  thing TEXT NOT NULL REFERENCES things(name),
  certificate_id TEXT NOT NULL REFERENCES certificates(id),
  PRIMARY KEY(thing, certificate_id));
INSERT OR IGNORE INTO meta VALUES('schema_version', '2');
)sql";

// Version 1 -> 2: certificates.ca_id may be NULL (registered without a CA). SQLite
// cannot drop a NOT NULL constraint: the table is copied (its documented procedure).
constexpr std::string_view migrate_1_to_2 = R"sql(
CREATE TABLE certificates_v2(
  id TEXT PRIMARY KEY,
  der BLOB NOT NULL,
  ca_id TEXT REFERENCES ca_certificates(id),
  status TEXT NOT NULL,
  registered_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
INSERT INTO certificates_v2 SELECT id, der, ca_id, status, registered_ms, updated_ms
  FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_v2 RENAME TO certificates;
CREATE INDEX certificates_by_ca ON certificates(ca_id, registered_ms);
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

failure storage_failure(const failure& f, std::string_view what) {
  return failure{error::storage, fmt::format("{}: {}", what, f.describe()), {}};
}

std::string attributes_json(const std::map<std::string, std::string>& attributes) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  for (const auto& [k, v] : attributes) {
    doc.AddMember(json::string_value(k, alloc), json::string_value(v, alloc), alloc);
  }
  return json::write(doc);
}

result<std::map<std::string, std::string>> parse_attributes(std::string_view text) {
  auto doc = json::parse(text);
  if (!doc || !doc->IsObject()) return failure{error::storage, "corrupt thing attributes", {}};
  std::map<std::string, std::string> out;
  for (const auto& m : doc->GetObject()) {
    if (!m.value.IsString()) return failure{error::storage, "corrupt thing attributes", {}};
    out.emplace(json::view(m.name), json::view(m.value));
  }
  return out;
}

}  // namespace

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return storage_failure(db.fail(), "open");
  if (auto r = db->exec(schema); !r) return storage_failure(r.fail(), "schema");
  std::string v;
  {
    auto version = db->prepare("SELECT value FROM meta WHERE key = 'schema_version'");
    if (!version) return storage_failure(version.fail(), "schema");
    auto row = version->step();
    if (!row || !*row) return failure{error::storage, "unsupported registry schema version", {}};
    v = std::string(version->column_text(0));
  }
  if (v == "1") {
    if (auto r = db->exec("PRAGMA foreign_keys=OFF"); !r)
      return storage_failure(r.fail(), "migrate");
    sqlite::transaction tx{*db};
    if (!tx.begun()) return storage_failure(tx.begun().fail(), "migrate");
    if (auto r = db->exec(migrate_1_to_2); !r) return storage_failure(r.fail(), "migrate");
    if (auto r = tx.commit(); !r) return storage_failure(r.fail(), "migrate");
    if (auto r = db->exec("PRAGMA foreign_keys=ON"); !r)
      return storage_failure(r.fail(), "migrate");
  } else if (v != "2") {
    return failure{error::storage, "unsupported registry schema version " + v.substr(0, 16), {}};
  }
  return std::make_unique<sqlite_store>(std::move(*db));
}

template <class Bind>
result<void> sqlite_store::write(std::string_view sql, Bind&& bind) {
  sqlite::transaction tx{db_};
  if (!tx.begun()) return storage_failure(tx.begun().fail(), "begin");
  auto stmt = db_.prepare(sql);
  if (!stmt) return storage_failure(stmt.fail(), "prepare");
  bind(*stmt);
  if (auto r = stmt->run(); !r) return storage_failure(r.fail(), "write");
  if (auto r = tx.commit(); !r) return storage_failure(r.fail(), "commit");
  return {};
}

result<void> sqlite_store::begin_batch() {
  if (auto r = db_.exec("BEGIN IMMEDIATE"); !r) return storage_failure(r.fail(), "begin");
  return {};
}

result<void> sqlite_store::commit_batch() {
  if (auto r = db_.exec("COMMIT"); !r) {
    (void)db_.exec("ROLLBACK");  // a busy COMMIT leaves the transaction open
    return storage_failure(r.fail(), "commit");
  }
  return {};
}

void sqlite_store::rollback_batch() { (void)db_.exec("ROLLBACK"); }

result<stored_state> sqlite_store::load() {
  stored_state out;
  auto fail = [](const failure& f) { return storage_failure(f, "load"); };
  {
    auto s = db_.prepare("SELECT value FROM meta WHERE key = 'registration_code'");
    if (!s) return fail(s.fail());
    auto row = s->step();
    if (!row) return fail(row.fail());
    if (*row) out.registration_code = std::string(s->column_text(0));
  }
  {
    auto s = db_.prepare(
        "SELECT der, status, auto_registration, registered_ms, updated_ms FROM ca_certificates "
        "ORDER BY registered_ms, id");
    if (!s) return fail(s.fail());
    for (;;) {
      auto row = s->step();
      if (!row) return fail(row.fail());
      if (!*row) break;
      auto status = parse_ca_status(s->column_text(1));
      if (!status) return failure{error::storage, "corrupt CA status", {}};
      out.cas.push_back(stored_ca{to_buffer(s->column_blob(0)), *status, s->column_int64(2) != 0,
                                  s->column_int64(3), s->column_int64(4)});
    }
  }
  {
    auto s = db_.prepare(
        "SELECT der, ca_id, status, registered_ms, updated_ms FROM certificates "
        "ORDER BY registered_ms, id");
    if (!s) return fail(s.fail());
    for (;;) {
      auto row = s->step();
      if (!row) return fail(row.fail());
      if (!*row) break;
      auto status = parse_certificate_status(s->column_text(2));
      if (!status) return failure{error::storage, "corrupt certificate status", {}};
      out.certificates.push_back(stored_certificate{to_buffer(s->column_blob(0)),
                                                    std::string(s->column_text(1)), *status,
                                                    s->column_int64(3), s->column_int64(4)});
    }
  }
  {
    auto s = db_.prepare("SELECT name, type, attributes, version FROM things ORDER BY name");
    if (!s) return fail(s.fail());
    for (;;) {
      auto row = s->step();
      if (!row) return fail(row.fail());
      if (!*row) break;
      auto attributes = parse_attributes(s->column_text(2));
      if (!attributes) return std::move(attributes).take_failure();
      out.things.push_back(thing{std::string(s->column_text(0)), std::string(s->column_text(1)),
                                 std::move(*attributes), s->column_int64(3)});
    }
  }
  {
    auto s = db_.prepare("SELECT thing, certificate_id FROM thing_principals ORDER BY thing");
    if (!s) return fail(s.fail());
    for (;;) {
      auto row = s->step();
      if (!row) return fail(row.fail());
      if (!*row) break;
      out.attachments.emplace_back(std::string(s->column_text(0)), std::string(s->column_text(1)));
    }
  }
  return out;
}

result<void> sqlite_store::set_registration_code(std::string_view code) {
  return write("INSERT OR REPLACE INTO meta VALUES('registration_code', ?1)",
               [&](sqlite::statement& s) { s.bind(1, code); });
}

result<void> sqlite_store::delete_registration_code() {
  return write("DELETE FROM meta WHERE key = 'registration_code'", [](sqlite::statement&) {});
}

result<void> sqlite_store::insert_ca(std::string_view id, const stored_ca& ca) {
  return write("INSERT INTO ca_certificates VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
               [&](sqlite::statement& s) {
                 s.bind(1, id).bind(2, bytes_view{ca.der}).bind(3, to_string(ca.status));
                 s.bind(4, ca.auto_registration ? 1 : 0).bind(5, ca.registered_ms);
                 s.bind(6, ca.updated_ms);
               });
}

result<void> sqlite_store::update_ca(std::string_view id, ca_status status, bool auto_registration,
                                     std::int64_t updated_ms) {
  return write(
      "UPDATE ca_certificates SET status = ?2, auto_registration = ?3, updated_ms = ?4 "
      "WHERE id = ?1",
      [&](sqlite::statement& s) {
        s.bind(1, id).bind(2, to_string(status)).bind(3, auto_registration ? 1 : 0);
        s.bind(4, updated_ms);
      });
}

result<void> sqlite_store::delete_ca(std::string_view id) {
  return write("DELETE FROM ca_certificates WHERE id = ?1",
               [&](sqlite::statement& s) { s.bind(1, id); });
}

result<void> sqlite_store::insert_certificate(std::string_view id, const stored_certificate& c) {
  return write("INSERT INTO certificates VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
               [&](sqlite::statement& s) {
                 s.bind(1, id).bind(2, bytes_view{c.der});
                 if (c.ca_id.empty()) {
                   s.bind_null(3);  // registered without a CA
                 } else {
                   s.bind(3, c.ca_id);
                 }
                 s.bind(4, to_string(c.status)).bind(5, c.registered_ms).bind(6, c.updated_ms);
               });
}

result<void> sqlite_store::update_certificate(std::string_view id, certificate_status status,
                                              std::int64_t updated_ms) {
  return write(
      "UPDATE certificates SET status = ?2, updated_ms = ?3 WHERE id = ?1",
      [&](sqlite::statement& s) { s.bind(1, id).bind(2, to_string(status)).bind(3, updated_ms); });
}

result<void> sqlite_store::delete_certificate(std::string_view id) {
  return write("DELETE FROM certificates WHERE id = ?1",
               [&](sqlite::statement& s) { s.bind(1, id); });
}

result<void> sqlite_store::insert_thing(const thing& t) {
  const std::string attributes = attributes_json(t.attributes);
  return write("INSERT INTO things VALUES(?1, ?2, ?3, ?4)", [&](sqlite::statement& s) {
    s.bind(1, t.name).bind(2, t.type).bind(3, attributes).bind(4, t.version);
  });
}

result<void> sqlite_store::update_thing(const thing& t, std::int64_t previous_version) {
  const std::string attributes = attributes_json(t.attributes);
  return write(
      "UPDATE things SET type = ?2, attributes = ?3, version = ?4 WHERE name = ?1 AND version = ?5",
      [&](sqlite::statement& s) {
        s.bind(1, t.name).bind(2, t.type).bind(3, attributes).bind(4, t.version);
        s.bind(5, previous_version);
      });
}

result<void> sqlite_store::delete_thing(std::string_view name) {
  return write("DELETE FROM things WHERE name = ?1",
               [&](sqlite::statement& s) { s.bind(1, name); });
}

result<void> sqlite_store::attach(std::string_view thing_name, std::string_view certificate_id) {
  return write("INSERT INTO thing_principals VALUES(?1, ?2)",
               [&](sqlite::statement& s) { s.bind(1, thing_name).bind(2, certificate_id); });
}

result<void> sqlite_store::detach(std::string_view thing_name, std::string_view certificate_id) {
  return write("DELETE FROM thing_principals WHERE thing = ?1 AND certificate_id = ?2",
               [&](sqlite::statement& s) { s.bind(1, thing_name).bind(2, certificate_id); });
}

}  // namespace iotblocks::registry::detail
