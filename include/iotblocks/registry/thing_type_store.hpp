// Where registry::thing_types keeps the types: the interface the embedded SQLite store
// implements (thing_types::open(path)) and that other engines implement to share the types
// between processes (iotblocks::postgres::thing_type_store). thing_types holds every type in
// memory and writes through the store; every write is committed before it returns.
//
//   auto s = iotblocks::postgres::thing_type_store::open(url).value();
//   auto types = iotblocks::registry::thing_types::open(std::move(s)).value();
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

/// One thing type.
struct thing_type {
  std::string name{};                                ///< [a-zA-Z0-9:_-]{1,128}
  std::string description{};                         ///< up to 2028 characters
  std::vector<std::string> searchable_attributes{};  ///< up to 3 attribute names
  bool deprecated = false;                           ///< set by deprecate()
  std::int64_t deprecated_ms = 0;                    ///< when it was last deprecated
  std::int64_t created_ms = 0;                       ///< set by the store
  friend bool operator==(const thing_type&, const thing_type&) = default;
};

/// Failures carry registry::error codes: already_exists when an insert meets a type another
/// process wrote first, store_changed when another process wrote since this one last loaded
/// or asked changed_elsewhere() (the caller loads again and retries), storage for everything
/// else. A failed call changed nothing.
/// Distinct objects: safe. Shared objects: unsafe (thing_types serialises its calls).
class thing_type_store {
 public:
  virtual ~thing_type_store() = default;

  /// Every type, as committed now.
  virtual result<std::vector<thing_type>> load() = 0;
  /// True when another process committed a change since the last call or load().
  /// Stores that no other process writes return false.
  virtual result<bool> changed_elsewhere() = 0;

  virtual result<void> insert_type(const thing_type& t) = 0;
  /// Replaces the stored type of that name (deprecation).
  virtual result<void> update_type(const thing_type& t) = 0;
  virtual result<void> delete_type(std::string_view name) = 0;
};

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
