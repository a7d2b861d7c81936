// UTF-8 validation as MQTT (section 1.5.4) and JSON need it: well-formed
// sequences only, no overlong forms, no surrogates (U+D800..U+DFFF), nothing
// above U+10FFFF, and optionally no U+0000.
//
//   iotblocks::utf8_check("caf\xC3\xA9") == iotblocks::utf8_ok
#pragma once

#include <cstddef>
#include <string_view>

namespace iotblocks {

inline constexpr std::size_t utf8_ok = static_cast<std::size_t>(-1);

/// The offset of the first byte that is not valid UTF-8, or `utf8_ok`.
/// With `allow_nul` false, U+0000 counts as invalid.
std::size_t utf8_check(std::string_view s, bool allow_nul = true) noexcept;

inline bool is_valid_utf8(std::string_view s, bool allow_nul = true) noexcept {
  return utf8_check(s, allow_nul) == utf8_ok;
}

}  // namespace iotblocks
