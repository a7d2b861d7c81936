// Private: the changes a store committed, handed to its observer after the store's locks are
// released (changes_flush, declared before the locks), or when a batch commits.
#pragma once

#include <iotblocks/registry/changes.hpp>

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace iotblocks::registry::detail {

/// Distinct objects: safe. Shared objects: safe.
class change_queue {
 public:
  void observe(change_observer f) {
    std::lock_guard l{mu_};
    observer_ = std::make_shared<change_observer>(std::move(f));
  }
  /// A change committed (or made in a batch): delivered by the next deliver().
  void push(change c) {
    std::lock_guard l{mu_};
    if (observer_ != nullptr) pending_.push_back(std::move(c));
  }
  void begin_batch() {
    std::lock_guard l{mu_};
    batch_from_ = pending_.size();
    in_batch_ = true;
  }
  /// `keep`: the batch committed; otherwise its changes are dropped.
  void end_batch(bool keep) {
    {
      std::lock_guard l{mu_};
      if (!keep) pending_.resize(std::min(pending_.size(), batch_from_));
      in_batch_ = false;
    }
    deliver();
  }
  /// Hands the pending changes to the observer (not while a batch is open).
  void deliver() {
    std::vector<change> out;
    std::shared_ptr<change_observer> f;
    {
      std::lock_guard l{mu_};
      if (in_batch_ || pending_.empty()) return;
      out.swap(pending_);
      f = observer_;
    }
    if (f == nullptr || !*f) return;
    for (const auto& c : out) (*f)(c);
  }

 private:
  std::mutex mu_;
  std::shared_ptr<change_observer> observer_;
  std::vector<change> pending_;
  std::size_t batch_from_ = 0;
  bool in_batch_ = false;
};

/// Delivers the queue's changes when the scope ends: declare it before the store's locks.
class changes_flush {
 public:
  explicit changes_flush(change_queue& q) noexcept : q_(q) {}
  ~changes_flush() { q_.deliver(); }
  changes_flush(const changes_flush&) = delete;
  changes_flush& operator=(const changes_flush&) = delete;

 private:
  change_queue& q_;
};

}  // namespace iotblocks::registry::detail
