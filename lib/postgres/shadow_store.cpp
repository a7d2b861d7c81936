#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/shadow_store.hpp>
#include <iotblocks/shadow/limits.hpp>

#include "postgres/connection.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace iotblocks::postgres {
namespace {

constexpr int schema_version = 1;

// document: shadow::document::to_storage(); NULL only inside the transaction that
// first locks a shadow which does not exist yet.
constexpr const char* create_v1 =
    "CREATE TABLE iotblocks_shadows("
    "thing text NOT NULL, name text NOT NULL, version bigint NOT NULL, "
    "deleted_at bigint NOT NULL, document text, PRIMARY KEY(thing, name))";

constexpr const char* lock_sql =
    "SELECT document FROM iotblocks_shadows WHERE thing = $1 AND name = $2 FOR UPDATE";
constexpr const char* placeholder_sql =
    "INSERT INTO iotblocks_shadows(thing, name, version, deleted_at) VALUES($1, $2, 0, 0) "
    "ON CONFLICT DO NOTHING";
constexpr const char* update_sql =
    "UPDATE iotblocks_shadows SET version = $3, deleted_at = $4, document = $5 "
    "WHERE thing = $1 AND name = $2";
constexpr const char* read_sql =
    "SELECT document FROM iotblocks_shadows WHERE thing = $1 AND name = $2 "
    "AND document IS NOT NULL";

// Group commit: the batch's keys as text[] parameters, sorted, so that every process
// locks rows in the same order.
constexpr const char* lock_batch_sql =
    "SELECT s.thing, s.name, s.document FROM iotblocks_shadows s "
    "JOIN unnest($1::text[], $2::text[]) AS k(t, n) ON s.thing = k.t AND s.name = k.n "
    "ORDER BY s.thing, s.name FOR UPDATE OF s";
constexpr const char* placeholder_batch_sql =
    "INSERT INTO iotblocks_shadows(thing, name, version, deleted_at) "
    "SELECT t, n, 0, 0 FROM unnest($1::text[], $2::text[]) AS k(t, n) ORDER BY t, n "
    "ON CONFLICT DO NOTHING";
constexpr const char* update_batch_sql =
    "UPDATE iotblocks_shadows s SET version = u.v, deleted_at = u.d, document = u.doc "
    "FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[]) "
    "AS u(t, n, v, d, doc) WHERE s.thing = u.t AND s.name = u.n";

// A PostgreSQL array literal of text elements: {"a","b\"c"}.
class text_array {
 public:
  void add(std::string_view v) {
    out_.push_back(out_.empty() ? '{' : ',');
    out_.push_back('"');
    for (char c : v) {
      if (c == '"' || c == '\\') out_.push_back('\\');
      out_.push_back(c);
    }
    out_.push_back('"');
  }
  void add(std::int64_t v) {
    out_.push_back(out_.empty() ? '{' : ',');
    out_ += std::to_string(v);
  }
  std::string take() {
    if (out_.empty()) return "{}";
    out_.push_back('}');
    return std::move(out_);
  }

 private:
  std::string out_;
};

// The server aborted the transaction to break a deadlock or a serialization conflict:
// running it again is correct.
bool retryable(const failure& f) {
  return f.message.view().starts_with("40P01") || f.message.view().starts_with("40001");
}

// Stored documents were validated when written; parse them with roomy limits.
const shadow::limits& storage_limits() {
  static const shadow::limits l = shadow::limits{}.max_depth(64).max_request_size(SIZE_MAX);
  return l;
}

result<shadow::document> parse_stored(const detail::rows& r) {
  if (PQntuples(r.get()) == 0 || PQgetisnull(r.get(), 0, 0)) return shadow::document{};
  return shadow::document::parse(detail::text(r, 0, 0), storage_limits());
}

}  // namespace

struct shadow_store::impl {
  struct pending {
    shadow::shadow_key key;
    owned_edit fn;
    done on_done;
  };
  using key_pair = std::pair<std::string, std::string>;

  std::mutex mu;
  std::condition_variable freed;
  std::vector<detail::connection> idle;

  // A connection of the pool for the lifetime of the lease.
  class lease {
   public:
    explicit lease(impl& p) : p_(p) {
      std::unique_lock lock(p_.mu);
      p_.freed.wait(lock, [&] { return !p_.idle.empty(); });
      c_.emplace(std::move(p_.idle.back()));
      p_.idle.pop_back();
    }
    ~lease() {
      std::lock_guard lock(p_.mu);
      p_.idle.push_back(std::move(*c_));
      p_.freed.notify_one();
    }
    detail::connection& operator*() { return *c_; }
    detail::connection* operator->() { return &*c_; }

   private:
    impl& p_;
    std::optional<detail::connection> c_;
  };

  // The body of modify() inside BEGIN; ROLLBACK is the caller's on failure.
  result<void> change(detail::connection& c, const shadow::shadow_key& key, edit fn) {
    auto locked = c.exec(lock_sql, {key.thing, key.name});
    if (!locked) return locked.fail();
    if (PQntuples(locked->get()) == 0) {  // first change of this shadow anywhere
      if (auto r = c.run(placeholder_sql, {key.thing, key.name}); !r) return r;
      locked = c.exec(lock_sql, {key.thing, key.name});
      if (!locked) return locked.fail();
    }
    auto doc = parse_stored(*locked);
    if (!doc) return doc.fail();
    if (!fn(*doc)) return c.run("ROLLBACK");
    const std::string version = std::to_string(doc->version());
    const std::string deleted = std::to_string(doc->deleted_at());
    const std::string stored = doc->to_storage();
    if (auto r = c.run(update_sql, {key.thing, key.name, version, deleted, stored}); !r) return r;
    return c.run("COMMIT");
  }

  // ---- group commit ----
  std::size_t max_batch = 1024;
  std::mutex qmu;
  std::condition_variable queued;
  std::deque<pending> queue;
  bool stopping = false;
  std::vector<std::thread> committers;
  std::atomic<std::uint64_t> commits{0};

  // Locks the rows of `keys` (sorted) into `docs`; `keys` keeps those with no row.
  static result<void> lock_rows(detail::connection& c, std::vector<key_pair>& keys,
                                std::map<key_pair, shadow::document>& docs) {
    text_array things, names;
    for (const auto& k : keys) {
      things.add(k.first);
      names.add(k.second);
    }
    const std::string t = things.take(), n = names.take();
    auto rows = c.exec(lock_batch_sql, {t, n});
    if (!rows) return rows.fail();
    for (int i = 0; i < PQntuples(rows->get()); ++i) {
      key_pair k{std::string(detail::text(*rows, i, 0)), std::string(detail::text(*rows, i, 1))};
      shadow::document d;
      if (!PQgetisnull(rows->get(), i, 2)) {
        auto parsed = shadow::document::parse(detail::text(*rows, i, 2), storage_limits());
        if (!parsed) return parsed.fail();
        d = std::move(*parsed);
      }
      docs[std::move(k)] = std::move(d);
    }
    std::erase_if(keys, [&](const key_pair& k) { return docs.contains(k); });
    return {};
  }

  // One transaction for the whole batch: lock (creating the rows of new shadows
  // first), run every edit in arrival order, write the changed documents, COMMIT.
  result<void> write_batch(detail::connection& c, std::vector<pending>& batch) {
    std::vector<key_pair> keys;
    keys.reserve(batch.size());
    for (const auto& p : batch) keys.emplace_back(p.key.thing, p.key.name);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::map<key_pair, shadow::document> docs;
    if (auto r = c.begin(); !r) return r;
    if (auto r = lock_rows(c, keys, docs); !r) return r;
    if (!keys.empty()) {  // shadows no process has written yet
      text_array things, names;
      for (const auto& k : keys) {
        things.add(k.first);
        names.add(k.second);
      }
      if (auto r = c.run(placeholder_batch_sql, {things.take(), names.take()}); !r) return r;
      if (auto r = lock_rows(c, keys, docs); !r) return r;
      if (!keys.empty()) return failure{error::statement_failed, "shadow rows not locked", {}};
    }
    std::map<key_pair, bool> changed;
    for (auto& p : batch) {
      key_pair k{p.key.thing, p.key.name};
      if (p.fn(docs[k])) changed[k] = true;
    }
    if (!changed.empty()) {
      text_array things, names, versions, deleted, stored;
      for (const auto& [k, yes] : changed) {
        const auto& d = docs[k];
        things.add(k.first);
        names.add(k.second);
        versions.add(static_cast<std::int64_t>(d.version()));
        deleted.add(static_cast<std::int64_t>(d.deleted_at()));
        stored.add(d.to_storage());
      }
      if (auto r = c.run(update_batch_sql, {things.take(), names.take(), versions.take(),
                                            deleted.take(), stored.take()});
          !r) {
        return r;
      }
    }
    return c.run("COMMIT");
  }

  void commit_loop() {
    std::vector<pending> batch;
    for (;;) {
      {
        std::unique_lock lock(qmu);
        queued.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping, and everything written
        const std::size_t n = std::min(queue.size(), max_batch);
        batch.assign(std::make_move_iterator(queue.begin()),
                     std::make_move_iterator(queue.begin() + static_cast<std::ptrdiff_t>(n)));
        queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
      }
      result<void> r;
      {
        lease c{*this};
        for (int attempt = 0;; ++attempt) {
          r = write_batch(*c, batch);
          if (r) break;
          (void)c->run("ROLLBACK");
          if (attempt >= 8 || !retryable(r.fail())) break;
        }
      }
      if (r) commits.fetch_add(1, std::memory_order_relaxed);
      for (auto& p : batch) {
        if (p.on_done) p.on_done(r.error());
      }
      batch.clear();
    }
  }

  ~impl() {
    {
      std::lock_guard lock(qmu);
      stopping = true;
    }
    queued.notify_all();
    for (auto& t : committers) t.join();
  }
};

shadow_store::shadow_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
shadow_store::~shadow_store() = default;

result<std::unique_ptr<shadow_store>> shadow_store::open(const std::string& url, const options& o) {
  auto p = std::make_unique<impl>();
  for (std::size_t i = 0; i < std::max<std::size_t>(o.connections, 1); ++i) {
    auto c = detail::connection::open(url);
    if (!c) return std::move(c).take_failure();
    p->idle.push_back(std::move(*c));
  }
  auto& c = p->idle.front();
  auto version = c.lock_schema("shadow");
  if (!version) return std::move(version).take_failure();
  if (*version > schema_version) {
    (void)c.run("ROLLBACK");
    return failure{error::schema_too_new,
                   "shadow schema version " + std::to_string(*version) +
                       " is newer than this build's " + std::to_string(schema_version),
                   {}};
  }
  if (*version < 1) {
    if (auto r = c.run(create_v1); !r) return (void)c.run("ROLLBACK"), r.fail();
    if (auto r = c.set_schema("shadow", 1); !r) return (void)c.run("ROLLBACK"), r.fail();
  }
  if (auto r = c.run("COMMIT"); !r) return r.fail();
  p->max_batch = std::max<std::size_t>(o.max_batch, 1);
  const std::size_t committers =
      std::clamp<std::size_t>(o.committers, 1, std::max<std::size_t>(o.connections, 1));
  for (std::size_t i = 0; i < committers; ++i) {
    p->committers.emplace_back([raw = p.get()] { raw->commit_loop(); });
  }
  return std::unique_ptr<shadow_store>(new shadow_store(std::move(p)));
}

std::error_code shadow_store::modify(const shadow::shadow_key& key, edit fn) {
  impl::lease c{*p_};
  if (auto r = c->begin(); !r) return r.error();
  auto r = p_->change(*c, key, fn);
  if (!r) (void)c->run("ROLLBACK");
  return r.error();
}

void shadow_store::modify_deferred(const shadow::shadow_key& key, owned_edit fn, done on_done) {
  {
    std::lock_guard lock(p_->qmu);
    p_->queue.push_back({key, std::move(fn), std::move(on_done)});
  }
  p_->queued.notify_one();
}

std::uint64_t shadow_store::group_commits() const noexcept {
  return p_->commits.load(std::memory_order_relaxed);
}

std::error_code shadow_store::read(const shadow::shadow_key& key,
                                   shadow::function_ref<void(const shadow::document&)> fn) {
  impl::lease c{*p_};
  auto rows = c->exec(read_sql, {key.thing, key.name});
  if (!rows) return rows.error();
  auto doc = parse_stored(*rows);
  if (!doc) return doc.error();
  fn(*doc);
  return {};
}

result<std::vector<std::string>> shadow_store::named_shadows(std::string_view thing,
                                                             std::string_view from,
                                                             std::size_t limit) {
  impl::lease c{*p_};
  const std::string n = std::to_string(std::min<std::size_t>(limit, INT32_MAX));
  auto rows = c->exec(
      "SELECT name FROM iotblocks_shadows WHERE thing = $1 AND name <> '' "
      "AND name COLLATE \"C\" >= $2 "
      "AND deleted_at = 0 AND document IS NOT NULL ORDER BY name COLLATE \"C\" LIMIT $3",
      {thing, from, n});
  if (!rows) return std::move(rows).take_failure();
  std::vector<std::string> out;
  for (int i = 0; i < PQntuples(rows->get()); ++i) out.emplace_back(detail::text(*rows, i, 0));
  return out;
}

}  // namespace iotblocks::postgres
