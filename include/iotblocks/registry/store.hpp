// Where the registry keeps CAs, device certificates, things and their attachments:
// the interface the embedded SQLite store implements (registry::open(path)) and
// that other engines implement to share one registry between processes
// (iotblocks::postgres::registry_store). The registry holds everything in memory and
// writes through the store; every write is committed before it returns.
//
//   auto s = iotblocks::postgres::registry_store::open(url).value();
//   auto reg = iotblocks::registry::registry::open(std::move(s)).value();
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/records.hpp>
#include <iotblocks/registry/status.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

struct stored_ca {
  byte_buffer der;
  ca_status status = ca_status::inactive;
  bool auto_registration = false;
  std::int64_t registered_ms = 0;
  std::int64_t updated_ms = 0;
};

struct stored_certificate {
  byte_buffer der;
  std::string ca_id;  ///< empty: registered without a CA
  certificate_status status = certificate_status::inactive;
  std::int64_t registered_ms = 0;
  std::int64_t updated_ms = 0;
};

struct stored_state {
  std::optional<std::string> registration_code;
  std::vector<stored_ca> cas;
  std::vector<stored_certificate> certificates;
  std::vector<thing> things;
  std::vector<std::pair<std::string, std::string>> attachments;  ///< (thing, certificate id)
};

/// Failures carry registry::error codes: already_exists when an insert meets a row
/// another process wrote first, version_conflict when update_thing finds another
/// version, in_use when a delete meets a row that still refers to it, storage for
/// everything else. A failed call changed nothing.
/// Distinct objects: safe. Shared objects: unsafe (the registry serialises its calls).
class store {
 public:
  virtual ~store() = default;

  /// Everything stored, as committed now.
  virtual result<stored_state> load() = 0;
  /// True when another process (or connection) committed a change since the last call
  /// or since load(): the registry then loads again. Stores that no other process
  /// writes return false.
  virtual result<bool> changed_elsewhere() = 0;

  /// A batch: the writes from begin_batch() to commit_batch() are one transaction (each
  /// write still all or nothing), durable when commit_batch() returns; rollback_batch()
  /// drops them. A failed commit_batch() leaves none of them. Stores that cannot batch
  /// keep these defaults and commit each write on its own (rollback_batch() then drops
  /// nothing).
  virtual result<void> begin_batch() { return {}; }
  virtual result<void> commit_batch() { return {}; }
  virtual void rollback_batch() {}

  virtual result<void> set_registration_code(std::string_view code) = 0;
  virtual result<void> delete_registration_code() = 0;

  virtual result<void> insert_ca(std::string_view id, const stored_ca& ca) = 0;
  virtual result<void> update_ca(std::string_view id, ca_status status, bool auto_registration,
                                 std::int64_t updated_ms) = 0;
  virtual result<void> delete_ca(std::string_view id) = 0;

  virtual result<void> insert_certificate(std::string_view id, const stored_certificate& c) = 0;
  virtual result<void> update_certificate(std::string_view id, certificate_status status,
                                          std::int64_t updated_ms) = 0;
  virtual result<void> delete_certificate(std::string_view id) = 0;

  virtual result<void> insert_thing(const thing& t) = 0;
  /// Replaces the thing stored at `previous_version` with `t` (its new version).
  virtual result<void> update_thing(const thing& t, std::int64_t previous_version) = 0;
  virtual result<void> delete_thing(std::string_view name) = 0;
  virtual result<void> attach(std::string_view thing_name, std::string_view certificate_id) = 0;
  virtual result<void> detach(std::string_view thing_name, std::string_view certificate_id) = 0;
};

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
