// UTF-8 validation as MQTT (section 1.5.4) and JSON need it: well-formed
// sequences only, no overlong forms, no surrogates (U+D800..U+DFFF), nothing
// above U+10FFFF, and optionally no U+0000; and the encoding of one code point.
//
//   iotblocks::utf8_check("caf\xC3\xA9") == iotblocks::utf8_ok
//   std::string s;
//   iotblocks::append_utf8(s, U'\u00E9');   // "\xC3\xA9"
#pragma once

#include <iotblocks/core/export.hpp>

#include <cstddef>
#include <string>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks {

inline constexpr std::size_t utf8_ok = static_cast<std::size_t>(-1);

/// The offset of the first byte that is not valid UTF-8, or `utf8_ok`.
/// With `allow_nul` false, U+0000 counts as invalid.
std::size_t utf8_check(std::string_view s, bool allow_nul = true) noexcept;

inline bool is_valid_utf8(std::string_view s, bool allow_nul = true) noexcept {
  return utf8_check(s, allow_nul) == utf8_ok;
}

/// The longest UTF-8 encoding of one code point, in bytes.
inline constexpr std::size_t utf8_max_bytes = 4;

/// Writes the UTF-8 encoding of `cp` at `out` (room for utf8_max_bytes) and returns
/// its length. Surrogates (U+D800..U+DFFF) and values above U+10FFFF, which UTF-8
/// cannot carry, are written as U+FFFD, so the output is always valid UTF-8.
inline std::size_t encode_utf8(char32_t cp, char* out) noexcept {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

/// Appends the UTF-8 encoding of `cp` to `out` (as encode_utf8: U+FFFD for a
/// surrogate or a value above U+10FFFF).
inline void append_utf8(std::string& out, char32_t cp) {
  char buf[utf8_max_bytes];
  out.append(buf, encode_utf8(cp, buf));
}

}  // namespace iotblocks

IOTBLOCKS_API_END
