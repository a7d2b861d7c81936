// Private: the registry's in-memory state, shared by its translation units.
#pragma once

#include <iotblocks/registry/registry.hpp>

#include <iotblocks/registry/store.hpp>
#include "registry/chain_cache.hpp"
#include "registry/change_queue.hpp"
#include "registry/id_index.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory_resource>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace iotblocks::registry::detail {

/// Hash and equality that accept std::string_view keys without copying.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

/// Allocates records from a pool shared with every record (it lives as long
/// as the last one), so records and their reference counts sit together in
/// memory and a lookup by id stays in cache.
template <class T>
struct pool_allocator {
  using value_type = T;
  explicit pool_allocator(std::shared_ptr<std::pmr::synchronized_pool_resource> p) noexcept
      : pool(std::move(p)) {}
  template <class U>
  pool_allocator(const pool_allocator<U>& o) noexcept : pool(o.pool) {}  // NOLINT
  T* allocate(std::size_t n) { return static_cast<T*>(pool->allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { pool->deallocate(p, n * sizeof(T), alignof(T)); }
  template <class U>
  bool operator==(const pool_allocator<U>& o) const noexcept {
    return pool == o.pool;
  }
  std::shared_ptr<std::pmr::synchronized_pool_resource> pool;
};

struct registry_impl {
  registry_impl(std::unique_ptr<store> s, options o) : db(std::move(s)), opts(std::move(o)) {}

  const iotblocks::clock& clock() const noexcept {
    return opts.clock != nullptr ? *opts.clock : default_clock();
  }
  std::int64_t now_ms() const noexcept { return clock().now_ms(); }

  std::shared_ptr<const certificate_record> make_record(certificate_record r) const {
    return std::allocate_shared<const certificate_record>(
        pool_allocator<certificate_record>{record_pool}, std::move(r));
  }
  /// Rebuilds the record of certificate `id` with its current things.
  std::shared_ptr<const certificate_record> with_things(const certificate_record& base) const;
  /// Replaces the record of `id` (status, things) after a committed change.
  void refresh(std::string_view id, certificate_status status, std::int64_t updated_ms);
  /// Replaces the in-memory view with `state`.
  result<void> assign(stored_state state);
  /// Loads again when another process changed the store (looking at most every
  /// opts.sync_interval unless `write`). A write gets the store's failure; a read is
  /// served from memory when the store cannot be reached.
  result<void> sync(bool write);

  std::shared_ptr<std::pmr::synchronized_pool_resource> record_pool =
      std::make_shared<std::pmr::synchronized_pool_resource>();
  mutable std::mutex mutex;
  /// Taken before `mutex` by every write, and held by a batch from begin to end: other
  /// threads' writes wait for the batch (their writes must not join its transaction).
  mutable std::recursive_mutex gate;
  std::unique_ptr<store> db;
  options opts;
  std::chrono::steady_clock::time_point last_sync{};
  std::atomic<std::uint64_t> generation{0};  ///< loads of changes made elsewhere
  std::optional<std::string> registration_code;
  string_map<ca_record> cas;
  id_index certificates;  ///< device certificates by id
  std::map<std::string, thing, std::less<>> things;
  string_map<std::set<std::string>> thing_principals;    ///< thing → certificate ids
  string_map<std::set<std::string>> certificate_things;  ///< certificate id → things
  x509::verifier trust;                                  ///< every registered CA, ACTIVE or not
  std::vector<x509::crl> crls;                           ///< added to `trust` again on reload
  chain_cache cache;
  statistics stats;
  change_queue changes;  ///< thing changes for the observer (on_change)
};

/// The registry's mutex, held after sync(write); a write (and authentication, which may
/// register a certificate) also holds the batch gate.
class synced_lock {
 public:
  synced_lock(registry_impl& d, bool write, bool gated = false)
      : g_(d.gate, std::defer_lock), l_(d.mutex, std::defer_lock) {
    if (write || gated) g_.lock();
    l_.lock();
    status_ = d.sync(write);
  }
  /// The failure of a write's sync: the write must not go on.
  const result<void>& status() const noexcept { return status_; }

 private:
  std::unique_lock<std::recursive_mutex> g_;
  std::unique_lock<std::mutex> l_;
  result<void> status_;
};

}  // namespace iotblocks::registry::detail
