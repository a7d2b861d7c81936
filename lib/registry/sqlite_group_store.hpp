// Private: thing_groups' embedded SQLite persistence (thing_groups.db). Every write is one
// transaction committed before the function returns; a batch is one BEGIN IMMEDIATE.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/thing_group_store.hpp>

#include "core/sqlite.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace iotblocks::registry::detail {

/// Distinct objects: safe. Shared objects: unsafe.
class sqlite_group_store final : public thing_group_store {
 public:
  static result<std::unique_ptr<sqlite_group_store>> open(const std::string& path);

  result<stored_groups> load() override;
  /// False: the file's other writers are not watched here.
  result<bool> changed_elsewhere() override { return false; }
  result<void> begin_batch() override;
  result<void> commit_batch() override;
  void rollback_batch() override;

  result<void> insert_group(const thing_group& g) override;
  result<void> update_group(const thing_group& g, std::int64_t previous_version) override;
  result<void> delete_group(std::string_view name, std::int64_t version) override;
  result<void> add_member(std::string_view group, std::string_view thing) override;
  result<void> remove_member(std::string_view group, std::string_view thing) override;
  result<void> forget_thing(std::string_view thing) override;

  explicit sqlite_group_store(sqlite::database db) : db_(std::move(db)) {}

 private:
  /// Runs `fn(db)` in one committed transaction; a failure changes nothing.
  template <class F>
  result<void> write(F&& fn);

  sqlite::database db_;
};

}  // namespace iotblocks::registry::detail
