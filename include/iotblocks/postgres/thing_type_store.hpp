// Thing types in PostgreSQL, shared by any number of processes: each write is one
// transaction that moves a revision counter, and every registry::thing_types polls that
// counter (at most every thing_types_options::sync_interval, and before each write) to load
// again what others changed. A write locks the counter first and is refused with
// registry::error::store_changed when another process wrote since this one loaded, so
// thing_types checks again on fresh state (a type created by two processes at once: one
// gets already_exists; a delete never removes a type undeprecated meanwhile).
//
//   auto s = iotblocks::postgres::thing_type_store::open("postgresql://iot@127.0.0.1/iot");
//   auto types = iotblocks::registry::thing_types::open(std::move(s).value()).value();
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/thing_type_store.hpp>

#include <memory>
#include <string>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::postgres {

/// Distinct objects: safe. Shared objects: unsafe (thing_types serialises its calls).
class thing_type_store final : public registry::thing_type_store {
 public:
  /// Connects and creates or migrates the schema (table iotblocks_thing_types, version in
  /// iotblocks_schema under "thing_types"). `url`: a libpq URI or key=value string.
  static result<std::unique_ptr<thing_type_store>> open(const std::string& url);
  ~thing_type_store() override;
  thing_type_store(const thing_type_store&) = delete;
  thing_type_store& operator=(const thing_type_store&) = delete;

  result<std::vector<registry::thing_type>> load() override;
  result<bool> changed_elsewhere() override;
  result<void> insert_type(const registry::thing_type& t) override;
  result<void> update_type(const registry::thing_type& t) override;
  result<void> delete_type(std::string_view name) override;

 private:
  struct impl;
  explicit thing_type_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::postgres

IOTBLOCKS_API_END
