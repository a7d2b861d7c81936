#include <iotblocks/core/failure_message.hpp>

#include <charconv>
#include <cstring>

namespace iotblocks {
namespace {
constexpr std::string_view ellipsis = "...";
}  // namespace

void failure_message::assign(std::string_view text) noexcept {
  start();
  append(text);
  finish();
}

void failure_message::start() noexcept {
  is_static_ = false;
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
