// Where registry::thing_groups keeps its groups and memberships: the interface the embedded
// SQLite store implements (thing_groups::open(path)) and that other engines implement to
// share one set of groups between processes (iotblocks::postgres::thing_group_store).
// thing_groups holds everything in memory and writes through the store; every write is
// committed before it returns.
//
//   auto s = iotblocks::postgres::thing_group_store::open(url).value();
//   auto groups = iotblocks::registry::thing_groups::open(std::move(s)).value();
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

/// One thing group.
struct thing_group {
  std::string name{};         ///< [a-zA-Z0-9:_-]{1,128}
  std::string parent{};       ///< empty for a root group
  std::string description{};  ///< up to 2028 characters
  std::map<std::string, std::string> attributes{};
  std::int64_t version = 0;     ///< 1 on creation, +1 per update (set by thing_groups)
  std::int64_t created_ms = 0;  ///< set by thing_groups
  friend bool operator==(const thing_group&, const thing_group&) = default;
};

struct stored_groups {
  std::vector<thing_group> groups;
  std::vector<std::pair<std::string, std::string>> members;  ///< (group, thing)
};

/// Failures carry registry::error codes: already_exists when an insert meets a group
/// another process wrote first, version_conflict when update_group or delete_group finds
/// another version, store_changed when another process wrote since this one last loaded
/// or asked changed_elsewhere() (stores shared by processes; the caller loads again and
/// retries), storage for everything else. A failed call changed nothing.
/// Distinct objects: safe. Shared objects: unsafe (thing_groups serialises its calls).
class thing_group_store {
 public:
  virtual ~thing_group_store() = default;

  /// Everything stored, as committed now.
  virtual result<stored_groups> load() = 0;
  /// True when another process committed a change since the last call or load().
  /// Stores that no other process writes return false.
  virtual result<bool> changed_elsewhere() = 0;

  /// A batch: the writes until commit_batch() are one transaction, durable when it
  /// returns; rollback_batch() drops them. Stores that cannot batch keep these defaults.
  virtual result<void> begin_batch() { return {}; }
  virtual result<void> commit_batch() { return {}; }
  virtual void rollback_batch() {}

  virtual result<void> insert_group(const thing_group& g) = 0;
  /// Replaces the group stored at `previous_version` with `g` (its new version).
  virtual result<void> update_group(const thing_group& g, std::int64_t previous_version) = 0;
  /// Deletes the group at `version` with its memberships.
  virtual result<void> delete_group(std::string_view name, std::int64_t version) = 0;
  virtual result<void> add_member(std::string_view group, std::string_view thing) = 0;
  virtual result<void> remove_member(std::string_view group, std::string_view thing) = 0;
  /// Removes every membership of `thing`.
  virtual result<void> forget_thing(std::string_view thing) = 0;
};

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
