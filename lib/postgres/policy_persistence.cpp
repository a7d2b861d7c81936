#include <iotblocks/policy/error.hpp>
#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/policy_persistence.hpp>

#include "postgres/revisioned.hpp"

#include <charconv>
#include <optional>

namespace iotblocks::postgres {
namespace {

using perror = policy::error;

constexpr int schema_version = 1;

constexpr const char* create_v1[] = {
    "CREATE TABLE iotblocks_policies("
    "name text PRIMARY KEY, default_version integer NOT NULL, next_version integer NOT NULL)",
    "CREATE TABLE iotblocks_policy_versions("
    "name text NOT NULL REFERENCES iotblocks_policies(name), version integer NOT NULL, "
    "document text NOT NULL, created_ms bigint NOT NULL, PRIMARY KEY(name, version))",
    "CREATE TABLE iotblocks_policy_attachments("
    "seq bigserial PRIMARY KEY, principal text NOT NULL, "
    "name text NOT NULL REFERENCES iotblocks_policies(name), UNIQUE(principal, name))",
    "CREATE TABLE iotblocks_policy_resources(arn text PRIMARY KEY, document text NOT NULL)",
};

template <class T>
std::optional<T> number(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

failure corrupt(std::string_view what) {
  return {error::statement_failed, "XX000: corrupt policy row: " + std::string(what), {}};
}

}  // namespace

struct policy_persistence::impl {
  detail::revisioned db;

  explicit impl(detail::connection conn) : db(std::move(conn), "iotblocks_policy_revision") {}

  struct step {
    const char* name;
    const char* sql;
    std::initializer_list<detail::param> params;
    std::optional<perror> on_none = {};  ///< the error when it touched no row
  };

  /// Statements in one transaction; a unique key refusing them is `on_unique`, a
  /// foreign key `on_fk`.
  result<void> write(std::initializer_list<step> steps, perror on_unique, perror on_fk) {
    auto r = db.write([&]() -> result<void> {
      for (const auto& s : steps) {
        auto done = db.exec(s.name, s.sql, s.params);
        if (!done) return std::move(done).take_failure();
        if (s.on_none && std::string_view(PQcmdTuples(done->get())) == "0") {
          return failure{*s.on_none, std::string(s.name) + ": changed by another process", {}};
        }
      }
      return {};
    });
    if (r) return r;
    const auto state = detail::sqlstate(r.fail());
    if (state == "23505") return failure{on_unique, r.fail().message, {}};
    if (state == "23503") return failure{on_fk, r.fail().message, {}};
    return r;
  }
};

policy_persistence::policy_persistence(std::unique_ptr<impl> p) : p_(std::move(p)) {}
policy_persistence::~policy_persistence() = default;

result<std::unique_ptr<policy_persistence>> policy_persistence::open(const std::string& url) {
  auto conn = detail::connection::open(url);
  if (!conn) return std::move(conn).take_failure();
  auto p = std::make_unique<impl>(std::move(*conn));
  auto& c = p->db.conn();
  // Quiet: no "relation already exists, skipping" notices on stderr at every start.
  if (auto r = c.run("SET client_min_messages = warning"); !r) return r.fail();
  auto version = c.lock_schema("policy");
  if (!version) return std::move(version).take_failure();
  if (*version > schema_version) {
    (void)c.run("ROLLBACK");
    return failure{error::schema_too_new,
                   "policy schema version " + std::to_string(*version) +
                       " is newer than this build's " + std::to_string(schema_version),
                   {}};
  }
  if (*version < 1) {
    if (auto r = p->db.create_table(); !r) return (void)c.run("ROLLBACK"), r.fail();
    for (const char* sql : create_v1) {
      if (auto r = c.run(sql); !r) return (void)c.run("ROLLBACK"), r.fail();
    }
    if (auto r = c.set_schema("policy", 1); !r) return (void)c.run("ROLLBACK"), r.fail();
  }
  if (auto r = c.run("COMMIT"); !r) return r.fail();
  return std::unique_ptr<policy_persistence>(new policy_persistence(std::move(p)));
}

result<void> policy_persistence::begin_batch() { return p_->db.begin_batch(); }
result<void> policy_persistence::commit_batch() { return p_->db.commit_batch(); }
void policy_persistence::rollback_batch() { p_->db.rollback_batch(); }

result<bool> policy_persistence::changed_elsewhere() { return p_->db.changed_elsewhere(); }

result<policy::stored_policies> policy_persistence::load() {
  auto& db = p_->db;
  return db.read([&]() -> result<policy::stored_policies> {
    policy::stored_policies out;
    auto policies = db.exec("policy_load_policies",
                            "SELECT name, default_version, next_version FROM iotblocks_policies");
    if (!policies) return std::move(policies).take_failure();
    for (int i = 0; i < PQntuples(policies->get()); ++i) {
      auto def = number<std::uint32_t>(detail::text(*policies, i, 1));
      auto next = number<std::uint32_t>(detail::text(*policies, i, 2));
      if (!def || !next) return corrupt("policy");
      out.policies.push_back({std::string(detail::text(*policies, i, 0)), *def, *next});
    }
    auto versions = db.exec("policy_load_versions",
                            "SELECT name, version, document, created_ms "
                            "FROM iotblocks_policy_versions");
    if (!versions) return std::move(versions).take_failure();
    for (int i = 0; i < PQntuples(versions->get()); ++i) {
      auto v = number<std::uint32_t>(detail::text(*versions, i, 1));
      auto created = number<std::int64_t>(detail::text(*versions, i, 3));
      if (!v || !created) return corrupt("policy version");
      out.versions.push_back({std::string(detail::text(*versions, i, 0)), *v,
                              std::string(detail::text(*versions, i, 2)), *created});
    }
    auto attached =
        db.exec("policy_load_attachments",
                "SELECT principal, name FROM iotblocks_policy_attachments ORDER BY seq");
    if (!attached) return std::move(attached).take_failure();
    for (int i = 0; i < PQntuples(attached->get()); ++i) {
      out.attachments.emplace_back(detail::text(*attached, i, 0), detail::text(*attached, i, 1));
    }
    auto resources =
        db.exec("policy_load_resources", "SELECT arn, document FROM iotblocks_policy_resources");
    if (!resources) return std::move(resources).take_failure();
    for (int i = 0; i < PQntuples(resources->get()); ++i) {
      out.resource_policies.emplace_back(detail::text(*resources, i, 0),
                                         detail::text(*resources, i, 1));
    }
    return out;
  });
}

result<void> policy_persistence::create_policy(std::string_view name, std::string_view document,
                                               std::int64_t created_ms) {
  const std::string ms = std::to_string(created_ms);
  return p_->write({{"policy_create", "INSERT INTO iotblocks_policies VALUES($1, 1, 2)", {name}},
                    {"policy_create_version",
                     "INSERT INTO iotblocks_policy_versions VALUES($1, 1, $2, $3)",
                     {name, document, ms}}},
                   perror::policy_exists, perror::no_such_policy);
}

result<void> policy_persistence::add_version(std::string_view name, std::uint32_t version,
                                             std::string_view document, std::int64_t created_ms,
                                             std::uint32_t default_version) {
  const std::string v = std::to_string(version), next = std::to_string(version + 1),
                    def = std::to_string(default_version), ms = std::to_string(created_ms);
  // Only on the next version this process saw: another process that added one first wins.
  return p_->write({{"policy_next_version",
                     "UPDATE iotblocks_policies SET default_version = $2, next_version = $3 "
                     "WHERE name = $1 AND next_version = $4",
                     {name, def, next, v},
                     perror::no_such_version},
                    {"policy_add_version",
                     "INSERT INTO iotblocks_policy_versions VALUES($1, $2, $3, $4)",
                     {name, v, document, ms}}},
                   perror::no_such_version, perror::no_such_policy);
}

result<void> policy_persistence::set_default_version(std::string_view name, std::uint32_t version) {
  const std::string v = std::to_string(version);
  return p_->write({{"policy_set_default",
                     "UPDATE iotblocks_policies SET default_version = $2 WHERE name = $1 AND "
                     "EXISTS(SELECT 1 FROM iotblocks_policy_versions WHERE name = $1 "
                     "AND version = $2)",
                     {name, v},
                     perror::no_such_version}},
                   perror::no_such_version, perror::no_such_policy);
}

result<void> policy_persistence::delete_version(std::string_view name, std::uint32_t version) {
  const std::string v = std::to_string(version);
  return p_->write({{"policy_delete_version",
                     "DELETE FROM iotblocks_policy_versions WHERE name = $1 AND version = $2 "
                     "AND version <> (SELECT default_version FROM iotblocks_policies "
                     "WHERE name = $1)",
                     {name, v},
                     perror::no_such_version}},
                   perror::no_such_version, perror::no_such_policy);
}

result<void> policy_persistence::delete_policy(std::string_view name) {
  return p_->write(
      {{"policy_delete_versions", "DELETE FROM iotblocks_policy_versions WHERE name = $1", {name}},
       {"policy_delete",
        "DELETE FROM iotblocks_policies WHERE name = $1",
        {name},
        perror::no_such_policy}},
      perror::policy_exists, perror::policy_in_use);
}

result<void> policy_persistence::attach(std::string_view name, std::string_view principal) {
  return p_->write({{"policy_attach",
                     "INSERT INTO iotblocks_policy_attachments(principal, name) VALUES($1, $2) "
                     "ON CONFLICT DO NOTHING",
                     {principal, name}}},
                   perror::policy_exists, perror::no_such_policy);
}

result<void> policy_persistence::detach(std::string_view name, std::string_view principal) {
  return p_->write({{"policy_detach",
                     "DELETE FROM iotblocks_policy_attachments WHERE principal = $1 AND name = $2",
                     {principal, name}}},
                   perror::policy_exists, perror::no_such_policy);
}

result<void> policy_persistence::put_resource_policy(std::string_view arn,
                                                     std::string_view document) {
  return p_->write({{"policy_put_resource",
                     "INSERT INTO iotblocks_policy_resources VALUES($1, $2) "
                     "ON CONFLICT(arn) DO UPDATE SET document = excluded.document",
                     {arn, document}}},
                   perror::policy_exists, perror::no_such_policy);
}

result<void> policy_persistence::delete_resource_policy(std::string_view arn) {
  return p_->write(
      {{"policy_delete_resource", "DELETE FROM iotblocks_policy_resources WHERE arn = $1", {arn}}},
      perror::policy_exists, perror::no_such_policy);
}

}  // namespace iotblocks::postgres
