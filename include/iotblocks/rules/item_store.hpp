// The embedded default of the `dynamoDB` action: items keyed by a hash key and
// an optional range key, per table, in one SQLite file (WAL, synchronous FULL,
// batched transactions). Range keys that are numbers sort as numbers, so
// `${timestamp()}` keys come back in time order.
//
//   auto store = rules::item_store::open("items.db").value();
//   store->put({.table = "sigfox", .hash_key = "1A2B3C", .range_key = "1700000000000",
//               .range_is_number = true, .payload = R"({"data":"0102"})"}).value();
//   auto items = store->query("sigfox", "1A2B3C", {}).value();   // oldest first
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/rules/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::rules {

/// One stored item.
struct item {
  std::string table;
  std::string hash_key;
  std::string range_key;         ///< empty for tables without a range key
  bool range_is_number = false;  ///< compare range keys as numbers
  std::string payload;           ///< the item's attributes as JSON text (the SELECT output)
  std::string hash_key_field;    ///< attribute names, for to_json()
  std::string range_key_field;
  std::string payload_field;  ///< empty: the payload's members are the item's attributes

  /// The item as DynamoDB would show it: {hashKeyField: ..., rangeKeyField: ..., payloadField:
  /// {...}}.
  std::string to_json() const;
};

/// A key range for query(); unset bounds are open.
struct range_query {
  std::optional<std::string> from;  ///< inclusive
  std::optional<std::string> to;    ///< inclusive
  bool numeric = true;              ///< bounds that parse as numbers compare as numbers
  bool descending = false;          ///< newest first
  std::size_t limit = 1000;
};

/// Options for open().
struct item_store_options {
  bool durable = true;  ///< synchronous=FULL (a commit survives power loss); false: NORMAL
};

/// Items in a SQLite file. Distinct objects: safe. Shared objects: safe (one connection
/// behind a mutex; readers and writers of other connections see committed batches).
class item_store {
 public:
  /// Opens or creates the file. Errors carry SQLite's code (category "iotblocks.sqlite").
  static result<std::shared_ptr<item_store>> open(const std::string& path,
                                                  const item_store_options& options = {});
  ~item_store();
  item_store(const item_store&) = delete;
  item_store& operator=(const item_store&) = delete;

  /// Stores one item (insert or replace on the same key).
  result<void> put(const item& i);
  /// Stores items in one transaction; all or none.
  result<void> put_batch(std::span<const item> items);
  /// Items of `table` with `hash_key`, in range-key order.
  result<std::vector<item>> query(std::string_view table, std::string_view hash_key,
                                  const range_query& range = {}) const;
  /// Number of items in `table`.
  result<std::size_t> count(std::string_view table) const;
  /// Number of committed transactions so far (a batch is one).
  std::uint64_t commits() const noexcept;

 private:
  struct impl;
  explicit item_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::rules

IOTBLOCKS_API_END
