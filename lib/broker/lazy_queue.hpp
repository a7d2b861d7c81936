// Private: a FIFO that holds no memory while empty (a session's queue is empty
// for almost every idle client; an empty std::deque already holds ~600 bytes).
#pragma once

#include <deque>
#include <memory>
#include <utility>

namespace iotblocks::broker::detail {

/// std::deque's FIFO subset, allocated on the first push and released when the
/// last element leaves. Distinct objects: safe. Shared objects: unsafe.
template <class T>
class lazy_queue {
 public:
  bool empty() const noexcept { return !q_ || q_->empty(); }
  std::size_t size() const noexcept { return q_ ? q_->size() : 0; }
  T& front() { return q_->front(); }
  void push_back(T v) {
    if (!q_) q_ = std::make_unique<std::deque<T>>();
    q_->push_back(std::move(v));
  }
  void pop_front() {
    q_->pop_front();
    if (q_->empty()) q_.reset();
  }
  void clear() noexcept { q_.reset(); }
  /// Removes the elements `pred` selects; returns how many.
  template <class Pred>
  friend std::size_t erase_if(lazy_queue& q, Pred pred) {
    if (!q.q_) return 0;
    const auto n = std::erase_if(*q.q_, std::move(pred));
    if (q.q_->empty()) q.q_.reset();
    return n;
  }

 private:
  std::unique_ptr<std::deque<T>> q_;
};

}  // namespace iotblocks::broker::detail
