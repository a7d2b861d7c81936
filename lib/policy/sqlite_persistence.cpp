#include "policy/sqlite_persistence.hpp"

#include <variant>

namespace iotblocks::policy::detail {
namespace {

constexpr std::string_view schema = R"sql(
CREATE TABLE IF NOT EXISTS policy(
  name TEXT PRIMARY KEY,
  default_version INTEGER NOT NULL,
  next_version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS policy_version(
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  document TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY(name, version));
CREATE TABLE IF NOT EXISTS policy_attachment(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  principal TEXT NOT NULL,
  name TEXT NOT NULL,
  UNIQUE(principal, name));
CREATE TABLE IF NOT EXISTS resource_policy(
  arn TEXT PRIMARY KEY,
  document TEXT NOT NULL);
)sql";

// Runs `body` (which adds statements) in one transaction and commits it.
template <class F>
result<void> in_transaction(sqlite::database& db, F&& body) {
  sqlite::transaction tx{db};
  if (!tx.begun()) return tx.begun();
  if (auto r = body(); !r) return r;
  return tx.commit();
}

result<void> run(sqlite::database& db, std::string_view sql,
                 std::initializer_list<std::variant<std::string_view, std::int64_t>> args) {
  auto st = db.prepare(sql);
  if (!st) return std::move(st).take_failure();
  int i = 1;
  for (const auto& a : args) {
    if (const auto* s = std::get_if<std::string_view>(&a)) {
      st->bind(i++, *s);
    } else {
      st->bind(i++, std::get<std::int64_t>(a));
    }
  }
  return st->run();
}

// Reads every row of `sql`, calling `row(statement)` for each.
template <class F>
result<void> each(sqlite::database& db, std::string_view sql, F&& row) {
  auto st = db.prepare(sql);
  if (!st) return std::move(st).take_failure();
  while (true) {
    auto more = st->step();
    if (!more) return std::move(more).take_failure();
    if (!*more) return {};
    row(*st);
  }
}

}  // namespace

result<std::unique_ptr<sqlite_persistence>> sqlite_persistence::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  return std::make_unique<sqlite_persistence>(std::move(*db));
}

result<void> sqlite_persistence::begin_batch() { return db_.exec("BEGIN IMMEDIATE"); }

result<void> sqlite_persistence::commit_batch() {
  auto r = db_.exec("COMMIT");
  if (!r) (void)db_.exec("ROLLBACK");  // a busy COMMIT leaves the transaction open
  return r;
}

void sqlite_persistence::rollback_batch() { (void)db_.exec("ROLLBACK"); }

result<stored_policies> sqlite_persistence::load() {
  stored_policies out;
  if (auto r = each(db_, "SELECT name, default_version, next_version FROM policy",
                    [&](sqlite::statement& st) {
                      out.policies.push_back({std::string(st.column_text(0)),
                                              static_cast<std::uint32_t>(st.column_int64(1)),
                                              static_cast<std::uint32_t>(st.column_int64(2))});
                    });
      !r) {
    return std::move(r).take_failure();
  }
  if (auto r = each(db_, "SELECT name, version, document, created_ms FROM policy_version",
                    [&](sqlite::statement& st) {
                      out.versions.push_back({std::string(st.column_text(0)),
                                              static_cast<std::uint32_t>(st.column_int64(1)),
                                              std::string(st.column_text(2)), st.column_int64(3)});
                    });
      !r) {
    return std::move(r).take_failure();
  }
  if (auto r = each(db_, "SELECT principal, name FROM policy_attachment ORDER BY seq",
                    [&](sqlite::statement& st) {
                      out.attachments.emplace_back(st.column_text(0), st.column_text(1));
                    });
      !r) {
    return std::move(r).take_failure();
  }
  if (auto r = each(db_, "SELECT arn, document FROM resource_policy",
                    [&](sqlite::statement& st) {
                      out.resource_policies.emplace_back(st.column_text(0), st.column_text(1));
                    });
      !r) {
    return std::move(r).take_failure();
  }
  return out;
}

result<void> sqlite_persistence::create_policy(std::string_view name, std::string_view text,
                                               std::int64_t now) {
  return in_transaction(db_, [&]() -> result<void> {
    if (auto r = run(db_, "INSERT INTO policy VALUES(?1, 1, 2)", {name}); !r) return r;
    return run(db_, "INSERT INTO policy_version VALUES(?1, 1, ?2, ?3)", {name, text, now});
  });
}

result<void> sqlite_persistence::add_version(std::string_view name, std::uint32_t version,
                                             std::string_view text, std::int64_t now,
                                             std::uint32_t new_default) {
  return in_transaction(db_, [&]() -> result<void> {
    if (auto r = run(db_, "INSERT INTO policy_version VALUES(?1, ?2, ?3, ?4)",
                     {name, std::int64_t{version}, text, now});
        !r) {
      return r;
    }
    return run(db_, "UPDATE policy SET default_version = ?2, next_version = ?3 WHERE name = ?1",
               {name, std::int64_t{new_default}, std::int64_t{version} + 1});
  });
}

result<void> sqlite_persistence::set_default_version(std::string_view name, std::uint32_t version) {
  return in_transaction(db_, [&] {
    return run(db_, "UPDATE policy SET default_version = ?2 WHERE name = ?1",
               {name, std::int64_t{version}});
  });
}

result<void> sqlite_persistence::delete_version(std::string_view name, std::uint32_t version) {
  return in_transaction(db_, [&] {
    return run(db_, "DELETE FROM policy_version WHERE name = ?1 AND version = ?2",
               {name, std::int64_t{version}});
  });
}

result<void> sqlite_persistence::delete_policy(std::string_view name) {
  return in_transaction(db_, [&]() -> result<void> {
    if (auto r = run(db_, "DELETE FROM policy_version WHERE name = ?1", {name}); !r) return r;
    return run(db_, "DELETE FROM policy WHERE name = ?1", {name});
  });
}

result<void> sqlite_persistence::attach(std::string_view name, std::string_view principal) {
  return in_transaction(db_, [&] {
    return run(db_, "INSERT INTO policy_attachment(principal, name) VALUES(?1, ?2)",
               {principal, name});
  });
}

result<void> sqlite_persistence::detach(std::string_view name, std::string_view principal) {
  return in_transaction(db_, [&] {
    return run(db_, "DELETE FROM policy_attachment WHERE principal = ?1 AND name = ?2",
               {principal, name});
  });
}

result<void> sqlite_persistence::put_resource_policy(std::string_view arn, std::string_view text) {
  return in_transaction(db_, [&] {
    return run(db_, "INSERT OR REPLACE INTO resource_policy VALUES(?1, ?2)", {arn, text});
  });
}

result<void> sqlite_persistence::delete_resource_policy(std::string_view arn) {
  return in_transaction(
      db_, [&] { return run(db_, "DELETE FROM resource_policy WHERE arn = ?1", {arn}); });
}

}  // namespace iotblocks::policy::detail
