#include "sqlite/database.hpp"

#include <iotblocks/core/error.hpp>

#include <sqlite3.h>

#include <string>
#include <utility>

namespace iotblocks::sqlite {
namespace {

const char* message(int ev) noexcept { return sqlite3_errstr(ev); }

failure fail(sqlite3* db, int rc, std::string_view what) {
  return failure{
      {rc & 0xFF, error_category()},
      std::string{what} + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)),
      {}};
}

}  // namespace

const std::error_category& error_category() noexcept {
  return detail::lasting_category<&message>("iotblocks.sqlite");
}

// statement

statement::statement(statement&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), stmt_(std::exchange(o.stmt_, nullptr)) {}

statement& statement::operator=(statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(o.db_, nullptr);
    stmt_ = std::exchange(o.stmt_, nullptr);
  }
  return *this;
}

statement::~statement() { sqlite3_finalize(stmt_); }

statement& statement::bind(int index, std::int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}
statement& statement::bind(int index, double v) {
  sqlite3_bind_double(stmt_, index, v);
  return *this;
}
statement& statement::bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
statement& statement::bind(int index, bytes_view blob) {
  sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(), SQLITE_TRANSIENT);
  return *this;
}
statement& statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

result<bool> statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  auto f = fail(db_, rc, "step");
  sqlite3_reset(stmt_);
  return f;
}

result<void> statement::run() {
  for (;;) {
    auto r = step();
    if (!r) return std::move(r).take_failure();
    if (!*r) break;
  }
  reset();
  return {};
}

void statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t statement::column_int64(int col) const noexcept {
  return sqlite3_column_int64(stmt_, col);
}
double statement::column_double(int col) const noexcept {
  return sqlite3_column_double(stmt_, col);
}
std::string_view statement::column_text(int col) const noexcept {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p == nullptr
             ? std::string_view{}
             : std::string_view{p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}
bytes_view statement::column_blob(int col) const noexcept {
  const auto* p = static_cast<const std::byte*>(sqlite3_column_blob(stmt_, col));
  return p == nullptr ? bytes_view{}
                      : bytes_view{p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}
bool statement::column_is_null(int col) const noexcept {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

// database

result<database> database::open(const std::string& path, const open_options& options) {
  sqlite3* raw = nullptr;
  const int flags =
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  database db{raw};
  if (rc != SQLITE_OK) return fail(raw, rc, "cannot open '" + path + "'");
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 1);
  if (!options.read_only) {
    if (options.wal) {
      if (auto r = db.exec("PRAGMA journal_mode=WAL"); !r) return std::move(r).take_failure();
    }
    static constexpr const char* sync_names[] = {"OFF", "NORMAL", "FULL"};
    if (auto r = db.exec(std::string{"PRAGMA synchronous="} +
                         sync_names[static_cast<int>(options.sync)]);
        !r) {
      return std::move(r).take_failure();
    }
  }
  if (auto r = db.exec("PRAGMA foreign_keys=ON"); !r) return std::move(r).take_failure();
  return db;
}

database::database(database&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}

database& database::operator=(database&& o) noexcept {
  if (this != &o) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
  }
  return *this;
}

database::~database() { sqlite3_close_v2(db_); }

result<void> database::exec(std::string_view sql) {
  const std::string text{sql};
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return fail(db_, rc, "exec");
  return {};
}

result<statement> database::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return fail(db_, rc, "prepare");
  return statement{db_, s};
}

std::int64_t database::last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(db_); }
int database::changes() const noexcept { return sqlite3_changes(db_); }

// transaction

namespace {
// Inside a transaction already open on the connection (a caller's batch), a transaction
// is a savepoint: its statements stay all or nothing, and the outer COMMIT makes them durable.
bool in_transaction(database& db) noexcept { return sqlite3_get_autocommit(db.handle()) == 0; }
}  // namespace

transaction::transaction(database& db)
    : db_(db),
      nested_(in_transaction(db)),
      begun_(db.exec(nested_ ? "SAVEPOINT iotblocks_nested" : "BEGIN IMMEDIATE")) {
  open_ = begun_.ok();
}

transaction::~transaction() {
  if (!open_) return;
  if (nested_) {
    (void)db_.exec("ROLLBACK TO iotblocks_nested");
    (void)db_.exec("RELEASE iotblocks_nested");
  } else {
    (void)db_.exec("ROLLBACK");
  }
}

result<void> transaction::commit() {
  if (!open_)
    return begun_.ok() ? result<void>{core::error::invalid_argument, "not in a transaction"}
                       : begun_;
  auto r = db_.exec(nested_ ? "RELEASE iotblocks_nested" : "COMMIT");
  if (r) open_ = false;
  return r;
}

}  // namespace iotblocks::sqlite
