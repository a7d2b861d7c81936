// Private building blocks of the topic index: a fast string hash, paged storage
// with bounded slack, and the per-thread-slot reader/writer gate.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace iotblocks::topic::detail {

__extension__ typedef unsigned __int128 uint128;

inline std::uint64_t mum(std::uint64_t a, std::uint64_t b) noexcept {
  const uint128 r = static_cast<uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

inline std::uint64_t load64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline std::uint64_t load32(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

/// A wyhash-style 64-bit hash of a short string (topic levels are short).
inline std::uint64_t hash_bytes(std::string_view s) noexcept {
  constexpr std::uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull;
  const char* p = s.data();
  std::size_t n = s.size();
  std::uint64_t seed = k0 ^ n;
  while (n > 16) {
    seed = mum(load64(p) ^ k1, load64(p + 8) ^ seed);
    p += 16;
    n -= 16;
  }
  std::uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = load64(p);
    b = load64(p + n - 8);
  } else if (n >= 4) {
    a = load32(p);
    b = load32(p + n - 4);
  } else if (n > 0) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    a = (std::uint64_t{u[0]} << 16) | (std::uint64_t{u[n >> 1]} << 8) | u[n - 1];
  }
  return mum(a ^ k1, b ^ seed);
}

/// A growable array in pages of 4096 elements: stable addresses, at most one
/// page of slack, no copy on growth.
template <class T>
class paged_vector {
 public:
  static constexpr std::uint32_t shift = 12;
  static constexpr std::uint32_t page = 1u << shift;

  T& operator[](std::uint32_t i) noexcept { return pages_[i >> shift][i & (page - 1)]; }
  const T& operator[](std::uint32_t i) const noexcept { return pages_[i >> shift][i & (page - 1)]; }

  /// Appends a value-initialised element and returns its index.
  std::uint32_t push() {
    if ((size_ >> shift) == pages_.size()) pages_.push_back(std::make_unique<T[]>(page));
    (*this)[size_] = T{};
    return size_++;
  }
  std::uint32_t size() const noexcept { return size_; }
  void clear() noexcept {
    pages_.clear();
    size_ = 0;
  }
  std::size_t bytes() const noexcept {
    return pages_.size() * page * sizeof(T) + pages_.capacity() * sizeof(void*);
  }

 private:
  std::vector<std::unique_ptr<T[]>> pages_;
  std::uint32_t size_ = 0;
};

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
