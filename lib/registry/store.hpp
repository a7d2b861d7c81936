// Private: the registry's SQLite persistence. Every write is one transaction
// committed (WAL, synchronous FULL) before the function returns.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/records.hpp>

#include "core/sqlite.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iotblocks::registry::detail {

struct stored_ca {
  byte_buffer der;
  ca_status status = ca_status::inactive;
  bool auto_registration = false;
  std::int64_t registered_ms = 0;
  std::int64_t updated_ms = 0;
};

struct stored_certificate {
  byte_buffer der;
  std::string ca_id;
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

/// Distinct objects: safe. Shared objects: unsafe.
class store {
 public:
  static result<store> open(const std::string& path);

  result<stored_state> load();

  result<void> set_registration_code(std::string_view code);
  result<void> delete_registration_code();

  result<void> insert_ca(std::string_view id, const stored_ca& ca);
  result<void> update_ca(std::string_view id, ca_status status, bool auto_registration,
                         std::int64_t updated_ms);
  result<void> delete_ca(std::string_view id);

  result<void> insert_certificate(std::string_view id, const stored_certificate& c);
  result<void> update_certificate(std::string_view id, certificate_status status,
                                  std::int64_t updated_ms);
  result<void> delete_certificate(std::string_view id);

  result<void> put_thing(const thing& t);  ///< insert or replace
  result<void> delete_thing(std::string_view name);
  result<void> attach(std::string_view thing_name, std::string_view certificate_id);
  result<void> detach(std::string_view thing_name, std::string_view certificate_id);

 private:
  explicit store(sqlite::database db) : db_(std::move(db)) {}
  /// Runs `sql` with `bind` applied, in its own committed transaction.
  template <class Bind>
  result<void> write(std::string_view sql, Bind&& bind);

  sqlite::database db_;
};

}  // namespace iotblocks::registry::detail
