// Byte spans and the small conversions every component needs: views between
// text and bytes, big-endian integers, hex, base64 and percent-encoding.
//
//   iotblocks::bytes_view b = iotblocks::as_bytes(std::string_view{"abc"});
//   std::string hex = iotblocks::to_hex(b);                     // "616263"
//   std::string name = iotblocks::percent_decode("a%2Fb").value();  // "a/b"
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks {

using bytes_view = std::span<const std::byte>;
using mutable_bytes_view = std::span<std::byte>;
using byte_buffer = std::vector<std::byte>;

/// Views the characters of `s` as bytes (no copy).
inline bytes_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// Views bytes as characters (no copy).
inline std::string_view as_string_view(bytes_view b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Copies bytes into an owning buffer.
inline byte_buffer to_buffer(bytes_view b) { return {b.begin(), b.end()}; }
inline byte_buffer to_buffer(std::string_view s) { return to_buffer(as_bytes(s)); }

/// Big-endian loads and stores. Preconditions: enough bytes at `p`.
inline std::uint16_t load_be16(const std::byte* p) noexcept {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                    std::to_integer<unsigned>(p[1]));
}
inline std::uint32_t load_be32(const std::byte* p) noexcept {
  return (std::to_integer<std::uint32_t>(p[0]) << 24) |
         (std::to_integer<std::uint32_t>(p[1]) << 16) |
         (std::to_integer<std::uint32_t>(p[2]) << 8) | std::to_integer<std::uint32_t>(p[3]);
}
inline void store_be16(std::byte* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}
inline void store_be32(std::byte* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 24);
  p[1] = static_cast<std::byte>(v >> 16);
  p[2] = static_cast<std::byte>(v >> 8);
  p[3] = static_cast<std::byte>(v);
}

/// The value of the hex digit `c` (0-9, a-f, A-F), or -1.
constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
/// The lowercase hex digit of the low four bits of `v`.
constexpr char hex_digit(unsigned v) noexcept { return "0123456789abcdef"[v & 0xF]; }

/// Lowercase hex of `b`.
std::string to_hex(bytes_view b);
/// Bytes of a hex string (either case); core::error::invalid_hex with the offset otherwise.
result<byte_buffer> from_hex(std::string_view hex);
/// Decodes `hex` (either case) into `out`, which must hold exactly hex.size() / 2
/// bytes: false on any other size or on a non-hex digit (`out` is then unspecified).
/// No allocation, and no branch per digit (random digits, such as those of an id,
/// would defeat the branch predictor).
bool decode_hex(std::string_view hex, mutable_bytes_view out) noexcept;

/// Standard base64 (RFC 4648 section 4) with padding.
std::string to_base64(bytes_view b);
/// Decodes standard base64; padding optional, whitespace rejected.
result<byte_buffer> from_base64(std::string_view text);

/// Percent-decodes `s` (RFC 3986 section 2.1, either case; '+' stays '+'):
/// core::error::invalid_percent_encoding at the offset of a '%' that is not followed
/// by two hex digits.
result<std::string> percent_decode(std::string_view s);
/// Percent-decodes `s`, keeping a '%' that is not followed by two hex digits as it is
/// (the WHATWG URL standard's percent-decode); '+' stays '+'.
std::string percent_decode_lenient(std::string_view s);

}  // namespace iotblocks

IOTBLOCKS_API_END
