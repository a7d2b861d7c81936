// Private: the topic index's reader/writer gate, with a cache line per reader
// thread slot so that concurrent lookups never write a shared line.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

// Whether the standard library has threads: libstdc++ for bare-metal targets
// (arm-none-eabi) has neither std::mutex nor atomic waits.
#if !defined(__GLIBCXX__) || defined(_GLIBCXX_HAS_GTHREADS)
#define IOTBLOCKS_TOPIC_THREADS 1
#include <mutex>
#include <thread>
#else
#define IOTBLOCKS_TOPIC_THREADS 0
#endif

namespace iotblocks::topic::detail {

#if IOTBLOCKS_TOPIC_THREADS

/// A reader/writer gate where each reader thread announces itself on its own
/// cache line ("big reader" lock): readers never write a shared line, so lookups
/// scale with threads; a writer raises a flag and waits for the readers in flight.
/// Threads beyond `slots` share lines (still correct, just contended).
class reader_gate {
 public:
  static constexpr std::size_t slots = 64;

  std::size_t lock_shared() const noexcept {
    const std::size_t s = my_slot();
    auto& count = slot_[s].readers;
    for (;;) {
      count.fetch_add(1, std::memory_order_seq_cst);
      if (!writer_.load(std::memory_order_seq_cst)) return s;
      count.fetch_sub(1, std::memory_order_release);
      writer_.wait(true, std::memory_order_acquire);
    }
  }
  void unlock_shared(std::size_t s) const noexcept {
    slot_[s].readers.fetch_sub(1, std::memory_order_release);
  }

  void lock() {
    writers_.lock();
    writer_.store(true, std::memory_order_seq_cst);
    for (const auto& s : slot_) {
      for (unsigned spins = 0; s.readers.load(std::memory_order_seq_cst) != 0; ++spins) {
        if (spins > 64) std::this_thread::yield();
      }
    }
  }
  void unlock() {
    writer_.store(false, std::memory_order_release);
    writer_.notify_all();
    writers_.unlock();
  }

 private:
  static std::size_t my_slot() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t s = next.fetch_add(1, std::memory_order_relaxed) % slots;
    return s;
  }
  struct alignas(64) slot {
    mutable std::atomic<std::uint32_t> readers{0};
  };
  std::array<slot, slots> slot_{};
  alignas(64) mutable std::atomic<bool> writer_{false};
  std::mutex writers_;
};

#else
/// Without threads (bare metal) the index has one user at a time: no gate.
class reader_gate {
 public:
  std::size_t lock_shared() const noexcept { return 0; }
  void unlock_shared(std::size_t) const noexcept {}
  void lock() noexcept {}
  void unlock() noexcept {}
};
#endif

/// RAII read side of reader_gate.
class shared_guard {
 public:
  explicit shared_guard(const reader_gate& g) noexcept : g_(g), slot_(g.lock_shared()) {}
  ~shared_guard() { g_.unlock_shared(slot_); }
  shared_guard(const shared_guard&) = delete;
  shared_guard& operator=(const shared_guard&) = delete;

 private:
  const reader_gate& g_;
  std::size_t slot_;
};

}  // namespace iotblocks::topic::detail
