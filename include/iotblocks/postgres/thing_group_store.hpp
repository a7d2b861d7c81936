// Thing groups (hierarchy, attributes, memberships) in PostgreSQL, shared by any number of
// processes: each write is one transaction that moves a revision counter, and every
// registry::thing_groups polls that counter (at most every thing_groups_options::
// sync_interval, and before each write) to load again what others changed. A write locks
// the counter first and is refused with registry::error::store_changed when another process
// wrote since this one loaded, so thing_groups checks AWS's rules (hierarchy, limits,
// expectedVersion) again on fresh state: concurrent updates of one group at one version give
// one winner and version_conflict for the other, never a lost update.
//
//   auto s = iotblocks::postgres::thing_group_store::open("postgresql://iot@127.0.0.1/iot");
//   auto groups = iotblocks::registry::thing_groups::open(std::move(s).value()).value();
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/thing_group_store.hpp>

#include <memory>
#include <string>

IOTBLOCKS_API_BEGIN

namespace iotblocks::postgres {

/// Distinct objects: safe. Shared objects: unsafe (thing_groups serialises its calls).
class thing_group_store final : public registry::thing_group_store {
 public:
  /// Connects and creates or migrates the schema (tables iotblocks_thing_group*, version in
  /// iotblocks_schema under "thing_groups"). `url`: a libpq URI or key=value string.
  static result<std::unique_ptr<thing_group_store>> open(const std::string& url);
  ~thing_group_store() override;
  thing_group_store(const thing_group_store&) = delete;
  thing_group_store& operator=(const thing_group_store&) = delete;

  result<registry::stored_groups> load() override;
  result<bool> changed_elsewhere() override;
  /// One transaction (the revision moves once); each write under a savepoint.
  result<void> begin_batch() override;
  result<void> commit_batch() override;
  void rollback_batch() override;

  result<void> insert_group(const registry::thing_group& g) override;
  result<void> update_group(const registry::thing_group& g, std::int64_t previous_version) override;
  result<void> delete_group(std::string_view name, std::int64_t version) override;
  result<void> add_member(std::string_view group, std::string_view thing) override;
  result<void> remove_member(std::string_view group, std::string_view thing) override;
  result<void> forget_thing(std::string_view thing) override;

 private:
  struct impl;
  explicit thing_group_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::postgres

IOTBLOCKS_API_END
