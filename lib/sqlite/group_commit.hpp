// Private: a group-commit queue. Writers push items from any thread; one
// committer thread takes everything queued (up to `max_batch`) and hands the
// batch to `commit`, which applies it in one transaction and completes its
// items. Used by the broker's and the shadows' SQLite stores.
//
//   core::group_commit<op> q{[&](std::vector<op>& batch) { write(batch); }};
//   q.start();
//   q.push(op{...});
//   q.push_with([&](auto& queue) { queue.push_back(op{.seq = next++}); });   // in order
#pragma once

#include <iotblocks/core/export.hpp>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::core {

/// Distinct objects: safe. Shared objects: safe.
template <class Item>
class group_commit {
 public:
  using commit_fn = std::function<void(std::vector<Item>&)>;

  explicit group_commit(commit_fn commit,
                        std::size_t max_batch = std::numeric_limits<std::size_t>::max())
      : commit_(std::move(commit)), max_batch_(max_batch == 0 ? 1 : max_batch) {}
  group_commit(const group_commit&) = delete;
  group_commit& operator=(const group_commit&) = delete;

  /// Commits what is queued (on the committer thread, or here when it never
  /// started), then joins.
  ~group_commit() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) {
      thread_.join();
    } else {
      run();
    }
  }

  /// Starts the committer thread; until then items wait.
  void start() {
    thread_ = std::thread([this] { run(); });
  }

  void push(Item item) {
    push_with([&](std::vector<Item>& queue) { queue.push_back(std::move(item)); });
  }
  /// Runs `fn(queue)` under the queue's lock (e.g. to number items in queue order).
  template <class F>
  void push_with(F&& fn) {
    {
      std::lock_guard lock(mutex_);
      fn(queue_);
    }
    wake_.notify_one();
  }
  /// Takes everything queued now (e.g. to fail it after a failed commit).
  std::vector<Item> take_all() {
    std::lock_guard lock(mutex_);
    return std::exchange(queue_, {});
  }

 private:
  void run() {
    std::vector<Item> batch;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        if (queue_.size() <= max_batch_) {
          batch.swap(queue_);
        } else {
          const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(max_batch_);
          batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
          queue_.erase(queue_.begin(), end);
        }
      }
      commit_(batch);
      batch.clear();
    }
  }

  commit_fn commit_;
  std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Item> queue_;
  bool stopping_ = false;
  std::thread thread_;  ///< last: joined in the destructor before the rest goes
};

}  // namespace iotblocks::core

IOTBLOCKS_API_END
