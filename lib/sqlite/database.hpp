// Private: the embedded store. A thin RAII layer over SQLite shared by every
// component that persists state (registry, policies, shadows, anomaly state,
// the rules store action, gateway sessions). Never included by public headers.
//
//   auto db = sqlite::database::open("state.db").value();
//   db.exec("CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v BLOB)").value();
//   auto put = db.prepare("INSERT OR REPLACE INTO kv VALUES(?1, ?2)").value();
//   sqlite::transaction tx{db};
//   put.bind(1, "a").bind(2, std::string_view{"b"});
//   put.run().value();
//   tx.commit().value();            // durable when this returns
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

IOTBLOCKS_API_BEGIN

struct sqlite3;
struct sqlite3_stmt;

namespace iotblocks::sqlite {

/// Errors carry SQLite's primary result code in category "iotblocks.sqlite".
const std::error_category& error_category() noexcept;

enum class synchronous { off, normal, full };

struct open_options {
  bool read_only = false;
  bool wal = true;                       ///< journal_mode=WAL
  synchronous sync = synchronous::full;  ///< FULL: a commit survives power loss
  int busy_timeout_ms = 5000;
};

class database;

/// A prepared statement. Parameters count from 1, columns from 0.
/// Distinct objects: safe. Shared objects: unsafe.
class statement {
 public:
  statement() = default;
  statement(statement&& o) noexcept;
  statement& operator=(statement&& o) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  statement& bind(int index, std::int64_t v);
  statement& bind(int index, int v) { return bind(index, static_cast<std::int64_t>(v)); }
  statement& bind(int index, double v);
  statement& bind(int index, std::string_view text);  ///< copied by SQLite
  statement& bind(int index, const char* text) { return bind(index, std::string_view{text}); }
  statement& bind(int index, bytes_view blob);  ///< copied by SQLite
  statement& bind_null(int index);

  /// Steps once: true with a row, false when done.
  result<bool> step();
  /// Steps to completion (for statements that return no rows), then resets.
  result<void> run();
  /// Resets for re-execution and clears bindings.
  void reset() noexcept;

  std::int64_t column_int64(int col) const noexcept;
  double column_double(int col) const noexcept;
  std::string_view column_text(int col) const noexcept;  ///< valid until the next step
  bytes_view column_blob(int col) const noexcept;        ///< valid until the next step
  bool column_is_null(int col) const noexcept;

 private:
  friend class database;
  statement(sqlite3* db, sqlite3_stmt* s) noexcept : db_(db), stmt_(s) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

/// An open database file. Distinct objects: safe. Shared objects: unsafe
/// (open one connection per thread, or serialise access).
class database {
 public:
  static result<database> open(const std::string& path, const open_options& options = {});

  database(database&& o) noexcept;
  database& operator=(database&& o) noexcept;
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  ~database();

  result<void> exec(std::string_view sql);
  result<statement> prepare(std::string_view sql);
  std::int64_t last_insert_rowid() const noexcept;
  int changes() const noexcept;
  sqlite3* handle() const noexcept { return db_; }

 private:
  explicit database(sqlite3* db) noexcept : db_(db) {}
  sqlite3* db_ = nullptr;
};

/// BEGIN IMMEDIATE on construction; rolls back unless commit() succeeded. When the
/// connection is already inside a transaction (a batch of the caller's), a savepoint
/// instead: all or nothing within it, durable when the outer transaction commits.
class transaction {
 public:
  explicit transaction(database& db);
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();

  /// The error of BEGIN, if it failed.
  const result<void>& begun() const noexcept { return begun_; }
  result<void> commit();

 private:
  database& db_;
  bool nested_ = false;
  result<void> begun_;
  bool open_ = false;
};

}  // namespace iotblocks::sqlite

IOTBLOCKS_API_END
