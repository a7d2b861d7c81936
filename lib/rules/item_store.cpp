#include <iotblocks/rules/item_store.hpp>

#include "core/json.hpp"
#include "core/sqlite.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <mutex>

namespace iotblocks::rules {
namespace {

constexpr std::string_view schema =
    "CREATE TABLE IF NOT EXISTS rule_items("
    " tbl TEXT NOT NULL, hash TEXT NOT NULL, range_key NOT NULL,"
    " hash_field TEXT NOT NULL, range_field TEXT NOT NULL, payload_field TEXT NOT NULL,"
    " payload TEXT NOT NULL, PRIMARY KEY(tbl, hash, range_key)) WITHOUT ROWID";

/// Binds a range key as an integer or a real when asked and it parses, as text otherwise.
void bind_key(sqlite::statement& s, int index, std::string_view key, bool numeric) {
  if (numeric && !key.empty()) {
    std::int64_t i = 0;
    auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), i);
    if (ec == std::errc{} && p == key.data() + key.size()) {
      s.bind(index, i);
      return;
    }
    double d = 0;
    auto [p2, ec2] = std::from_chars(key.data(), key.data() + key.size(), d);
    if (ec2 == std::errc{} && p2 == key.data() + key.size() && std::isfinite(d)) {
      s.bind(index, d);
      return;
    }
  }
  s.bind(index, key);
}

}  // namespace

std::string item::to_json() const {
  rapidjson::Document doc;
  auto& a = doc.GetAllocator();
  rapidjson::Value out(rapidjson::kObjectType);
  auto parsed = json::parse(payload);
  rapidjson::Value attrs;
  if (parsed) {
    attrs.CopyFrom(*parsed, a);
  } else {
    attrs = json::string_value(payload, a);
  }
  if (!payload_field.empty()) {
    out.AddMember(json::string_value(payload_field, a), attrs, a);
  } else if (attrs.IsObject()) {
    for (auto& m : attrs.GetObject()) out.AddMember(m.name, m.value, a);
  }
  auto set = [&](const std::string& field, const std::string& v, bool number) {
    if (field.empty()) return;
    rapidjson::Value key = json::string_value(field, a);
    out.RemoveMember(key);
    double d = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (number && ec == std::errc{} && p == v.data() + v.size() && std::isfinite(d)) {
      std::int64_t i = 0;
      auto [pi, eci] = std::from_chars(v.data(), v.data() + v.size(), i);
      if (eci == std::errc{} && pi == v.data() + v.size()) {
        out.AddMember(key, rapidjson::Value(i), a);
      } else {
        out.AddMember(key, rapidjson::Value(d), a);
      }
    } else {
      out.AddMember(key, json::string_value(v, a), a);
    }
  };
  set(hash_key_field, hash_key, false);
  set(range_key_field, range_key, range_is_number);
  return json::write(out);
}

struct item_store::impl {
  mutable std::mutex m;
  sqlite::database db;
  sqlite::statement insert;
  std::atomic<std::uint64_t> commits{0};
  explicit impl(sqlite::database d) : db(std::move(d)) {}
};

item_store::item_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
item_store::~item_store() = default;

result<std::shared_ptr<item_store>> item_store::open(const std::string& path,
                                                     const item_store_options& options) {
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
  return std::shared_ptr<item_store>(new item_store(std::move(p)));
}

result<void> item_store::put(const item& i) { return put_batch(std::span<const item>(&i, 1)); }

result<void> item_store::put_batch(std::span<const item> items) {
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

result<std::vector<item>> item_store::query(std::string_view table, std::string_view hash_key,
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

result<std::size_t> item_store::count(std::string_view table) const {
  std::lock_guard lock{impl_->m};
  auto st = impl_->db.prepare("SELECT count(*) FROM rule_items WHERE tbl = ?1");
  if (!st) return std::move(st).take_failure();
  st->bind(1, table);
  auto row = st->step();
  if (!row) return std::move(row).take_failure();
  return static_cast<std::size_t>(st->column_int64(0));
}

std::uint64_t item_store::commits() const noexcept {
  return impl_->commits.load(std::memory_order_relaxed);
}

}  // namespace iotblocks::rules
