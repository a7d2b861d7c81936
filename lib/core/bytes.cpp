#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/error.hpp>

#include <array>
#include <cstdint>

namespace iotblocks {
namespace {

constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Hex digit values; 0x10 marks a byte that is not a hex digit.
constexpr std::array<std::uint8_t, 256> make_nibble_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = 0x10;
  for (int c = 0; c < 256; ++c) {
    if (const int v = hex_digit_value(static_cast<char>(c)); v >= 0) {
      t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(v);
    }
  }
  return t;
}
constexpr auto nibbles = make_nibble_table();

// The value of the two hex digits at `p`, or -1.
int hex_pair(const char* p) noexcept {
  const int hi = hex_digit_value(p[0]);
  const int lo = hex_digit_value(p[1]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

constexpr std::array<std::int8_t, 256> make_b64_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(b64_alphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto b64_table = make_b64_table();

}  // namespace

std::string to_hex(bytes_view b) {
  std::string out(b.size() * 2, '\0');
  for (std::size_t i = 0; i < b.size(); ++i) {
    const auto v = std::to_integer<unsigned>(b[i]);
    out[2 * i] = hex_digit(v >> 4);
    out[2 * i + 1] = hex_digit(v);
  }
  return out;
}

result<byte_buffer> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return {core::error::invalid_hex, "odd number of hex digits", at_offset(hex.size())};
  }
  byte_buffer out(hex.size() / 2);
  if (!decode_hex(hex, out)) {
    std::size_t i = 0;
    while (hex_digit_value(hex[i]) >= 0) ++i;
    return {core::error::invalid_hex, "not a hex digit", at_offset(i)};
  }
  return out;
}

bool decode_hex(std::string_view hex, mutable_bytes_view out) noexcept {
  if (hex.size() != out.size() * 2) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(hex.data());
  unsigned bad = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const unsigned hi = nibbles[p[2 * i]];
    const unsigned lo = nibbles[p[2 * i + 1]];
    bad |= hi | lo;
    out[i] = static_cast<std::byte>((hi << 4 | lo) & 0xFF);
  }
  return (bad & 0x10) == 0;
}

std::string to_base64(bytes_view b) {
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    const auto v = (std::to_integer<std::uint32_t>(b[i]) << 16) |
                   (std::to_integer<std::uint32_t>(b[i + 1]) << 8) |
                   std::to_integer<std::uint32_t>(b[i + 2]);
    out += b64_alphabet[(v >> 18) & 63];
    out += b64_alphabet[(v >> 12) & 63];
    out += b64_alphabet[(v >> 6) & 63];
    out += b64_alphabet[v & 63];
  }
  if (const std::size_t rest = b.size() - i; rest > 0) {
    auto v = std::to_integer<std::uint32_t>(b[i]) << 16;
    if (rest == 2) v |= std::to_integer<std::uint32_t>(b[i + 1]) << 8;
    out += b64_alphabet[(v >> 18) & 63];
    out += b64_alphabet[(v >> 12) & 63];
    out += rest == 2 ? b64_alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

result<byte_buffer> from_base64(std::string_view text) {
  std::size_t len = text.size();
  std::size_t pad = 0;
  while (len > 0 && text[len - 1] == '=' && pad < 2) {
    --len;
    ++pad;
  }
  for (std::size_t i = 0; i < len; ++i) {
    if (b64_table[static_cast<unsigned char>(text[i])] < 0) {
      return {core::error::invalid_base64, "not a base64 character", at_offset(i)};
    }
  }
  if (len % 4 == 1 || (pad != 0 && (len + pad) % 4 != 0)) {
    return {core::error::invalid_base64, "truncated base64 or bad padding", at_offset(len)};
  }
  byte_buffer out;
  out.reserve(len / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const auto v = b64_table[static_cast<unsigned char>(text[i])];
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::byte>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

result<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int v = i + 2 < s.size() ? hex_pair(s.data() + i + 1) : -1;
    if (v < 0) {
      return {core::error::invalid_percent_encoding, "'%' not followed by two hex digits",
              at_offset(i)};
    }
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

std::string percent_decode_lenient(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const int v = s[i] == '%' && i + 2 < s.size() ? hex_pair(s.data() + i + 1) : -1;
    if (v < 0) {
      out.push_back(s[i]);
      continue;
    }
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

}  // namespace iotblocks
