// Private: an in-memory view of a store that other processes may share (thing groups,
// thing types). Reads look for another process's change at most every sync_interval and
// are served from memory when the store does not answer; writes always look, and a write
// the store refuses with store_changed runs again on fresh state.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/error.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <thread>

namespace iotblocks::registry::detail {

/// `Derived` has `db` (a store with changed_elsewhere()), `opts.sync_interval`,
/// `reload()` (loads the whole store, then calls loaded()) and `kept_changing` (the
/// message's start when a write keeps meeting other processes' changes).
template <class Derived>
class shared_view {
 public:
  /// Attempts of one write that keeps meeting changes made by other processes.
  static constexpr int max_attempts = 8;

  /// Loads again when another process changed the store. A write gets the store's
  /// failure; a read is served from memory when the store cannot be reached.
  result<void> sync(bool write) {
    auto& self = static_cast<Derived&>(*this);
    const auto now = std::chrono::steady_clock::now();
    if (!write && now - last_sync_ < self.opts.sync_interval) return {};
    last_sync_ = now;
    auto changed = self.db->changed_elsewhere();
    if (!changed) return write ? result<void>{changed.fail()} : result<void>{};
    if (!*changed) return {};
    auto r = self.reload();
    return write ? r : result<void>{};
  }

  /// Runs `fn()` (checks on the in-memory state, then one store write) after a sync; again
  /// on fresh state while the store reports a change made meanwhile by another process,
  /// after a random wait of up to 2, 4, 8 … 50 ms (two processes that keep writing one
  /// row would otherwise retry in step and collide every time).
  template <class F>
  auto change(F&& fn) -> decltype(fn()) {
    if (auto s = sync(true); !s) return s.fail();
    for (int attempt = 1;; ++attempt) {
      auto r = fn();
      if (r || r.error() != error::store_changed) return r;
      if (attempt == max_attempts) {
        return failure{error::storage, std::string(Derived::kept_changing) + r.describe(), {}};
      }
      back_off(attempt);
      if (auto s = static_cast<Derived&>(*this).reload(); !s) return s.fail();
    }
  }

 protected:
  void loaded() { last_sync_ = std::chrono::steady_clock::now(); }

 private:
  static void back_off(int attempt) {
    thread_local std::minstd_rand jitter{static_cast<std::uint_fast32_t>(
        std::chrono::steady_clock::now().time_since_epoch().count() ^
        static_cast<std::int64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id())))};
    const int cap_us = std::min(1000 << std::min(attempt, 6), 50'000);
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, cap_us)(jitter)));
  }

  std::chrono::steady_clock::time_point last_sync_{};
};

}  // namespace iotblocks::registry::detail
