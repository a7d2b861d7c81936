// The policy store's tables (policies, versions, attachments, resource policies) in
// PostgreSQL, shared by any number of processes: each write is one transaction that also
// moves a revision counter, and every policy::store polls that counter (at most every
// policy::store_options::sync_interval, and before each write) to load again what others
// changed. A policy created by two processes at once: one gets policy_exists.
//
//   auto p =
//   iotblocks::postgres::policy_persistence::open("postgresql://iot@127.0.0.1/iot").value(); auto
//   store = iotblocks::policy::store::open(std::move(p)).value();
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/policy/persistence.hpp>

#include <memory>
#include <string>

IOTBLOCKS_API_BEGIN

namespace iotblocks::postgres {

/// Distinct objects: safe. Shared objects: unsafe (the store serialises its calls).
class policy_persistence final : public policy::persistence {
 public:
  /// Connects and creates or migrates the schema (tables iotblocks_policy_*, version in
  /// iotblocks_schema under "policy"). `url`: a libpq URI or key=value string.
  static result<std::unique_ptr<policy_persistence>> open(const std::string& url);
  ~policy_persistence() override;
  policy_persistence(const policy_persistence&) = delete;
  policy_persistence& operator=(const policy_persistence&) = delete;

  result<policy::stored_policies> load() override;
  result<bool> changed_elsewhere() override;
  /// One transaction (the revision moves once); each write under a savepoint.
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
  struct impl;
  explicit policy_persistence(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::postgres

IOTBLOCKS_API_END
