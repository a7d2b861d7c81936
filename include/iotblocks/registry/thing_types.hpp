// Thing types as AWS IoT has them: a name, a description and up to three searchable attribute
// names, fixed at creation; a type can be deprecated (no new things get it) and deprecated
// again or undeprecated; it can be deleted five minutes after its deprecation, once no thing
// has it. Kept in a thing_type_store (a SQLite file by default, or PostgreSQL shared by many
// processes), each change committed before the call returns.
//
//   auto types = iotblocks::registry::thing_types::open("thing_types.db").value();
//   types->create({.name = "LightBulb", .searchable_attributes = {"wattage"}});
//   types->assignable("LightBulb");                   // ok: things may get this type
//   types->deprecate("LightBulb", false);
//   types->assignable("LightBulb").error();           // error::deprecated
#pragma once

#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/changes.hpp>
#include <iotblocks/registry/error.hpp>
#include <iotblocks/registry/thing_type_store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

struct thing_types_options {
  /// How often reads look whether another process changed a shared store (writes always
  /// look first): the bound on how stale a read can be.
  std::chrono::milliseconds sync_interval{1000};
};

/// Distinct objects: safe. Shared objects: safe.
class thing_types {
 public:
  /// AWS IoT's limits.
  static constexpr std::size_t max_searchable_attributes = 3;
  static constexpr std::size_t max_description = 2028;
  /// How long a type stays deprecated before it can be deleted.
  static constexpr std::chrono::minutes delete_after{5};

  /// Opens (or creates) the file and loads it; time (creation, deprecation, the delete
  /// delay) comes from `clock`. Errors: SQLite's, or storage.
  static result<std::unique_ptr<thing_types>> open(const std::string& path,
                                                   const clock& clock = default_clock());
  /// Loads `store`; time comes from `clock`, which must outlive the object. Errors: the
  /// store's.
  static result<std::unique_ptr<thing_types>> open(std::unique_ptr<thing_type_store> store,
                                                   const clock& clock = default_clock(),
                                                   const thing_types_options& o = {});
  ~thing_types();
  thing_types(const thing_types&) = delete;
  thing_types& operator=(const thing_types&) = delete;

  /// Creates a type. Errors: invalid_name (type or attribute name), limit_exceeded
  /// (description, searchable attributes), already_exists, storage.
  result<thing_type> create(thing_type t);
  /// Errors: not_found.
  result<thing_type> describe(std::string_view name) const;
  /// Every type, sorted by name; only `name` when given.
  std::vector<thing_type> list(std::string_view name = {}) const;
  /// Deprecates the type (again: restarts the delete delay), or undeprecates it (`undo`).
  /// Errors: not_found, storage.
  result<thing_type> deprecate(std::string_view name, bool undo);
  /// Deletes a type. The caller checks that no thing has it. Errors: not_found, deprecated
  /// (not deprecated, or less than delete_after ago: the message says which), storage.
  result<void> remove(std::string_view name);
  /// Observes the committed changes made through this object (created, deprecated or
  /// undeprecated, deleted), replacing the previous observer.
  void on_change(change_observer f);
  /// Whether a thing may be given this type now. Errors: not_found, deprecated.
  result<void> assignable(std::string_view name) const;
  /// Looks now whether another process changed a shared store, and loads it if so.
  /// Errors: the store's.
  result<void> refresh();

 private:
  struct impl;
  explicit thing_types(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
