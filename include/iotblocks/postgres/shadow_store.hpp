// Device shadows in PostgreSQL, shared by any number of processes: each change runs
// in a transaction holding the shadow's row lock, so concurrent updates of one shadow
// from anywhere apply one after the other on the latest version (a stale client
// version gets the shadow's 409, never a lost update), and a change is committed
// before modify() returns.
//
//   auto db = iotblocks::postgres::shadow_store::open("postgresql://iot@127.0.0.1/iot").value();
//   iotblocks::shadow::router router{*db};       // as with shadow::sqlite_store
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/shadow/store.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::postgres {

struct shadow_store_options {
  std::size_t connections = 4;  ///< statements in flight at once from this process
  /// Group commit of modify_deferred: threads that each write a batch of the queued changes
  /// in one transaction (row locks taken in key order) and acknowledge them after its
  /// COMMIT. At most `connections`.
  std::size_t committers = 2;
  std::size_t max_batch = 1024;  ///< most changes in one transaction
};

/// Distinct objects: safe. Shared objects: safe.
class shadow_store final : public shadow::store {
 public:
  using options = shadow_store_options;

  /// Connects and creates or migrates the schema (table iotblocks_shadows, version in
  /// iotblocks_schema). `url`: a libpq URI or key=value string.
  static result<std::unique_ptr<shadow_store>> open(const std::string& url, const options& o = {});
  ~shadow_store() override;
  shadow_store(const shadow_store&) = delete;
  shadow_store& operator=(const shadow_store&) = delete;

  /// Errors: error::connection_failed, error::statement_failed (the change is dropped).
  std::error_code modify(const shadow::shadow_key& key, edit fn) override;
  /// Group commit: queued for a committer thread, which runs `fn` inside its transaction
  /// (again if the server aborts it on a deadlock or serialization failure) and calls
  /// `on_done` on that thread after COMMIT.
  void modify_deferred(const shadow::shadow_key& key, owned_edit fn, done on_done) override;
  std::error_code read(const shadow::shadow_key& key,
                       shadow::function_ref<void(const shadow::document&)> fn) override;

  result<std::vector<std::string>> named_shadows(std::string_view thing, std::string_view from = {},
                                                 std::size_t limit = SIZE_MAX) override;
  /// Transactions committed by modify_deferred so far (for tests and benchmarks).
  std::uint64_t group_commits() const noexcept;

 private:
  struct impl;
  explicit shadow_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::postgres

IOTBLOCKS_API_END
