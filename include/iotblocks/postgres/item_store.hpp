// The items of the rules engine's `dynamoDB` / `dynamoDBv2` actions in PostgreSQL, shared by
// any number of processes (gateways, `iotblocks rules worker`s): a batch is one INSERT … ON
// CONFLICT DO UPDATE of prepared statement in one transaction, committed before put_batch()
// returns, so an item written again under the same key replaces the first (as DynamoDB's
// PutItem), whichever process writes it. A numeric range key is kept beside its text as a
// `numeric`, so numbers sort as numbers, before text keys, as in rules::sqlite_item_store.
//
//   auto s = iotblocks::postgres::item_store::open("postgresql://iot@127.0.0.1/iot").value();
//   iotblocks::rules::engine_options o;
//   o.store = std::move(s);
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/rules/item_store.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::postgres {

/// Distinct objects: safe. Shared objects: safe (one connection behind a mutex).
class item_store final : public rules::item_store {
 public:
  /// Connects and creates or migrates the schema (table iotblocks_rule_items, version in
  /// iotblocks_schema under "rule_items"). `url`: a libpq URI or key=value string.
  static result<std::unique_ptr<item_store>> open(const std::string& url);
  ~item_store() override;
  item_store(const item_store&) = delete;
  item_store& operator=(const item_store&) = delete;

  /// Errors: error::connection_failed, error::statement_failed (nothing of the batch stored;
  /// a deadlock or serialization failure is retried first); rules::error::action_failed for
  /// an item holding a NUL character, which PostgreSQL text cannot store.
  result<void> put_batch(std::span<const rules::item> items) override;
  /// A numeric range key comes back in canonical form ("2.0" as "2", "1e3" as "1000").
  result<std::vector<rules::item>> query(std::string_view table, std::string_view hash_key,
                                         const rules::range_query& range = {}) const override;
  result<std::size_t> count(std::string_view table) const override;
  std::uint64_t commits() const noexcept override;

 private:
  struct impl;
  explicit item_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::postgres

IOTBLOCKS_API_END
