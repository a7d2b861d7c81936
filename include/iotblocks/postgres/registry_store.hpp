// The certificate registry (CAs, device certificates, things and their attachments) in
// PostgreSQL, shared by any number of processes: each write is one transaction that also
// moves a revision counter, and every registry polls that counter (at most every
// registry::options::sync_interval, and before each write) to load again what others
// changed. Inserts that race with another process get registry::error::already_exists,
// an update of a thing at a stale version registry::error::version_conflict.
//
//   auto s = iotblocks::postgres::registry_store::open("postgresql://iot@127.0.0.1/iot").value();
//   auto reg = iotblocks::registry::registry::open(std::move(s)).value();
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/store.hpp>

#include <memory>
#include <string>

IOTBLOCKS_API_BEGIN

namespace iotblocks::postgres {

/// Distinct objects: safe. Shared objects: unsafe (the registry serialises its calls).
class registry_store final : public registry::store {
 public:
  /// Connects and creates or migrates the schema (tables iotblocks_registry_*, version in
  /// iotblocks_schema under "registry"). `url`: a libpq URI or key=value string.
  static result<std::unique_ptr<registry_store>> open(const std::string& url);
  ~registry_store() override;
  registry_store(const registry_store&) = delete;
  registry_store& operator=(const registry_store&) = delete;

  result<registry::stored_state> load() override;
  result<bool> changed_elsewhere() override;
  /// One transaction (the revision moves once); each write under a savepoint.
  result<void> begin_batch() override;
  result<void> commit_batch() override;
  void rollback_batch() override;

  result<void> set_registration_code(std::string_view code) override;
  result<void> delete_registration_code() override;
  result<void> insert_ca(std::string_view id, const registry::stored_ca& ca) override;
  result<void> update_ca(std::string_view id, registry::ca_status status, bool auto_registration,
                         std::int64_t updated_ms) override;
  result<void> delete_ca(std::string_view id) override;
  result<void> insert_certificate(std::string_view id,
                                  const registry::stored_certificate& c) override;
  result<void> update_certificate(std::string_view id, registry::certificate_status status,
                                  std::int64_t updated_ms) override;
  result<void> delete_certificate(std::string_view id) override;
  result<void> insert_thing(const registry::thing& t) override;
  result<void> update_thing(const registry::thing& t, std::int64_t previous_version) override;
  result<void> delete_thing(std::string_view name) override;
  result<void> attach(std::string_view thing_name, std::string_view certificate_id) override;
  result<void> detach(std::string_view thing_name, std::string_view certificate_id) override;

 private:
  struct impl;
  explicit registry_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::postgres

IOTBLOCKS_API_END
