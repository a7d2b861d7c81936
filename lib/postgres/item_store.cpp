#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/item_store.hpp>

#include "postgres/columns.hpp"
#include "postgres/connection.hpp"
#include "postgres/prepared.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <tuple>
#include <variant>

namespace iotblocks::postgres {
namespace {

constexpr int schema_version = 1;

// The primary key is the sort order: numbers (range_is_text false, in numeric order) before
// text (range_number 0, bytewise: COLLATE "C"). A numeric key's text is canonical, so "2" and
// "2.0" are one key, as in SQLite; a text key "2" is another.
constexpr const char* create_v1 =
    "CREATE TABLE iotblocks_rule_items("
    "tbl text NOT NULL, hash text NOT NULL, range_is_text boolean NOT NULL, "
    "range_number numeric NOT NULL, range_key text COLLATE \"C\" NOT NULL, "
    "hash_field text NOT NULL, range_field text NOT NULL, payload_field text NOT NULL, "
    "payload text NOT NULL, "
    "PRIMARY KEY(tbl, hash, range_is_text, range_number, range_key))";

// One batch, its columns as arrays, in key order (every process locks rows in that order).
constexpr const char* upsert_sql =
    "INSERT INTO iotblocks_rule_items(tbl, hash, range_is_text, range_number, range_key, "
    "hash_field, range_field, payload_field, payload) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::numeric[], $5::text[], "
    "$6::text[], $7::text[], $8::text[], $9::text[]) "
    "ON CONFLICT(tbl, hash, range_is_text, range_number, range_key) DO UPDATE SET "
    "hash_field = excluded.hash_field, range_field = excluded.range_field, "
    "payload_field = excluded.payload_field, payload = excluded.payload";

// Bounds are keys (range_is_text, range_number, range_key); open ones are ±Infinity.
#define IOTBLOCKS_ITEMS_QUERY(order)                                                  \
  "SELECT range_key, range_is_text, hash_field, range_field, payload_field, payload " \
  "FROM iotblocks_rule_items WHERE tbl = $1 AND hash = $2 "                           \
  "AND (range_is_text, range_number, range_key) >= ($3::boolean, $4::numeric, $5) "   \
  "AND (range_is_text, range_number, range_key) <= ($6::boolean, $7::numeric, $8) "   \
  "ORDER BY range_is_text " order ", range_number " order ", range_key " order " LIMIT $9"
constexpr const char* query_asc_sql = IOTBLOCKS_ITEMS_QUERY("ASC");
constexpr const char* query_desc_sql = IOTBLOCKS_ITEMS_QUERY("DESC");
#undef IOTBLOCKS_ITEMS_QUERY

constexpr const char* count_sql = "SELECT count(*) FROM iotblocks_rule_items WHERE tbl = $1";

constexpr int max_attempts = 8;  ///< of a batch the server aborted on a deadlock

/// A range key as stored: whether it is text, its number (0 for text) and its text
/// (canonical for numbers).
struct stored_key {
  bool is_text = true;
  std::string number = "0";
  std::string text;
};

stored_key key_of(std::string_view key, bool numeric) {
  const auto n = numeric ? rules::parse_range_number(key) : std::nullopt;
  if (!n) return {true, "0", std::string(key)};
  std::string canonical;
  if (const auto* i = std::get_if<std::int64_t>(&*n)) {
    canonical = std::to_string(*i);
  } else if (const double d = std::get<double>(*n);
             d == std::trunc(d) && d >= -0x1p63 && d < 0x1p63) {
    canonical = std::to_string(static_cast<std::int64_t>(d));  // "2.0" is the key 2
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest round trip
    canonical.assign(buf, ec == std::errc{} ? end : buf);
  }
  return {false, canonical, canonical};
}

bool holds_nul(const rules::item& i) {
  for (const std::string* s : {&i.table, &i.hash_key, &i.range_key, &i.payload, &i.hash_key_field,
                               &i.range_key_field, &i.payload_field}) {
    if (s->find('\0') != std::string::npos) return true;
  }
  return false;
}

}  // namespace

struct item_store::impl {
  mutable std::mutex m;
  mutable detail::connection c;
  mutable detail::prepared statements;
  std::atomic<std::uint64_t> commits{0};

  explicit impl(detail::connection conn) : c(std::move(conn)) {}

  /// One attempt: BEGIN, the upsert, COMMIT (ROLLBACK on failure).
  result<void> upsert(std::initializer_list<detail::param> columns) {
    if (auto r = c.begin(); !r) return r;
    if (auto r = statements.exec(c, "rule_items_upsert", upsert_sql, columns); !r) {
      (void)c.run("ROLLBACK");
      return std::move(r).take_failure();
    }
    return c.run("COMMIT");
  }

  /// One statement without a transaction; once more after begin() replaced a connection
  /// the server or the network dropped.
  result<detail::rows> read(const char* name, const char* sql,
                            std::initializer_list<detail::param> params) const {
    auto rows = statements.exec(c, name, sql, params);
    if (rows || PQstatus(c.native()) != CONNECTION_BAD) return rows;
    if (auto r = c.begin(); !r) return std::move(r).take_failure();
    (void)c.run("ROLLBACK");
    return statements.exec(c, name, sql, params);
  }
};

item_store::item_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
item_store::~item_store() = default;

result<std::unique_ptr<item_store>> item_store::open(const std::string& url) {
  auto conn = detail::connection::open(url);
  if (!conn) return std::move(conn).take_failure();
  auto p = std::make_unique<impl>(std::move(*conn));
  auto& c = p->c;
  if (auto r = c.run("SET client_min_messages = warning"); !r) return r.fail();
  auto version = c.lock_schema("rule_items");
  if (!version) return std::move(version).take_failure();
  if (*version > schema_version) {
    (void)c.run("ROLLBACK");
    return failure{error::schema_too_new,
                   "rule_items schema version " + std::to_string(*version) +
                       " is newer than this build's " + std::to_string(schema_version),
                   {}};
  }
  if (*version < 1) {
    if (auto r = c.run(create_v1); !r) return (void)c.run("ROLLBACK"), r.fail();
    if (auto r = c.set_schema("rule_items", 1); !r) return (void)c.run("ROLLBACK"), r.fail();
  }
  if (auto r = c.run("COMMIT"); !r) return r.fail();
  return std::unique_ptr<item_store>(new item_store(std::move(p)));
}

result<void> item_store::put_batch(std::span<const rules::item> items) {
  if (items.empty()) return {};
  struct row {
    const rules::item* item;
    stored_key key;
  };
  std::vector<row> rows;
  rows.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (holds_nul(items[i])) {
      return failure{rules::error::action_failed,
                     "item " + std::to_string(i) +
                         " holds a NUL character, which PostgreSQL text cannot store",
                     {}};
    }
    rows.push_back({&items[i], key_of(items[i].range_key, items[i].range_is_number)});
  }
  // Key order; of equal keys the last one written stays (one statement may not update a
  // row twice).
  const auto key = [](const row& r) {
    return std::tie(r.item->table, r.item->hash_key, r.key.is_text, r.key.text);
  };
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const row& a, const row& b) { return key(a) < key(b); });
  detail::text_array tables, hashes, is_text, numbers, keys, hash_fields, range_fields,
      payload_fields, payloads;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i + 1 < rows.size() && key(rows[i]) == key(rows[i + 1])) continue;
    const auto& r = rows[i];
    tables.add(r.item->table);
    hashes.add(r.item->hash_key);
    is_text.add(r.key.is_text ? "t" : "f");
    numbers.add(r.key.number);
    keys.add(r.key.text);
    hash_fields.add(r.item->hash_key_field);
    range_fields.add(r.item->range_key_field);
    payload_fields.add(r.item->payload_field);
    payloads.add(r.item->payload);
  }
  const std::string columns[] = {tables.take(),       hashes.take(),         is_text.take(),
                                 numbers.take(),      keys.take(),           hash_fields.take(),
                                 range_fields.take(), payload_fields.take(), payloads.take()};
  std::lock_guard lock{p_->m};
  for (int attempt = 1;; ++attempt) {
    auto r = p_->upsert({columns[0], columns[1], columns[2], columns[3], columns[4], columns[5],
                         columns[6], columns[7], columns[8]});
    if (r) {
      p_->commits.fetch_add(1, std::memory_order_relaxed);
      return r;
    }
    if (attempt >= max_attempts || !detail::retryable(r.fail())) return r;
  }
}

result<std::vector<rules::item>> item_store::query(std::string_view table,
                                                   std::string_view hash_key,
                                                   const rules::range_query& range) const {
  stored_key from{false, "-Infinity", ""}, to{true, "Infinity", ""};
  if (range.from) from = key_of(*range.from, range.numeric);
  if (range.to) to = key_of(*range.to, range.numeric);
  const std::string limit = std::to_string(
      std::min<std::size_t>(range.limit, static_cast<std::size_t>(INT64_MAX)));  // bigint
  std::lock_guard lock{p_->m};
  auto rows = p_->read(range.descending ? "rule_items_query_desc" : "rule_items_query_asc",
                       range.descending ? query_desc_sql : query_asc_sql,
                       {table, hash_key, from.is_text ? "t" : "f", from.number, from.text,
                        to.is_text ? "t" : "f", to.number, to.text, limit});
  if (!rows) return std::move(rows).take_failure();
  std::vector<rules::item> out;
  const int n = PQntuples(rows->get());
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    rules::item it;
    it.table = table;
    it.hash_key = hash_key;
    it.range_key = detail::text(*rows, i, 0);
    it.range_is_number = detail::text(*rows, i, 1) == "f";
    it.hash_key_field = detail::text(*rows, i, 2);
    it.range_key_field = detail::text(*rows, i, 3);
    it.payload_field = detail::text(*rows, i, 4);
    it.payload = detail::text(*rows, i, 5);
    out.push_back(std::move(it));
  }
  return out;
}

result<std::size_t> item_store::count(std::string_view table) const {
  std::lock_guard lock{p_->m};
  auto rows = p_->read("rule_items_count", count_sql, {table});
  if (!rows) return std::move(rows).take_failure();
  const auto n = detail::to_int64(detail::text(*rows, 0, 0));
  if (!n || *n < 0) return failure{error::statement_failed, "XX000: count is not a number", {}};
  return static_cast<std::size_t>(*n);
}

std::uint64_t item_store::commits() const noexcept {
  return p_->commits.load(std::memory_order_relaxed);
}

}  // namespace iotblocks::postgres
