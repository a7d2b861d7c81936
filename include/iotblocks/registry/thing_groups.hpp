// Static thing groups as AWS IoT has them: named groups with a parent (a hierarchy up to 7
// levels), attributes and a description; things added to and removed from groups. A thing in
// a child group is in each of its ancestors. Kept in a SQLite file, each change committed
// before the call returns.
//
//   auto groups = iotblocks::registry::thing_groups::open("groups.db").value();
//   groups->create({.name = "building-1"});
//   groups->create({.name = "floor-2", .parent = "building-1"});
//   groups->add_thing("floor-2", "lamp");
//   groups->things_in("building-1", true);   // {"lamp"}
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/error.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

/// One thing group.
struct thing_group {
  std::string name{};         ///< [a-zA-Z0-9:_-]{1,128}
  std::string parent{};       ///< empty for a root group
  std::string description{};  ///< up to 2028 characters
  std::map<std::string, std::string> attributes{};
  std::int64_t version = 0;     ///< 1 on creation (set by the store)
  std::int64_t created_ms = 0;  ///< set by the store
  friend bool operator==(const thing_group&, const thing_group&) = default;
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
  ~thing_groups();
  thing_groups(const thing_groups&) = delete;
  thing_groups& operator=(const thing_groups&) = delete;

  /// Creates a group. The same group again (same parent, attributes, description) succeeds,
  /// as AWS. Errors: invalid_name, not_found (parent), limit_exceeded (depth, attributes,
  /// description), already_exists (another configuration), storage.
  result<thing_group> create(thing_group g);
  result<thing_group> describe(std::string_view name) const;
  /// Deletes a group and its memberships. A missing group succeeds (as AWS). Errors: in_use
  /// (it has child groups), storage.
  result<void> remove(std::string_view name);
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

  /// Starts a batch on this thread: its changes until commit_batch() are one SQLite
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
