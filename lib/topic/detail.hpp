// Private building blocks of the topic index: a fast string hash, paged storage
// with bounded slack, and the per-thread-slot reader/writer gate.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string_view>
#include <thread>
#include <type_traits>
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

/// Zeroed memory for the index's large tables. Blocks of 2 MiB and more are
/// 2 MiB-aligned and advised to use transparent huge pages: a lookup at a million
/// subscriptions touches tens of random cache lines, and on 4 KiB pages each of
/// them also costs a TLB miss (a two-dimensional page walk in a virtual machine).
class block {
 public:
  static constexpr std::size_t huge = std::size_t{2} << 20;

  block() = default;
  explicit block(std::size_t bytes) {
    const std::size_t align = bytes >= huge ? huge : 64;
    bytes_ = (bytes + align - 1) / align * align;
    p_.reset(static_cast<char*>(std::aligned_alloc(align, bytes_)));
    if (!p_) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (align == huge) ::madvise(p_.get(), bytes_, MADV_HUGEPAGE);
#endif
    std::memset(p_.get(), 0, bytes_);
  }
  char* data() const noexcept { return p_.get(); }
  std::size_t size() const noexcept { return bytes_; }

 private:
  struct deleter {
    void operator()(char* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<char, deleter> p_;
  std::size_t bytes_ = 0;
};

/// A growable array of trivial elements in pages of 4096: stable addresses, no
/// copy on growth. Pages are carved from blocks that double up to 2 MiB (huge
/// pages), so a small array stays small.
template <class T>
class paged_vector {
 public:
  static_assert(std::is_trivially_copyable_v<T>);
  static constexpr std::uint32_t shift = 12;
  static constexpr std::uint32_t page = 1u << shift;
  static constexpr std::size_t page_bytes = page * sizeof(T);
  static constexpr std::size_t max_block_pages =
      block::huge / page_bytes > 0 ? block::huge / page_bytes : 1;

  T& operator[](std::uint32_t i) noexcept { return pages_[i >> shift][i & (page - 1)]; }
  const T& operator[](std::uint32_t i) const noexcept { return pages_[i >> shift][i & (page - 1)]; }

  /// Appends a value-initialised element and returns its index.
  std::uint32_t push() {
    if ((size_ >> shift) == pages_.size()) add_page();
    (*this)[size_] = T{};
    return size_++;
  }
  std::uint32_t size() const noexcept { return size_; }
  void clear() noexcept {
    pages_.clear();
    blocks_.clear();
    left_ = 0;
    size_ = 0;
  }
  std::size_t bytes() const noexcept {
    std::size_t b = pages_.capacity() * sizeof(T*) + blocks_.capacity() * sizeof(block);
    for (const block& x : blocks_) b += x.size();
    return b;
  }

 private:
  void add_page() {
    if (left_ == 0) {
      const std::size_t n = std::min(max_block_pages, std::max<std::size_t>(1, pages_.size()));
      blocks_.emplace_back(n * page_bytes);
      next_ = blocks_.back().data();
      left_ = n;
    }
    pages_.push_back(reinterpret_cast<T*>(next_));
    next_ += page_bytes;
    --left_;
  }

  std::vector<T*> pages_;
  std::vector<block> blocks_;
  char* next_ = nullptr;
  std::size_t left_ = 0;
  std::uint32_t size_ = 0;
};

/// An index into `items` to (re)use: the last one freed, or a new element.
template <class T>
std::uint32_t take(std::vector<std::uint32_t>& freed, std::vector<T>& items) {
  if (freed.empty()) {
    items.emplace_back();
    return static_cast<std::uint32_t>(items.size() - 1);
  }
  const std::uint32_t i = freed.back();
  freed.pop_back();
  return i;
}

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
