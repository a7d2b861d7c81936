// Private: the registry's embedded SQLite persistence. Every write is one transaction
// committed (WAL, synchronous FULL) before the function returns.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/store.hpp>

#include "core/sqlite.hpp"

#include <string>
#include <string_view>

namespace iotblocks::registry::detail {

/// Distinct objects: safe. Shared objects: unsafe.
class sqlite_store final : public store {
 public:
  static result<std::unique_ptr<sqlite_store>> open(const std::string& path);

  result<stored_state> load() override;
  /// False: the file's other writers (another process, the CLI) are not watched here.
  result<bool> changed_elsewhere() override { return false; }
  result<void> begin_batch() override;
  result<void> commit_batch() override;
  void rollback_batch() override;

  result<void> set_registration_code(std::string_view code) override;
  result<void> delete_registration_code() override;

  result<void> insert_ca(std::string_view id, const stored_ca& ca) override;
  result<void> update_ca(std::string_view id, ca_status status, bool auto_registration,
                         std::int64_t updated_ms) override;
  result<void> delete_ca(std::string_view id) override;

  result<void> insert_certificate(std::string_view id, const stored_certificate& c) override;
  result<void> update_certificate(std::string_view id, certificate_status status,
                                  std::int64_t updated_ms) override;
  result<void> delete_certificate(std::string_view id) override;

  result<void> insert_thing(const thing& t) override;
  result<void> update_thing(const thing& t, std::int64_t previous_version) override;
  result<void> delete_thing(std::string_view name) override;
  result<void> attach(std::string_view thing_name, std::string_view certificate_id) override;
  result<void> detach(std::string_view thing_name, std::string_view certificate_id) override;

  explicit sqlite_store(sqlite::database db) : db_(std::move(db)) {}

 private:
  /// Runs `sql` with `bind` applied, in its own committed transaction.
  template <class Bind>
  result<void> write(std::string_view sql, Bind&& bind);

  sqlite::database db_;
};

}  // namespace iotblocks::registry::detail
