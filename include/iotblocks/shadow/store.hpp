// Where shadows live: an interface, an in-memory store, and a SQLite store that makes
// every change durable (committed) before it is acknowledged, with group commit.
//
//   auto db = iotblocks::shadow::sqlite_store::open("shadows.db").value();
//   db->modify({"lamp", ""}, [&](iotblocks::shadow::document& d) {
//     return d.update(R"({"state":{"reported":{"on":true}}})", now).accepted();
//   });                                   // durable when this returns
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/shadow/document.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::shadow {

/// A non-owning reference to a callable, for callbacks that run before the call returns.
template <class Sig>
class function_ref;

template <class R, class... A>
class function_ref<R(A...)> {
 public:
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, function_ref> &&
           std::is_invocable_r_v<R, F&, A...>) function_ref(F&& f)
  noexcept  // NOLINT
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* o, A... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
        }) {}
  R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

/// Storage for shadows. A store gives one caller at a time access to a shadow, so
/// concurrent updates of one shadow run one after the other, each on the version the
/// previous one left (clients get optimistic concurrency from the version field, 409).
/// Implementations are safe to share between threads.
class store {
 public:
  using edit = function_ref<bool(document&)>;
  using done = std::function<void(std::error_code)>;

  virtual ~store() = default;

  /// Runs `fn` with exclusive access to the shadow (a never-existing document if there is
  /// none). When `fn` returns true, the change is durable before modify returns.
  /// Errors: the store's; the change is then dropped.
  virtual std::error_code modify(const shadow_key& key, edit fn) = 0;

  /// Like modify, but `on_done` may run later and on another thread, once the change is
  /// durable (or failed); a store may commit many changes at once. `fn` runs before
  /// modify_async returns. Default: modify, then on_done.
  virtual void modify_async(const shadow_key& key, edit fn, done on_done);

  using owned_edit = std::function<bool(document&)>;
  /// Like modify_async, but `fn` owns what it uses and may run later, on the store's
  /// thread, and more than once (a store that retries a transaction runs it again on the
  /// document read anew; the last run counts). Default: modify_async, `fn` run at once.
  virtual void modify_deferred(const shadow_key& key, owned_edit fn, done on_done);

  /// Runs `fn` on the shadow's current document (never-existing if there is none).
  virtual std::error_code read(const shadow_key& key, function_ref<void(const document&)> fn) = 0;
  /// The names of `thing`'s named shadows that exist (deleted ones left out), sorted, at most
  /// `limit` of them starting at `from` (inclusive); a change is there once modify() returned
  /// (modify_async: once its done callback ran). Errors: the store's. Default:
  /// std::errc::operation_not_supported (a store that cannot list).
  virtual result<std::vector<std::string>> named_shadows(std::string_view thing,
                                                         std::string_view from = {},
                                                         std::size_t limit = SIZE_MAX);
};

/// Shadows in memory, in 64 lock shards. Distinct objects: safe. Shared objects: safe.
class memory_store final : public store {
 public:
  memory_store();
  ~memory_store() override;
  memory_store(const memory_store&) = delete;
  memory_store& operator=(const memory_store&) = delete;

  std::error_code modify(const shadow_key& key, edit fn) override;
  std::error_code read(const shadow_key& key, function_ref<void(const document&)> fn) override;
  result<std::vector<std::string>> named_shadows(std::string_view thing, std::string_view from = {},
                                                 std::size_t limit = SIZE_MAX) override;

  /// Shadows held, tombstones included.
  std::size_t size() const;
  /// Forgets tombstones deleted before `before` (seconds); returns how many.
  std::size_t purge_tombstones(std::int64_t before);

 private:
  struct shard;
  std::unique_ptr<shard[]> shards_;
};

/// How a sqlite_store writes.
struct sqlite_store_options {
  /// A committer thread writes all changes waiting for it in one transaction and
  /// acknowledges each after that COMMIT. Off: one transaction per change.
  bool group_commit = true;
  /// Most changes in one group.
  std::size_t max_batch = 4096;
};

/// Shadows in a SQLite file (WAL, synchronous=FULL), with a write-through cache of the
/// shadows touched so far. One process owns a database file at a time.
/// Distinct objects: safe. Shared objects: safe.
class sqlite_store final : public store {
 public:
  using options = sqlite_store_options;

  static result<std::unique_ptr<sqlite_store>> open(const std::string& path, const options& o = {});
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  std::error_code modify(const shadow_key& key, edit fn) override;
  void modify_async(const shadow_key& key, edit fn, done on_done) override;
  std::error_code read(const shadow_key& key, function_ref<void(const document&)> fn) override;

  /// Reads the file.
  result<std::vector<std::string>> named_shadows(std::string_view thing, std::string_view from = {},
                                                 std::size_t limit = SIZE_MAX) override;
  /// Deletes tombstones deleted before `before` (seconds) from the file and the cache.
  result<std::size_t> purge_tombstones(std::int64_t before);
  /// Commits (COMMIT statements) so far, for tests and benchmarks of group commit.
  std::uint64_t commits() const noexcept;

 private:
  struct impl;
  explicit sqlite_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::shadow

IOTBLOCKS_API_END
