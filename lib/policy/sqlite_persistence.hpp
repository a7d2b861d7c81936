// Private: the policy store's embedded SQLite file. Every write is one transaction
// committed (FULL sync) before the function returns.
#pragma once

#include <iotblocks/policy/persistence.hpp>

#include "core/sqlite.hpp"

#include <memory>
#include <string>

namespace iotblocks::policy::detail {

/// Distinct objects: safe. Shared objects: unsafe.
class sqlite_persistence final : public persistence {
 public:
  static result<std::unique_ptr<sqlite_persistence>> open(const std::string& path);
  explicit sqlite_persistence(sqlite::database db) : db_(std::move(db)) {}

  result<stored_policies> load() override;
  /// False: other writers of the file are not watched here.
  result<bool> changed_elsewhere() override { return false; }
  result<void> begin_batch() override;
  result<void> commit_batch() override;
  void rollback_batch() override;
  result<void> create_policy(std::string_view name, std::string_view document,
                             std::int64_t created_ms) override;
  result<void> add_version(std::string_view name, std::uint32_t version, std::string_view document,
                           std::int64_t created_ms, std::uint32_t default_version) override;
  result<void> set_default_version(std::string_view name, std::uint32_t version) override;
  result<void> delete_version(std::string_view name, std::uint32_t version) override;
  result<void> delete_policy(std::string_view name) override;
  result<void> attach(std::string_view name, std::string_view principal) override;
  result<void> detach(std::string_view name, std::string_view principal) override;
  result<void> put_resource_policy(std::string_view arn, std::string_view document) override;
  result<void> delete_resource_policy(std::string_view arn) override;

 private:
  sqlite::database db_;
};

}  // namespace iotblocks::policy::detail
