// Byte spans and the small conversions every component needs: views between
// text and bytes, big-endian integers, hex and base64.
//
//   iotblocks::bytes_view b = iotblocks::as_bytes(std::string_view{"abc"});
//   std::string hex = iotblocks::to_hex(b);   // "616263"
#pragma once

#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

/// Lowercase hex of `b`.
std::string to_hex(bytes_view b);
/// Bytes of a hex string (either case); core::error::invalid_hex with the offset otherwise.
result<byte_buffer> from_hex(std::string_view hex);

/// Standard base64 (RFC 4648 section 4) with padding.
std::string to_base64(bytes_view b);
/// Decodes standard base64; padding optional, whitespace rejected.
result<byte_buffer> from_base64(std::string_view text);

}  // namespace iotblocks
