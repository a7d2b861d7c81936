// Private: tables shared by many processes whose writers move one revision counter in
// each write transaction, so that readers holding a copy in memory learn with one cheap
// query whether another process changed anything since they loaded (polling; the
// revision row also serialises the writers of one component).
#pragma once

#include "postgres/connection.hpp"
#include "postgres/prepared.hpp"

#include <cstdint>
#include <string>

namespace iotblocks::postgres::detail {

/// Distinct objects: safe. Shared objects: unsafe.
class revisioned {
 public:
  /// `component`: the schema component; its revision lives in `<table>` (one row).
  revisioned(connection c, std::string table);

  /// Creates the revision table (inside the caller's schema transaction).
  result<void> create_table();

  /// Runs `body()` (statements through exec()) in one transaction with the revision
  /// moved, and commits. On failure: ROLLBACK and the body's failure (SQLSTATE kept).
  /// In a batch: within its transaction, under a savepoint (all or nothing).
  template <class F>
  result<void> write(F&& body) {
    if (batch_) {
      batch_writes_ = true;
      if (auto r = c_.run("SAVEPOINT iotblocks_write"); !r) return r;
      if (auto r = body(); !r) {
        (void)c_.run("ROLLBACK TO SAVEPOINT iotblocks_write");
        (void)c_.run("RELEASE SAVEPOINT iotblocks_write");
        return std::move(r).take_failure();
      }
      return c_.run("RELEASE SAVEPOINT iotblocks_write");
    }
    if (auto r = c_.begin(); !r) return r;
    if (auto r = body(); !r) return rollback(std::move(r).take_failure());
    return commit_write();
  }
  /// A batch: the write()s until commit_batch() share one transaction (the revision moves
  /// once, or not at all when none wrote); rollback_batch() drops them.
  result<void> begin_batch();
  result<void> commit_batch();
  void rollback_batch();
  /// Runs `body()` in one REPEATABLE READ, READ ONLY transaction, which also notes the
  /// revision that snapshot belongs to.
  template <class F>
  auto read(F&& body) -> decltype(body()) {
    if (auto r = begin_read(); !r) return std::move(r).take_failure();
    auto out = body();
    if (!out) return rollback(out.fail());
    if (auto r = c_.run("COMMIT"); !r) return std::move(r).take_failure();
    known_ = snapshot_;
    return out;
  }
  /// Inside write(): locks the revision row until the transaction ends (the component's
  /// other writers wait) and tells whether the revision is still the one this process last
  /// saw (read(), changed_elsewhere() or its own writes). False: another process wrote since,
  /// and checks made on what this process holds in memory may be stale. In a batch: true.
  result<bool> lock_current();
  /// True when another process moved the revision since the last call, read() or write()
  /// (false within a batch: its transaction sees what it began with and its own writes).
  result<bool> changed_elsewhere();

  result<rows> exec(const char* name, const char* sql, std::initializer_list<param> params = {}) {
    return statements_.exec(c_, name, sql, params);
  }
  connection& conn() noexcept { return c_; }

 private:
  failure rollback(failure f);
  result<void> begin_read();
  result<void> commit_write();

  connection c_;
  prepared statements_;
  std::string table_, bump_sql_, revision_sql_, lock_sql_, bump_name_, revision_name_, lock_name_;
  std::int64_t known_ = -1;  ///< this process has seen every change up to this revision
  std::int64_t snapshot_ = -1;
  bool batch_ = false;         ///< a batch's transaction is open
  bool batch_writes_ = false;  ///< it wrote (else its commit moves no revision)
};

}  // namespace iotblocks::postgres::detail
