#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/registry_store.hpp>
#include <iotblocks/registry/error.hpp>

#include "postgres/columns.hpp"
#include "postgres/connection.hpp"
#include "postgres/prepared.hpp"
#include "postgres/revisioned.hpp"

#include <optional>

namespace iotblocks::postgres {
namespace {

namespace rg = iotblocks::registry;
using detail::attributes_json;
using detail::parse_attributes;
using detail::to_int64;
using rerror = rg::error;

constexpr int schema_version = 1;

// The revision moves in every write transaction; readers compare it with what they loaded.
constexpr const char* create_v1[] = {
    "CREATE TABLE iotblocks_registry_meta(key text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE iotblocks_registry_cas("
    "id text PRIMARY KEY, der bytea NOT NULL, "
    "status text NOT NULL CHECK(status IN ('ACTIVE','INACTIVE')), "
    "auto_registration boolean NOT NULL, registered_ms bigint NOT NULL, "
    "updated_ms bigint NOT NULL)",
    "CREATE TABLE iotblocks_registry_certificates("
    "id text PRIMARY KEY, der bytea NOT NULL, ca_id text REFERENCES iotblocks_registry_cas(id), "
    "status text NOT NULL, registered_ms bigint NOT NULL, updated_ms bigint NOT NULL)",
    "CREATE INDEX iotblocks_registry_certificates_by_ca "
    "ON iotblocks_registry_certificates(ca_id, registered_ms)",
    "CREATE TABLE iotblocks_registry_things("
    "name text PRIMARY KEY, type text NOT NULL, attributes text NOT NULL, "
    "version bigint NOT NULL)",
    "CREATE TABLE iotblocks_registry_thing_principals("
    "thing text NOT NULL REFERENCES iotblocks_registry_things(name), "
    "certificate_id text NOT NULL REFERENCES iotblocks_registry_certificates(id), "
    "PRIMARY KEY(thing, certificate_id))",
};

failure storage(const failure& f, std::string_view what) {
  return {rerror::storage, std::string(what) + ": " + f.describe(), {}};
}

std::string bytea(bytes_view b) { return "\\x" + to_hex(b); }

std::optional<byte_buffer> from_bytea(std::string_view s) {
  if (!s.starts_with("\\x") || s.size() % 2 != 0) return std::nullopt;
  byte_buffer out;
  out.reserve(s.size() / 2 - 1);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 2; i < s.size(); i += 2) {
    const int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::byte>(hi * 16 + lo));
  }
  return out;
}

failure corrupt(std::string_view what) {
  return {rerror::storage, "corrupt registry row: " + std::string(what), {}};
}

}  // namespace

struct registry_store::impl {
  detail::revisioned db;

  explicit impl(detail::connection conn) : db(std::move(conn), "iotblocks_registry_revision") {}

  /// One statement in its own transaction. `on_fk`: the error when a foreign key
  /// refuses it; `on_none`: the error when it touched no row (another process got there).
  result<void> write(const char* name, const char* sql, std::initializer_list<detail::param> params,
                     rerror on_fk, std::optional<rerror> on_none = {}) {
    auto r = db.write([&]() -> result<void> {
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
    if (state == "23503") return failure{on_fk, r.fail().message, {}};
    return storage(r.fail(), name);
  }
};

registry_store::registry_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
registry_store::~registry_store() = default;

result<std::unique_ptr<registry_store>> registry_store::open(const std::string& url) {
  auto conn = detail::connection::open(url);
  if (!conn) return std::move(conn).take_failure();
  auto p = std::make_unique<impl>(std::move(*conn));
  auto& c = p->db.conn();
  // Quiet: no "relation already exists, skipping" notices on stderr at every start.
  if (auto r = c.run("SET client_min_messages = warning"); !r) return r.fail();
  auto version = c.lock_schema("registry");
  if (!version) return std::move(version).take_failure();
  if (*version > schema_version) {
    (void)c.run("ROLLBACK");
    return failure{postgres::error::schema_too_new,
                   "registry schema version " + std::to_string(*version) +
                       " is newer than this build's " + std::to_string(schema_version),
                   {}};
  }
  if (*version < 1) {
    if (auto r = p->db.create_table(); !r) return (void)c.run("ROLLBACK"), r.fail();
    for (const char* sql : create_v1) {
      if (auto r = c.run(sql); !r) return (void)c.run("ROLLBACK"), r.fail();
    }
    if (auto r = c.set_schema("registry", 1); !r) return (void)c.run("ROLLBACK"), r.fail();
  }
  if (auto r = c.run("COMMIT"); !r) return r.fail();
  return std::unique_ptr<registry_store>(new registry_store(std::move(p)));
}

result<void> registry_store::begin_batch() {
  if (auto r = p_->db.begin_batch(); !r) return storage(r.fail(), "batch");
  return {};
}

result<void> registry_store::commit_batch() {
  if (auto r = p_->db.commit_batch(); !r) return storage(r.fail(), "batch");
  return {};
}

void registry_store::rollback_batch() { p_->db.rollback_batch(); }

result<bool> registry_store::changed_elsewhere() {
  auto r = p_->db.changed_elsewhere();
  if (!r) return storage(r.fail(), "revision");
  return r;
}

result<rg::stored_state> registry_store::load() {
  auto state = p_->db.read([&]() -> result<rg::stored_state> {
    rg::stored_state out;
    auto code =
        p_->db.exec("registry_load_code",
                    "SELECT value FROM iotblocks_registry_meta WHERE key = 'registration_code'");
    if (!code) return storage(code.fail(), "load");
    if (PQntuples(code->get()) > 0) out.registration_code = std::string(detail::text(*code, 0, 0));
    auto cas = p_->db.exec("registry_load_cas",
                           "SELECT der, status, auto_registration, registered_ms, updated_ms "
                           "FROM iotblocks_registry_cas ORDER BY registered_ms, id");
    if (!cas) return storage(cas.fail(), "load");
    for (int i = 0; i < PQntuples(cas->get()); ++i) {
      auto der = from_bytea(detail::text(*cas, i, 0));
      auto status = rg::parse_ca_status(detail::text(*cas, i, 1));
      auto registered = to_int64(detail::text(*cas, i, 3));
      auto updated = to_int64(detail::text(*cas, i, 4));
      if (!der || !status || !registered || !updated) return corrupt("CA");
      out.cas.push_back(rg::stored_ca{std::move(*der), *status, detail::text(*cas, i, 2) == "t",
                                      *registered, *updated});
    }
    auto certs = p_->db.exec("registry_load_certificates",
                             "SELECT der, ca_id, status, registered_ms, updated_ms "
                             "FROM iotblocks_registry_certificates ORDER BY registered_ms, id");
    if (!certs) return storage(certs.fail(), "load");
    for (int i = 0; i < PQntuples(certs->get()); ++i) {
      auto der = from_bytea(detail::text(*certs, i, 0));
      auto status = rg::parse_certificate_status(detail::text(*certs, i, 2));
      auto registered = to_int64(detail::text(*certs, i, 3));
      auto updated = to_int64(detail::text(*certs, i, 4));
      if (!der || !status || !registered || !updated) return corrupt("certificate");
      out.certificates.push_back(rg::stored_certificate{std::move(*der),
                                                        std::string(detail::text(*certs, i, 1)),
                                                        *status, *registered, *updated});
    }
    auto things =
        p_->db.exec("registry_load_things",
                    "SELECT name, type, attributes, version FROM iotblocks_registry_things "
                    "ORDER BY name");
    if (!things) return storage(things.fail(), "load");
    for (int i = 0; i < PQntuples(things->get()); ++i) {
      auto attributes = parse_attributes(detail::text(*things, i, 2));
      auto version = to_int64(detail::text(*things, i, 3));
      if (!attributes || !version) return corrupt("thing");
      out.things.push_back(rg::thing{std::string(detail::text(*things, i, 0)),
                                     std::string(detail::text(*things, i, 1)),
                                     std::move(*attributes), *version});
    }
    auto principals = p_->db.exec(
        "registry_load_principals",
        "SELECT thing, certificate_id FROM iotblocks_registry_thing_principals ORDER BY thing");
    if (!principals) return storage(principals.fail(), "load");
    for (int i = 0; i < PQntuples(principals->get()); ++i) {
      out.attachments.emplace_back(std::string(detail::text(*principals, i, 0)),
                                   std::string(detail::text(*principals, i, 1)));
    }
    return out;
  });
  if (!state && state.error().category() != rg::error_category()) {
    return storage(state.fail(), "load");
  }
  return state;
}

result<void> registry_store::set_registration_code(std::string_view code) {
  return p_->write("registry_set_code",
                   "INSERT INTO iotblocks_registry_meta VALUES('registration_code', $1) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   {code}, rerror::storage);
}

result<void> registry_store::delete_registration_code() {
  return p_->write("registry_delete_code",
                   "DELETE FROM iotblocks_registry_meta WHERE key = 'registration_code'", {},
                   rerror::storage);
}

result<void> registry_store::insert_ca(std::string_view id, const rg::stored_ca& ca) {
  const std::string der = bytea(ca.der), reg = std::to_string(ca.registered_ms),
                    upd = std::to_string(ca.updated_ms);
  return p_->write(
      "registry_insert_ca", "INSERT INTO iotblocks_registry_cas VALUES($1, $2, $3, $4, $5, $6)",
      {id, der, rg::to_string(ca.status), ca.auto_registration ? "true" : "false", reg, upd},
      rerror::storage);
}

result<void> registry_store::update_ca(std::string_view id, rg::ca_status status,
                                       bool auto_registration, std::int64_t updated_ms) {
  const std::string upd = std::to_string(updated_ms);
  return p_->write("registry_update_ca",
                   "UPDATE iotblocks_registry_cas SET status = $2, auto_registration = $3, "
                   "updated_ms = $4 WHERE id = $1",
                   {id, rg::to_string(status), auto_registration ? "true" : "false", upd},
                   rerror::storage, rerror::not_found);
}

result<void> registry_store::delete_ca(std::string_view id) {
  return p_->write("registry_delete_ca", "DELETE FROM iotblocks_registry_cas WHERE id = $1", {id},
                   rerror::in_use, rerror::not_found);
}

result<void> registry_store::insert_certificate(std::string_view id,
                                                const rg::stored_certificate& c) {
  const std::string der = bytea(c.der), reg = std::to_string(c.registered_ms),
                    upd = std::to_string(c.updated_ms);
  const detail::param ca = c.ca_id.empty() ? detail::param{} : detail::param{c.ca_id};
  return p_->write("registry_insert_certificate",
                   "INSERT INTO iotblocks_registry_certificates VALUES($1, $2, $3, $4, $5, $6)",
                   {id, der, ca, rg::to_string(c.status), reg, upd}, rerror::not_found);
}

result<void> registry_store::update_certificate(std::string_view id, rg::certificate_status status,
                                                std::int64_t updated_ms) {
  const std::string upd = std::to_string(updated_ms);
  return p_->write("registry_update_certificate",
                   "UPDATE iotblocks_registry_certificates SET status = $2, updated_ms = $3 "
                   "WHERE id = $1",
                   {id, rg::to_string(status), upd}, rerror::storage, rerror::not_found);
}

result<void> registry_store::delete_certificate(std::string_view id) {
  return p_->write("registry_delete_certificate",
                   "DELETE FROM iotblocks_registry_certificates WHERE id = $1", {id},
                   rerror::in_use, rerror::not_found);
}

result<void> registry_store::insert_thing(const rg::thing& t) {
  const std::string attributes = attributes_json(t.attributes), v = std::to_string(t.version);
  return p_->write("registry_insert_thing",
                   "INSERT INTO iotblocks_registry_things VALUES($1, $2, $3, $4)",
                   {t.name, t.type, attributes, v}, rerror::storage);
}

result<void> registry_store::update_thing(const rg::thing& t, std::int64_t previous_version) {
  const std::string attributes = attributes_json(t.attributes), v = std::to_string(t.version),
                    prev = std::to_string(previous_version);
  return p_->write("registry_update_thing",
                   "UPDATE iotblocks_registry_things SET type = $2, attributes = $3, "
                   "version = $4 WHERE name = $1 AND version = $5",
                   {t.name, t.type, attributes, v, prev}, rerror::storage,
                   rerror::version_conflict);
}

result<void> registry_store::delete_thing(std::string_view name) {
  return p_->write("registry_delete_thing", "DELETE FROM iotblocks_registry_things WHERE name = $1",
                   {name}, rerror::in_use, rerror::not_found);
}

result<void> registry_store::attach(std::string_view thing_name, std::string_view certificate_id) {
  return p_->write("registry_attach",
                   "INSERT INTO iotblocks_registry_thing_principals VALUES($1, $2) "
                   "ON CONFLICT DO NOTHING",
                   {thing_name, certificate_id}, rerror::not_found);
}

result<void> registry_store::detach(std::string_view thing_name, std::string_view certificate_id) {
  return p_->write("registry_detach",
                   "DELETE FROM iotblocks_registry_thing_principals "
                   "WHERE thing = $1 AND certificate_id = $2",
                   {thing_name, certificate_id}, rerror::storage);
}

}  // namespace iotblocks::postgres
