#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/error.hpp>

#include <array>

namespace iotblocks {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";
constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
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
    out[2 * i] = hex_digits[v >> 4];
    out[2 * i + 1] = hex_digits[v & 0xF];
  }
  return out;
}

result<byte_buffer> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return {core::error::invalid_hex, "odd number of hex digits", at_offset(hex.size())};
  }
  byte_buffer out(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_value(hex[i]);
    const int lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return {core::error::invalid_hex, "not a hex digit", at_offset(hi < 0 ? i : i + 1)};
    }
    out[i / 2] = static_cast<std::byte>((hi << 4) | lo);
  }
  return out;
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

}  // namespace iotblocks
