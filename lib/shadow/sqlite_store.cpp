#include <iotblocks/core/error.hpp>
#include <iotblocks/shadow/store.hpp>

#include "core/group_commit.hpp"
#include "core/sqlite.hpp"
#include "shadow/shards.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <unordered_map>
#include <vector>

namespace iotblocks::shadow {
namespace {

// A rowid table (not WITHOUT ROWID): a ~2 KB document then stays on its leaf page
// instead of spilling to overflow pages, so an update rewrites one page.
constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS shadows(
  thing TEXT NOT NULL,
  name TEXT NOT NULL,          -- '' for the classic shadow
  version INTEGER NOT NULL,
  deleted_at INTEGER NOT NULL, -- 0 while the shadow exists
  document TEXT NOT NULL,      -- shadow::document::to_storage()
  UNIQUE(thing, name))
)sql";

// Page cache of 32 MiB per connection (SQLite's default is 2 MiB): updates of many
// shadows touch pages all over the table.
constexpr const char* tuning = "PRAGMA cache_size=-32768";

constexpr const char* upsert_sql =
    "INSERT INTO shadows(thing, name, version, deleted_at, document) VALUES(?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT(thing, name) DO UPDATE SET version = excluded.version, "
    "deleted_at = excluded.deleted_at, document = excluded.document";

constexpr const char* select_sql = "SELECT document FROM shadows WHERE thing = ?1 AND name = ?2";

// Stored documents were validated when written; parse them with roomy limits.
const limits& storage_limits() {
  static const limits l = limits{}.max_depth(64).max_request_size(SIZE_MAX);
  return l;
}

// One row to write: a shadow's stored form (or, when `remove`, that it has no row).
struct row {
  shadow_key key;
  std::string document;
  std::int64_t version = 0;
  std::int64_t deleted_at = 0;
  bool remove = false;
};

// A change waiting for its group's COMMIT. The committer serialises each shadow of a
// group once, from the cache, when it writes the group.
struct pending {
  shadow_key key;
  store::done on_done;
};

constexpr const char* delete_sql = "DELETE FROM shadows WHERE thing = ?1 AND name = ?2";

std::error_code code_of(const failure& f) { return f.code; }

}  // namespace

struct sqlite_store::impl {
  options opt;
  std::unique_ptr<detail::shard_map[]> shards =
      std::make_unique<detail::shard_map[]>(detail::shard_count);

  std::mutex write_mu;  // the writer connection and its statements
  sqlite::database writer;
  sqlite::statement upsert;
  sqlite::statement erase;

  std::mutex read_mu;  // the reader connection (WAL: reads never wait for the writer)
  sqlite::database reader;
  sqlite::statement select;

  std::atomic<std::uint64_t> commits{0};
  /// With group commit; last: commits what is queued before the rest goes.
  std::unique_ptr<core::group_commit<pending>> queue;

  impl(sqlite::database w, sqlite::statement u, sqlite::statement e, sqlite::database r,
       sqlite::statement s)
      : writer(std::move(w)),
        upsert(std::move(u)),
        erase(std::move(e)),
        reader(std::move(r)),
        select(std::move(s)) {}

  // The cached document for `flat`, loaded from the file on a miss. Caller holds the shard.
  result<document*> entry(detail::shard_map& shard, const std::string& flat,
                          const shadow_key& key) {
    if (auto it = shard.docs.find(flat); it != shard.docs.end()) return &it->second;
    auto loaded = load(key);
    if (!loaded) return std::move(loaded).take_failure();
    return &shard.docs.emplace(flat, std::move(*loaded)).first->second;
  }

  result<document> load(const shadow_key& key) {
    std::lock_guard lock(read_mu);
    select.bind(1, std::string_view(key.thing)).bind(2, std::string_view(key.name));
    auto row = select.step();
    if (!row) return std::move(row).take_failure();
    result<document> doc = document{};
    if (*row) doc = document::parse(select.column_text(0), storage_limits());
    select.reset();
    return doc;
  }

  result<void> write(const std::vector<row>& rows) {
    std::lock_guard lock(write_mu);
    sqlite::transaction tx{writer};
    if (!tx.begun()) return tx.begun();
    for (const row& r : rows) {
      sqlite::statement& st = r.remove ? erase : upsert;
      st.bind(1, std::string_view(r.key.thing)).bind(2, std::string_view(r.key.name));
      if (!r.remove)
        st.bind(3, r.version).bind(4, r.deleted_at).bind(5, std::string_view(r.document));
      if (auto res = st.run(); !res) {
        st.reset();
        return res;
      }
    }
    auto res = tx.commit();
    if (res) commits.fetch_add(1, std::memory_order_relaxed);
    return res;
  }

  static row row_of(const shadow_key& key, const document& d) {
    return row{key, d.to_storage(), d.version(), d.deleted_at(), false};
  }

  // Writes a group: each shadow in it once, as the cache holds it now (which includes
  // every change of the group). A shadow no longer cached was purged: no row.
  result<void> write_group(const std::vector<pending>& group) {
    std::unordered_map<std::string, const shadow_key*> unique;
    for (const auto& p : group) unique.try_emplace(detail::flat_key(p.key), &p.key);
    std::vector<row> rows;
    rows.reserve(unique.size());
    for (const auto& [flat, key] : unique) {
      detail::shard_map& shard = shards[detail::shard_of(flat)];
      std::lock_guard lock(shard.mu);
      auto it = shard.docs.find(flat);
      rows.push_back(it != shard.docs.end() ? row_of(*key, it->second) : row{*key, {}, 0, 0, true});
    }
    return write(rows);
  }

  // After a failed commit nothing cached can be trusted: every change waiting was made
  // on top of the lost ones. Drop the cache, fail them all; later requests reload.
  void fail_all(std::vector<pending>& group, std::error_code ec) {
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(detail::shard_count);
    for (std::size_t i = 0; i < detail::shard_count; ++i) locks.emplace_back(shards[i].mu);
    for (std::size_t i = 0; i < detail::shard_count; ++i) shards[i].docs.clear();
    for (auto& p : queue->take_all()) group.push_back(std::move(p));
    locks.clear();
    for (auto& p : group) {
      if (p.on_done) p.on_done(ec);
    }
  }

  // One group, on the queue's thread.
  void commit(std::vector<pending>& group) {
    if (auto r = write_group(group); !r) return fail_all(group, code_of(r.fail()));
    for (auto& p : group) {
      if (p.on_done) p.on_done({});
    }
  }
};

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const std::string& path,
                                                         const options& o) {
  auto w = sqlite::database::open(path);
  if (!w) return std::move(w).take_failure();
  if (auto r = w->exec(tuning); !r) return std::move(r).take_failure();
  if (auto r = w->exec(schema); !r) return std::move(r).take_failure();
  auto u = w->prepare(upsert_sql);
  if (!u) return std::move(u).take_failure();
  auto e = w->prepare(delete_sql);
  if (!e) return std::move(e).take_failure();
  auto rd = sqlite::database::open(path);
  if (!rd) return std::move(rd).take_failure();
  if (auto r = rd->exec(tuning); !r) return std::move(r).take_failure();
  auto s = rd->prepare(select_sql);
  if (!s) return std::move(s).take_failure();
  auto p = std::make_unique<impl>(std::move(*w), std::move(*u), std::move(*e), std::move(*rd),
                                  std::move(*s));
  p->opt = o;
  if (o.group_commit) {
    p->queue = std::make_unique<core::group_commit<pending>>(
        [raw = p.get()](std::vector<pending>& group) { raw->commit(group); }, o.max_batch);
    p->queue->start();
  }
  return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(p)));
}

sqlite_store::sqlite_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}

sqlite_store::~sqlite_store() = default;  // impl::queue commits what is queued first

void sqlite_store::modify_async(const shadow_key& key, edit fn, done on_done) {
  if (!p_->opt.group_commit) {
    store::modify_async(key, fn, std::move(on_done));
    return;
  }
  const std::string flat = detail::flat_key(key);
  detail::shard_map& shard = p_->shards[detail::shard_of(flat)];
  std::unique_lock lock(shard.mu);
  auto doc = p_->entry(shard, flat, key);
  if (!doc) {
    lock.unlock();
    if (on_done) on_done(code_of(doc.fail()));
    return;
  }
  if (!fn(**doc)) {
    if (!(*doc)->exists() && (*doc)->version() == 0) shard.docs.erase(flat);
    lock.unlock();
    if (on_done) on_done({});
    return;
  }
  p_->queue->push({key, std::move(on_done)});  // under the shard lock: fail_all sees it queued
  lock.unlock();
}

std::error_code sqlite_store::modify(const shadow_key& key, edit fn) {
  if (p_->opt.group_commit) {
    std::promise<std::error_code> committed;
    auto result = committed.get_future();
    modify_async(key, fn, [&committed](std::error_code ec) { committed.set_value(ec); });
    return result.get();
  }
  const std::string flat = detail::flat_key(key);
  detail::shard_map& shard = p_->shards[detail::shard_of(flat)];
  std::lock_guard lock(shard.mu);
  auto doc = p_->entry(shard, flat, key);
  if (!doc) return code_of(doc.fail());
  if (!fn(**doc)) {
    if (!(*doc)->exists() && (*doc)->version() == 0) shard.docs.erase(flat);
    return {};
  }
  if (auto r = p_->write({impl::row_of(key, **doc)}); !r) {
    shard.docs.erase(flat);  // the cache ran ahead of the file: reload next time
    return code_of(r.fail());
  }
  return {};
}

std::error_code sqlite_store::read(const shadow_key& key, function_ref<void(const document&)> fn) {
  const std::string flat = detail::flat_key(key);
  detail::shard_map& shard = p_->shards[detail::shard_of(flat)];
  std::lock_guard lock(shard.mu);
  if (auto it = shard.docs.find(flat); it != shard.docs.end()) {
    fn(it->second);
    return {};
  }
  auto doc = p_->load(key);
  if (!doc) return code_of(doc.fail());
  fn(*doc);
  if (doc->exists()) shard.docs.emplace(flat, std::move(*doc));
  return {};
}

result<std::vector<std::string>> sqlite_store::named_shadows(std::string_view thing,
                                                             std::string_view from,
                                                             std::size_t limit) {
  std::lock_guard lock(p_->read_mu);
  auto q = p_->reader.prepare(
      "SELECT name FROM shadows WHERE thing = ?1 AND name <> '' AND name >= ?2 AND "
      "deleted_at = 0 ORDER BY name LIMIT ?3");
  if (!q) return std::move(q).take_failure();
  // A default string_view has no data pointer and would bind NULL (matching nothing).
  q->bind(1, thing)
      .bind(2, from.empty() ? std::string_view("") : from)
      .bind(3, static_cast<std::int64_t>(std::min(limit, static_cast<std::size_t>(INT64_MAX))));
  std::vector<std::string> out;
  for (;;) {
    auto row = q->step();
    if (!row) return std::move(row).take_failure();
    if (!*row) break;
    out.emplace_back(q->column_text(0));
  }
  return out;
}

result<std::size_t> sqlite_store::purge_tombstones(std::int64_t before) {
  std::vector<std::unique_lock<std::mutex>> locks;
  for (std::size_t i = 0; i < detail::shard_count; ++i) locks.emplace_back(p_->shards[i].mu);
  std::lock_guard lock(p_->write_mu);
  auto del = p_->writer.prepare("DELETE FROM shadows WHERE deleted_at > 0 AND deleted_at < ?1");
  if (!del) return std::move(del).take_failure();
  del->bind(1, before);
  if (auto r = del->run(); !r) return std::move(r).take_failure();
  const auto n = static_cast<std::size_t>(p_->writer.changes());
  for (std::size_t i = 0; i < detail::shard_count; ++i) {
    std::erase_if(p_->shards[i].docs, [before](const auto& kv) {
      return !kv.second.exists() && kv.second.deleted_at() > 0 && kv.second.deleted_at() < before;
    });
  }
  return n;
}

std::uint64_t sqlite_store::commits() const noexcept {
  return p_->commits.load(std::memory_order_relaxed);
}

}  // namespace iotblocks::shadow
