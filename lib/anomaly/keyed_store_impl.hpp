// Private: the data structure behind keyed_store (see keyed_store.cpp), shared
// with the snapshot and SQLite code.
#pragma once

#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/keyed_store.hpp>
#include <iotblocks/anomaly/pewma.hpp>
#include <iotblocks/core/result.hpp>  // IOTBLOCKS_EXCEPTIONS

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace iotblocks::anomaly::detail {

/// madvise(MADV_HUGEPAGE) where available; a hint, failures are ignored.
void advise_huge(void* p, std::size_t bytes) noexcept;

/// Allocator for the big tables: blocks of 2 MiB or more are 2 MiB-aligned and, on
/// Linux, marked for transparent huge pages, so random lookups over millions of
/// series do not also miss the TLB on every access.
template <class T>
struct big_allocator {
  using value_type = T;
  static constexpr std::size_t huge = std::size_t{2} << 20;
  big_allocator() = default;
  template <class U>
  big_allocator(const big_allocator<U>&) noexcept {}  // NOLINT
  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < huge) return std::allocator<T>{}.allocate(n);
    const std::size_t rounded = (bytes + huge - 1) / huge * huge;
    void* p = std::aligned_alloc(huge, rounded);
    if (p == nullptr) {
#if IOTBLOCKS_EXCEPTIONS
      throw std::bad_alloc{};
#else
      std::abort();  // what std::allocator does without exceptions
#endif
    }
    advise_huge(p, rounded);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < huge) {
      std::allocator<T>{}.deallocate(p, n);
    } else {
      std::free(p);
    }
  }
  friend bool operator==(const big_allocator&, const big_allocator&) noexcept { return true; }
};

/// a[0, n) == b[0, n), inline for the short keys of typical devices.
inline bool bytes_equal(const char* a, const char* b, std::size_t n) noexcept {
  auto load8 = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  if (n >= 8 && n <= 16) {
    return ((load8(a) ^ load8(b)) | (load8(a + n - 8) ^ load8(b + n - 8))) == 0;
  }
  return std::memcmp(a, b, n) == 0;
}

struct store_core {
  static constexpr std::uint64_t dirty_flag = std::uint64_t{1} << 32;
  static constexpr std::uint64_t erased_flag = std::uint64_t{1} << 33;

  struct slot {
    std::uint32_t tag = 0;
    std::uint32_t offset = 0;  // word offset + 1; 0: empty
  };

  explicit store_core(std::shared_ptr<const detector> m);

  std::shared_ptr<const detector> model;
  const pewma* pewma_model;  // model when it is PEWMA: called directly, not virtually
  std::size_t state_words;
  std::uint64_t seed;
  std::vector<std::uint64_t, big_allocator<std::uint64_t>> arena;
  std::vector<slot, big_allocator<slot>> slots;
  std::size_t live = 0, garbage = 0;
  std::uint64_t epoch = 0;  // bumped whenever record offsets or the slot count change
  std::size_t max_series = 16'777'216;
  std::size_t max_key_length = 256;
  std::vector<std::pair<std::string, std::string>> erased;  // since the last save
  std::uint64_t db_owner = 0;  // owner id written to / read from the SQLite file
  std::string db_path;         // the file it belongs to

  std::uint64_t hash(std::string_view key, std::string_view field) const noexcept;
  std::size_t record_words(std::size_t key_len, std::size_t field_len) const noexcept;
  std::error_code check_key(std::string_view key, std::string_view field) const noexcept;
  bool matches(const std::uint64_t* r, std::uint64_t h, std::string_view key,
               std::string_view field) const noexcept {
    if (r[0] != h || (r[1] & 0xFFFFFFFF) != (key.size() | (field.size() << 16))) return false;
    const char* k = reinterpret_cast<const char*>(r + 2 + state_words);
    return bytes_equal(k, key.data(), key.size()) &&
           bytes_equal(k + key.size(), field.data(), field.size());
  }
  bool matches(std::uint32_t off, std::uint64_t h, std::string_view key,
               std::string_view field) const noexcept {
    return matches(arena.data() + off, h, key, field);
  }
  std::size_t find_slot(std::uint64_t h, std::string_view key, std::string_view field,
                        bool& found) const noexcept;
  std::uint64_t* find_or_insert(std::string_view key, std::string_view field, std::error_code& ec);
  std::uint64_t* find_or_insert(std::uint64_t h, std::string_view key, std::string_view field,
                                std::error_code& ec);
  bool lengths_ok(std::string_view key, std::string_view field) const noexcept {
    return !key.empty() && !field.empty() && key.size() <= max_key_length &&
           field.size() <= max_key_length;
  }
  const std::uint64_t* find(std::string_view key, std::string_view field) const noexcept;
  std::uint64_t* insert(std::size_t slot_index, std::uint64_t h, std::string_view key,
                        std::string_view field);
  bool erase(std::string_view key, std::string_view field);
  void grow();
  void compact();
  void clear();
  std::string_view record_key(const std::uint64_t* r) const noexcept;
  std::string_view record_field(const std::uint64_t* r) const noexcept;

  template <class F>
  void for_each_record(F&& f) const {
    for (std::size_t off = 0; off < arena.size();) {
      const std::uint64_t* r = arena.data() + off;
      off += record_words(r[1] & 0xFFFF, (r[1] >> 16) & 0xFFFF);
      if ((r[1] & erased_flag) == 0) f(r);
    }
  }
  template <class F>
  void for_each_record_mut(F&& f) {
    for (std::size_t off = 0; off < arena.size();) {
      std::uint64_t* r = arena.data() + off;
      off += record_words(r[1] & 0xFFFF, (r[1] >> 16) & 0xFFFF);
      if ((r[1] & erased_flag) == 0) f(r);
    }
  }
};

}  // namespace iotblocks::anomaly::detail

namespace iotblocks::anomaly {
struct keyed_store::impl : detail::store_core {
  using store_core::store_core;
};
}  // namespace iotblocks::anomaly
