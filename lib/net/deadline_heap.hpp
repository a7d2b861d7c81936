// Private: the deadlines of one io thread's connections in one binary heap, so
// that a thread needs one timer, not one timer (and one waiting coroutine) per
// connection. Sans-I/O: the caller reads next() to arm its timer and calls
// expire() when it fires.
//
//   struct conn : deadline_heap::entry { void expired() override { close(); } };
//   heap.arm(c, now + keep_alive);   // on every read: O(1) when the deadline moves later
//   timer.expires_at(heap.next());   // ... and when it fires:
//   heap.expire(clock::now());       // calls expired() on each entry due
#pragma once

#include <chrono>
#include <cstddef>
#include <limits>
#include <vector>

namespace iotblocks::net::detail {

/// Distinct objects: safe. Shared objects: unsafe (one io thread's).
class deadline_heap {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// What the heap orders; embedded in its owner (24 bytes and a vtable pointer).
  class entry {
   public:
    entry() = default;
    entry(const entry&) = delete;
    entry& operator=(const entry&) = delete;
    bool armed() const noexcept { return index_ != npos; }
    /// The deadline asked for (time_point::max() while not armed).
    time_point due() const noexcept { return due_; }
    /// Called by expire() once the deadline passed; the entry is no longer armed.
    virtual void expired() = 0;

   protected:
    ~entry() = default;

   private:
    friend class deadline_heap;
    static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
    time_point due_ = time_point::max();
    time_point key_{};  // its place in the heap: never later than due_
    std::size_t index_ = npos;
  };

  /// Arms `e` for `due`, or moves its deadline. A later deadline only updates
  /// the entry (the heap catches up when the old one comes up): O(1), as on
  /// every read. An earlier one or a new entry: O(log n).
  void arm(entry& e, time_point due);
  /// Disarms `e` (no-op when not armed).
  void cancel(entry& e) noexcept;
  /// The earliest time expire() may have work; time_point::max() when empty.
  /// Possibly earlier than every deadline (one moved later): expire() then re-sorts.
  time_point next() const noexcept { return heap_.empty() ? time_point::max() : heap_[0]->key_; }
  /// Disarms each entry whose deadline is at or before `now` and calls its
  /// expired(), earliest deadline first; expired() may arm or cancel any entry. Returns the count.
  std::size_t expire(time_point now);
  std::size_t size() const noexcept { return heap_.size(); }

 private:
  void place(std::size_t i, entry* e) noexcept {
    heap_[i] = e;
    e->index_ = i;
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void remove_at(std::size_t i) noexcept;

  std::vector<entry*> heap_;
};

}  // namespace iotblocks::net::detail
