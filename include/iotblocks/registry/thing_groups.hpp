// Static thing groups as AWS IoT has them: named groups with a parent (a hierarchy up to 7
// levels), attributes and a description; things added to and removed from groups. A thing in
// a child group is in each of its ancestors. Kept in a thing_group_store (a SQLite file by
// default, or PostgreSQL shared by many processes), each change committed before the call
// returns.
//
//   auto groups = iotblocks::registry::thing_groups::open("groups.db").value();
//   groups->create({.name = "building-1"});
//   groups->create({.name = "floor-2", .parent = "building-1"});
//   groups->add_thing("floor-2", "lamp");
//   groups->things_in("building-1", true);   // {"lamp"}
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/changes.hpp>
#include <iotblocks/registry/error.hpp>
#include <iotblocks/registry/thing_group_store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

/// What update() changes; what is not given stays.
struct thing_group_update {
  std::optional<std::string> description{};
  /// The new attributes, or with `merge` those to set (an empty value removes the key).
  std::optional<std::map<std::string, std::string>> attributes{};
  bool merge = false;
  std::optional<std::int64_t> expected_version{};  ///< the update fails at another version
};

struct thing_groups_options {
  /// How often reads look whether another process changed a shared store (writes always
  /// look first): the bound on how stale a read can be.
  std::chrono::milliseconds sync_interval{1000};
};

/// Distinct objects: safe. Shared objects: safe.
class thing_groups {
 public:
  /// AWS IoT's limits.
  static constexpr std::size_t max_depth = 7;              ///< levels in a hierarchy
  static constexpr std::size_t max_groups_per_thing = 10;  ///< direct memberships
  static constexpr std::size_t max_attributes = 50;
  static constexpr std::size_t max_description = 2028;

  /// Opens (or creates) the file and loads it. Errors: SQLite's, or storage.
  static result<std::unique_ptr<thing_groups>> open(const std::string& path);
  /// Loads `store`. Errors: the store's.
  static result<std::unique_ptr<thing_groups>> open(std::unique_ptr<thing_group_store> store,
                                                    const thing_groups_options& o = {});
  ~thing_groups();
  thing_groups(const thing_groups&) = delete;
  thing_groups& operator=(const thing_groups&) = delete;

  /// Creates a group. The same group again (same parent, attributes, description) succeeds,
  /// as AWS. Errors: invalid_name, not_found (parent), limit_exceeded (depth, attributes,
  /// description), already_exists (another configuration), storage.
  result<thing_group> create(thing_group g);
  result<thing_group> describe(std::string_view name) const;
  /// Changes description and attributes; the version moves by one (returned). Errors:
  /// not_found, version_conflict (expected_version), invalid_name, limit_exceeded, storage.
  result<thing_group> update(std::string_view name, const thing_group_update& u);
  /// Deletes a group and its memberships. A missing group succeeds (as AWS). Errors: in_use
  /// (it has child groups), version_conflict (`expected_version`), storage.
  result<void> remove(std::string_view name, std::optional<std::int64_t> expected_version = {});
  /// Group names, sorted: all, or the children of `parent` (`recursive`: every descendant).
  std::vector<std::string> list(std::string_view parent = {}, bool recursive = true) const;
  /// The ancestors of a group, root first.
  std::vector<std::string> ancestors(std::string_view name) const;

  /// Adds a thing (any valid name; the caller checks it exists). Adding it again succeeds.
  /// Errors: not_found (group), invalid_name, limit_exceeded (10 groups), hierarchy_conflict
  /// (it is in another group of the same hierarchy), storage.
  result<void> add_thing(std::string_view group, std::string_view thing);
  /// Removes a membership (absent: succeeds). Errors: not_found (group), storage.
  result<void> remove_thing(std::string_view group, std::string_view thing);
  /// Things in a group, sorted; `recursive`: also those of its descendants.
  std::vector<std::string> things_in(std::string_view group, bool recursive = false) const;
  /// The groups a thing was added to, sorted (not their ancestors).
  std::vector<std::string> groups_of(std::string_view thing) const;
  /// The groups a thing is in: those it was added to and all their ancestors, sorted.
  std::vector<std::string> memberships(std::string_view thing) const;
  /// Forgets a thing (it was deleted). Errors: storage.
  result<void> forget_thing(std::string_view thing);

  /// Looks now whether another process changed a shared store, and loads it if so.
  /// Errors: the store's.
  result<void> refresh();

  /// Observes the committed changes made through this object (groups created, updated and
  /// deleted, memberships added and removed), replacing the previous observer.
  void on_change(change_observer f);

  /// Starts a batch on this thread: its changes until commit_batch() are one store
  /// transaction (one durable commit; each change still all or nothing, and in effect in
  /// memory at once). Other threads' changes wait until the batch ends. Errors: storage.
  result<void> begin_batch();
  /// Ends the batch: durable when this returns. On failure none of its changes is kept,
  /// in the file or in memory (loaded again). Errors: storage.
  result<void> commit_batch();
  /// Ends the batch dropping its changes, in the file and in memory.
  void rollback_batch();

 private:
  struct impl;
  explicit thing_groups(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
