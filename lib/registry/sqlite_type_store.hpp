// Private: thing_types' embedded SQLite persistence (thing_types.db). Every write is one
// statement committed before the function returns.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/thing_type_store.hpp>

#include "core/sqlite.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::registry::detail {

/// Distinct objects: safe. Shared objects: unsafe.
class sqlite_type_store final : public thing_type_store {
 public:
  static result<std::unique_ptr<sqlite_type_store>> open(const std::string& path);

  result<std::vector<thing_type>> load() override;
  /// False: the file's other writers are not watched here.
  result<bool> changed_elsewhere() override { return false; }
  result<void> insert_type(const thing_type& t) override;
  result<void> update_type(const thing_type& t) override;
  result<void> delete_type(std::string_view name) override;

  explicit sqlite_type_store(sqlite::database db) : db_(std::move(db)) {}

 private:
  result<void> write(const char* sql, const thing_type& t);

  sqlite::database db_;
};

/// Searchable attribute names in one column, '\n'-separated (not an attribute character).
std::string join_searchable(const std::vector<std::string>& names);
std::vector<std::string> split_searchable(std::string_view text);

}  // namespace iotblocks::registry::detail
