// Private: memory of the topic index: zeroed huge-page-backed blocks, a paged
// array with stable addresses, and reuse of freed slots.
#pragma once

#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace iotblocks::topic::detail {

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
#if !defined(__GLIBCXX__) || defined(_GLIBCXX_HAVE_ALIGNED_ALLOC)
    p_.reset(static_cast<char*>(std::aligned_alloc(align, bytes_)));
#else  // libstdc++ over newlib (bare metal): C11's aligned_alloc, freed by free()
    p_.reset(static_cast<char*>(::aligned_alloc(align, bytes_)));
#endif
    if (!p_) {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
      throw std::bad_alloc();
#else
      std::abort();
#endif
    }
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

}  // namespace iotblocks::topic::detail
