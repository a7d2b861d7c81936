#include <iotblocks/rules/item_store.hpp>

#include "core/sqlite.hpp"

#include <atomic>
#include <mutex>
#include <variant>

namespace iotblocks::rules {
namespace {

constexpr std::string_view schema =
    "CREATE TABLE IF NOT EXISTS rule_items("
    " tbl TEXT NOT NULL, hash TEXT NOT NULL, range_key NOT NULL,"
    " hash_field TEXT NOT NULL, range_field TEXT NOT NULL, payload_field TEXT NOT NULL,"
    " payload TEXT NOT NULL, PRIMARY KEY(tbl, hash, range_key)) WITHOUT ROWID";

/// Binds a range key as an integer or a real when asked and it parses, as text otherwise.
void bind_key(sqlite::statement& s, int index, std::string_view key, bool numeric) {
  const auto number = numeric ? parse_range_number(key) : std::nullopt;
  if (!number) {
    s.bind(index, key);
  } else if (const auto* i = std::get_if<std::int64_t>(&*number)) {
    s.bind(index, *i);
  } else {
    s.bind(index, std::get<double>(*number));
  }
}

}  // namespace

struct sqlite_item_store::impl {
  mutable std::mutex m;
  sqlite::database db;
  sqlite::statement insert;
  std::atomic<std::uint64_t> commits{0};
  explicit impl(sqlite::database d) : db(std::move(d)) {}
};

sqlite_item_store::sqlite_item_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
sqlite_item_store::~sqlite_item_store() = default;

result<std::shared_ptr<sqlite_item_store>> sqlite_item_store::open(
    const std::string& path, const item_store_options& options) {
  sqlite::open_options o;
  o.sync = options.durable ? sqlite::synchronous::full : sqlite::synchronous::normal;
  auto db = sqlite::database::open(path, o);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  auto p = std::make_unique<impl>(std::move(*db));
  auto ins = p->db.prepare(
      "INSERT OR REPLACE INTO rule_items(tbl, hash, range_key, hash_field, range_field,"
      " payload_field, payload) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!ins) return std::move(ins).take_failure();
  p->insert = std::move(*ins);
  return std::shared_ptr<sqlite_item_store>(new sqlite_item_store(std::move(p)));
}

result<void> sqlite_item_store::put_batch(std::span<const item> items) {
  std::lock_guard lock{impl_->m};
  sqlite::transaction tx{impl_->db};
  if (!tx.begun()) return tx.begun();
  for (const auto& i : items) {
    auto& s = impl_->insert;
    s.bind(1, std::string_view(i.table)).bind(2, std::string_view(i.hash_key));
    bind_key(s, 3, i.range_key, i.range_is_number);
    s.bind(4, std::string_view(i.hash_key_field))
        .bind(5, std::string_view(i.range_key_field))
        .bind(6, std::string_view(i.payload_field))
        .bind(7, std::string_view(i.payload));
    if (auto r = s.run(); !r) return r;
  }
  auto r = tx.commit();
  if (r) impl_->commits.fetch_add(1, std::memory_order_relaxed);
  return r;
}

result<std::vector<item>> sqlite_item_store::query(std::string_view table,
                                                   std::string_view hash_key,
                                                   const range_query& range) const {
  std::string sql =
      "SELECT range_key, typeof(range_key), hash_field, range_field, payload_field, payload"
      " FROM rule_items WHERE tbl = ?1 AND hash = ?2";
  if (range.from) sql += " AND range_key >= ?3";
  if (range.to) sql += " AND range_key <= ?4";
  sql += range.descending ? " ORDER BY range_key DESC" : " ORDER BY range_key ASC";
  sql += " LIMIT ?5";
  std::lock_guard lock{impl_->m};
  auto st = impl_->db.prepare(sql);
  if (!st) return std::move(st).take_failure();
  st->bind(1, table).bind(2, hash_key);
  if (range.from) bind_key(*st, 3, *range.from, range.numeric);
  if (range.to) bind_key(*st, 4, *range.to, range.numeric);
  st->bind(5, static_cast<std::int64_t>(range.limit));
  std::vector<item> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::move(row).take_failure();
    if (!*row) break;
    item i;
    i.table = table;
    i.hash_key = hash_key;
    i.range_key = st->column_text(0);
    const std::string_view type = st->column_text(1);
    i.range_is_number = type == "integer" || type == "real";
    i.hash_key_field = st->column_text(2);
    i.range_key_field = st->column_text(3);
    i.payload_field = st->column_text(4);
    i.payload = st->column_text(5);
    out.push_back(std::move(i));
  }
  return out;
}

result<std::size_t> sqlite_item_store::count(std::string_view table) const {
  std::lock_guard lock{impl_->m};
  auto st = impl_->db.prepare("SELECT count(*) FROM rule_items WHERE tbl = ?1");
  if (!st) return std::move(st).take_failure();
  st->bind(1, table);
  auto row = st->step();
  if (!row) return std::move(row).take_failure();
  return static_cast<std::size_t>(st->column_int64(0));
}

std::uint64_t sqlite_item_store::commits() const noexcept {
  return impl_->commits.load(std::memory_order_relaxed);
}

}  // namespace iotblocks::rules
