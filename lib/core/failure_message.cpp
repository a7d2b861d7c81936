#include <iotblocks/core/failure_message.hpp>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <new>

namespace iotblocks {
namespace {
constexpr std::string_view ellipsis = "...";

// A heap text: its owners' count, then the text (static_.data points past the count).
struct heap_text {
  std::atomic<std::uint32_t> owners;
};

heap_text* header_of(const char* text) noexcept {
  return reinterpret_cast<heap_text*>(const_cast<char*>(text)) - 1;
}
}  // namespace

void failure_message::assign(std::string_view text) noexcept {
  start();
  append(text);
  finish();
}

// A std::string's text: inline when it fits, else whole on the heap (cut inline
// if the heap is exhausted).
void failure_message::assign_whole(std::string_view text) noexcept {
  if (text.size() > capacity) {
    if (void* block = std::malloc(sizeof(heap_text) + text.size())) {
      auto* heap = new (block) heap_text{1};
      char* copy = reinterpret_cast<char*>(heap + 1);
      std::memcpy(copy, text.data(), text.size());
      static_ = {copy, text.size()};
      kind_ = kind::allocated;
      truncated_ = false;
      size_ = 0;
      return;
    }
  }
  assign(text);
}

void failure_message::share_allocated() noexcept {
  header_of(static_.data)->owners.fetch_add(1, std::memory_order_relaxed);
}

void failure_message::free_allocated() noexcept {
  heap_text* heap = header_of(static_.data);
  if (heap->owners.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    heap->~heap_text();
    std::free(heap);
  }
  static_ = {nullptr, 0};
  kind_ = kind::literal;
}

void failure_message::start() noexcept {
  kind_ = kind::inline_text;
  truncated_ = false;
  size_ = 0;
}

void failure_message::append(std::string_view text) noexcept {
  const std::size_t room = capacity - size_;
  const std::size_t n = text.size() < room ? text.size() : room;
  if (n != 0) std::memcpy(text_ + size_, text.data(), n);
  size_ = static_cast<std::uint8_t>(size_ + n);
  if (n < text.size()) truncated_ = true;
}

void failure_message::append_signed(long long v) noexcept {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, v);
  append({digits, static_cast<std::size_t>(r.ptr - digits)});
}

void failure_message::append_unsigned(unsigned long long v) noexcept {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, v);
  append({digits, static_cast<std::size_t>(r.ptr - digits)});
}

// A cut text ends with "...", after the last whole UTF-8 character that fits.
void failure_message::finish() noexcept {
  if (!truncated_) return;
  std::size_t keep = capacity - ellipsis.size();
  while (keep > 0 && (static_cast<unsigned char>(text_[keep]) & 0xC0) == 0x80) --keep;
  std::memcpy(text_ + keep, ellipsis.data(), ellipsis.size());
  size_ = static_cast<std::uint8_t>(keep + ellipsis.size());
}

}  // namespace iotblocks
