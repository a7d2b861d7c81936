#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/shadow_store.hpp>
#include <iotblocks/shadow/limits.hpp>

#include "postgres/connection.hpp"

#include <condition_variable>
#include <mutex>

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
  return std::unique_ptr<shadow_store>(new shadow_store(std::move(p)));
}

std::error_code shadow_store::modify(const shadow::shadow_key& key, edit fn) {
  impl::lease c{*p_};
  if (auto r = c->begin(); !r) return r.error();
  auto r = p_->change(*c, key, fn);
  if (!r) (void)c->run("ROLLBACK");
  return r.error();
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
