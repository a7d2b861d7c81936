// Private: the MQTT data representations (section 1.5) shared by the decoder
// and the encoder. Readers never read past `end`.
#pragma once

#include <iotblocks/core/bytes.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace iotblocks::mqtt::wire {

inline constexpr std::uint32_t max_variable_integer = 268'435'455;
inline constexpr std::size_t max_string = 65535;

inline constexpr std::size_t variable_integer_size(std::uint32_t v) noexcept {
  return v < 128u ? 1 : v < 16'384u ? 2 : v < 2'097'152u ? 3 : 4;
}

/// Writes `v` (<= max_variable_integer) and returns the end.
inline std::byte* put_variable_integer(std::byte* p, std::uint32_t v) noexcept {
  do {
    std::uint8_t b = static_cast<std::uint8_t>(v & 0x7F);
    v >>= 7;
    if (v != 0) b |= 0x80;
    *p++ = static_cast<std::byte>(b);
  } while (v != 0);
  return p;
}

enum class status : std::uint8_t { ok, incomplete, invalid };

/// Reads a variable byte integer from [p, p + n): invalid if it takes more than
/// four bytes or more bytes than its value needs (MQTT-1.5.5-1).
inline status read_variable_integer(const std::byte* p, std::size_t n, std::uint32_t& value,
                                    std::size_t& used) noexcept {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i >= n) return status::incomplete;
    const auto b = std::to_integer<std::uint32_t>(p[i]);
    v |= (b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      if (i > 0 && b == 0) return status::invalid;  // a trailing zero group: not minimal
      value = v;
      used = i + 1;
      return status::ok;
    }
  }
  return status::invalid;
}

/// A bounds-checked cursor over a packet body.
struct reader {
  const std::byte* data;
  std::size_t pos;
  std::size_t end;

  std::size_t left() const noexcept { return end - pos; }
  bool at_end() const noexcept { return pos == end; }

  bool u8(std::uint8_t& v) noexcept {
    if (pos >= end) return false;
    v = std::to_integer<std::uint8_t>(data[pos++]);
    return true;
  }
  bool u16(std::uint16_t& v) noexcept {
    if (left() < 2) return false;
    v = load_be16(data + pos);
    pos += 2;
    return true;
  }
  bool u32(std::uint32_t& v) noexcept {
    if (left() < 4) return false;
    v = load_be32(data + pos);
    pos += 4;
    return true;
  }
  bool bytes(std::size_t n, bytes_view& out) noexcept {
    if (left() < n) return false;
    out = {data + pos, n};
    pos += n;
    return true;
  }
  /// Two-byte length, then that many bytes.
  bool binary(bytes_view& out) noexcept {
    std::uint16_t n;
    if (left() < 2) return false;
    n = load_be16(data + pos);
    if (left() - 2 < n) return false;
    out = {data + pos + 2, n};
    pos += 2u + n;
    return true;
  }
  bool string(std::string_view& out) noexcept {
    bytes_view b;
    if (!binary(b)) return false;
    out = as_string_view(b);
    return true;
  }
  status variable_integer(std::uint32_t& v) noexcept {
    std::size_t used = 0;
    const status s = read_variable_integer(data + pos, left(), v, used);
    if (s == status::ok) pos += used;
    return s;
  }
};

/// An unchecked output cursor; callers size the buffer first.
struct writer {
  std::byte* p;

  void u8(std::uint8_t v) noexcept { *p++ = static_cast<std::byte>(v); }
  void u16(std::uint16_t v) noexcept {
    store_be16(p, v);
    p += 2;
  }
  void u32(std::uint32_t v) noexcept {
    store_be32(p, v);
    p += 4;
  }
  void variable_integer(std::uint32_t v) noexcept { p = put_variable_integer(p, v); }
  void raw(bytes_view b) noexcept {
    if (!b.empty()) std::memcpy(p, b.data(), b.size());
    p += b.size();
  }
  void raw(std::string_view s) noexcept { raw(as_bytes(s)); }
  void binary(bytes_view b) noexcept {
    u16(static_cast<std::uint16_t>(b.size()));
    raw(b);
  }
  void string(std::string_view s) noexcept { binary(as_bytes(s)); }
};

}  // namespace iotblocks::mqtt::wire
