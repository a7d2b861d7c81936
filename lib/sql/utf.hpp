// Private: UTF-8 helpers with Java's UTF-16 indexing (length, indexof, substring,
// get on strings count UTF-16 code units as AWS's Java engine does).
#pragma once

#include <cstddef>
#include <string_view>

namespace iotblocks::sql::detail {

inline std::size_t utf8_len(unsigned char lead) noexcept {
  return lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

/// Length in UTF-16 code units.
inline std::size_t utf16_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t l = utf8_len(static_cast<unsigned char>(s[i]));
    n += l == 4 ? 2 : 1;
    i += l;
  }
  return n;
}

/// Byte offset of UTF-16 index `u` (clamped to the end); an index inside a
/// surrogate pair maps to the start of that character.
inline std::size_t utf16_to_byte(std::string_view s, std::size_t u) noexcept {
  std::size_t i = 0, k = 0;
  while (i < s.size()) {
    const std::size_t l = utf8_len(static_cast<unsigned char>(s[i]));
    const std::size_t w = l == 4 ? 2 : 1;
    if (k + w > u) return i;
    k += w;
    i += l;
  }
  return s.size();
}

/// UTF-16 index of byte offset `b`.
inline std::size_t byte_to_utf16(std::string_view s, std::size_t b) noexcept {
  std::size_t i = 0, k = 0;
  while (i < b && i < s.size()) {
    const std::size_t l = utf8_len(static_cast<unsigned char>(s[i]));
    k += l == 4 ? 2 : 1;
    i += l;
  }
  return k;
}

/// The character at UTF-16 index `u`: bytes [b, e).
inline bool utf16_char_at(std::string_view s, std::size_t u, std::size_t& b, std::size_t& e) {
  if (u >= utf16_length(s)) return false;
  b = utf16_to_byte(s, u);
  e = b + utf8_len(static_cast<unsigned char>(s[b]));
  if (e > s.size()) e = s.size();
  return true;
}

}  // namespace iotblocks::sql::detail
