// Where the `dynamoDB` / `dynamoDBv2` actions put items: an interface, and the embedded
// default, items keyed by a hash key and an optional range key, per table, in one SQLite
// file (WAL, synchronous FULL, batched transactions). iotblocks::postgres::item_store keeps
// them in PostgreSQL for processes that share them. In every store, range keys that are
// numbers sort as numbers, so `${timestamp()}` keys come back in time order.
//
//   auto store = rules::sqlite_item_store::open("items.db").value();
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
#include <variant>
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

/// A range key that is a number: an integer when it has no fraction and fits, else a double.
using range_number = std::variant<std::int64_t, double>;
/// `key` as a number (the whole text: an int64, else a finite double), nullopt when it is
/// not one. How every store tells a numeric range key from text.
std::optional<range_number> parse_range_number(std::string_view key) noexcept;

/// A key range for query(); unset bounds are open.
struct range_query {
  std::optional<std::string> from;  ///< inclusive
  std::optional<std::string> to;    ///< inclusive
  bool numeric = true;              ///< bounds that parse as numbers compare as numbers
  bool descending = false;          ///< newest first
  std::size_t limit = 1000;
};

/// Storage of the dynamoDB actions. Keys are (table, hash key, range key); a range key that
/// parses as a number (range_is_number) is one: numbers sort before text, in numeric order;
/// text sorts bytewise. Implementations are safe to share between threads; the engine calls
/// put_batch() on its action threads, never on the caller's of dispatch().
class item_store {
 public:
  virtual ~item_store() = default;

  /// Stores one item (insert or replace on the same key), durably before it returns.
  result<void> put(const item& i) { return put_batch(std::span<const item>(&i, 1)); }
  /// Stores items in one transaction, all or none, durably before it returns; of items with
  /// the same key, the last one stays (as consecutive PutItem calls).
  virtual result<void> put_batch(std::span<const item> items) = 0;
  /// Items of `table` with `hash_key`, in range-key order.
  virtual result<std::vector<item>> query(std::string_view table, std::string_view hash_key,
                                          const range_query& range = {}) const = 0;
  /// Number of items in `table`.
  virtual result<std::size_t> count(std::string_view table) const = 0;
  /// Number of transactions this object committed so far (a batch is one).
  virtual std::uint64_t commits() const noexcept = 0;
};

/// Options for sqlite_item_store::open().
struct item_store_options {
  bool durable = true;  ///< synchronous=FULL (a commit survives power loss); false: NORMAL
};

/// Items in a SQLite file. Distinct objects: safe. Shared objects: safe (one connection
/// behind a mutex; readers and writers of other connections see committed batches).
class sqlite_item_store final : public item_store {
 public:
  /// Opens or creates the file. Errors carry SQLite's code (category "iotblocks.sqlite").
  static result<std::shared_ptr<sqlite_item_store>> open(const std::string& path,
                                                         const item_store_options& options = {});
  ~sqlite_item_store() override;
  sqlite_item_store(const sqlite_item_store&) = delete;
  sqlite_item_store& operator=(const sqlite_item_store&) = delete;

  result<void> put_batch(std::span<const item> items) override;
  result<std::vector<item>> query(std::string_view table, std::string_view hash_key,
                                  const range_query& range = {}) const override;
  result<std::size_t> count(std::string_view table) const override;
  std::uint64_t commits() const noexcept override;

 private:
  struct impl;
  explicit sqlite_item_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::rules

IOTBLOCKS_API_END
