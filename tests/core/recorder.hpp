// recorder<T>: collects events from other threads and lets a test wait for the
// n-th one (no fixed sleeps). No I/O: usable by every component's tests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace iotblocks::testing {

/// Records events and lets a test wait for the n-th one (no fixed sleeps).
template <class T>
class recorder {
 public:
  void add(T v) {
    {
      std::lock_guard lock{m_};
      items_.push_back(std::move(v));
    }
    cv_.notify_all();
  }
  /// Waits (at most `limit`, a generous safety net) until `n` items arrived.
  bool wait_for(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    std::unique_lock lock{m_};
    return cv_.wait_for(lock, limit, [&] { return items_.size() >= n; });
  }
  std::vector<T> items() {
    std::lock_guard lock{m_};
    return items_;
  }
  std::size_t size() {
    std::lock_guard lock{m_};
    return items_.size();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

}  // namespace iotblocks::testing
