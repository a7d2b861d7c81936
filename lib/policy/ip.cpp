#include "policy/ip.hpp"

#include <iotblocks/core/bytes.hpp>

#include <cstddef>

namespace iotblocks::policy::detail {
namespace {

std::optional<std::array<std::uint8_t, 4>> parse_v4(std::string_view s) noexcept {
  std::array<std::uint8_t, 4> out{};
  std::size_t part = 0;
  std::size_t i = 0;
  while (true) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return std::nullopt;
    unsigned v = 0;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
      if (v > 255 || i - start >= 3) return std::nullopt;
      ++i;
    }
    if (i - start > 1 && s[start] == '0') return std::nullopt;  // no octal-looking parts
    out[part++] = static_cast<std::uint8_t>(v);
    if (part == 4) return i == s.size() ? std::optional{out} : std::nullopt;
    if (i >= s.size() || s[i] != '.') return std::nullopt;
    ++i;
  }
}

std::optional<std::array<std::uint8_t, 16>> parse_v6(std::string_view s) noexcept {
  std::array<std::uint16_t, 8> groups{};
  std::size_t count = 0;
  std::ptrdiff_t gap = -1;  // group index where "::" stands
  std::size_t i = 0;
  if (s.starts_with("::")) {
    gap = 0;
    i = 2;
    if (i == s.size()) return std::array<std::uint8_t, 16>{};
  } else if (s.starts_with(":")) {
    return std::nullopt;
  }
  while (i < s.size()) {
    if (count == 8) return std::nullopt;
    // A dotted IPv4 tail takes two groups.
    const std::string_view rest = s.substr(i);
    const auto next_colon = rest.find(':');
    if (next_colon == std::string_view::npos && rest.find('.') != std::string_view::npos) {
      auto v4 = parse_v4(rest);
      if (!v4 || count > 6) return std::nullopt;
      groups[count++] = static_cast<std::uint16_t>(((*v4)[0] << 8) | (*v4)[1]);
      groups[count++] = static_cast<std::uint16_t>(((*v4)[2] << 8) | (*v4)[3]);
      i = s.size();
      break;
    }
    unsigned v = 0;
    std::size_t digits = 0;
    while (i < s.size() && hex_digit_value(s[i]) >= 0) {
      if (++digits > 4) return std::nullopt;
      v = (v << 4) | static_cast<unsigned>(hex_digit_value(s[i]));
      ++i;
    }
    if (digits == 0) return std::nullopt;
    groups[count++] = static_cast<std::uint16_t>(v);
    if (i == s.size()) break;
    if (s[i] != ':') return std::nullopt;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (gap >= 0) return std::nullopt;
      gap = static_cast<std::ptrdiff_t>(count);
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return std::nullopt;  // trailing single ':'
    }
  }
  if (gap < 0 && count != 8) return std::nullopt;
  if (gap >= 0 && count > 7) return std::nullopt;
  std::array<std::uint16_t, 8> full{};
  if (gap >= 0) {
    const auto g = static_cast<std::size_t>(gap);
    for (std::size_t k = 0; k < g; ++k) full[k] = groups[k];
    const std::size_t tail = count - g;
    for (std::size_t k = 0; k < tail; ++k) full[8 - tail + k] = groups[g + k];
  } else {
    full = groups;
  }
  std::array<std::uint8_t, 16> out{};
  for (std::size_t k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<std::uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<std::uint8_t>(full[k] & 0xFF);
  }
  return out;
}

}  // namespace

std::optional<ip_address> parse_ip(std::string_view text) noexcept {
  if (text.size() > 45) return std::nullopt;
  ip_address a;
  if (text.find(':') == std::string_view::npos) {
    auto v4 = parse_v4(text);
    if (!v4) return std::nullopt;
    for (std::size_t k = 0; k < 4; ++k) a.bytes[k] = (*v4)[k];
    return a;
  }
  auto v6 = parse_v6(text);
  if (!v6) return std::nullopt;
  bool mapped = (*v6)[10] == 0xFF && (*v6)[11] == 0xFF;
  for (std::size_t k = 0; k < 10 && mapped; ++k) mapped = (*v6)[k] == 0;
  if (mapped) {
    for (std::size_t k = 0; k < 4; ++k) a.bytes[k] = (*v6)[12 + k];
    return a;
  }
  a.v6 = true;
  a.bytes = *v6;
  return a;
}

std::optional<cidr> parse_cidr(std::string_view text) noexcept {
  const auto slash = text.find('/');
  auto a = parse_ip(text.substr(0, slash));
  if (!a) return std::nullopt;
  cidr c{*a, static_cast<std::uint8_t>(a->v6 ? 128 : 32)};
  if (slash == std::string_view::npos) return c;
  const std::string_view len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3 || (len.size() > 1 && len[0] == '0')) return std::nullopt;
  unsigned n = 0;
  for (char ch : len) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(ch - '0');
  }
  if (n > c.prefix) return std::nullopt;
  c.prefix = static_cast<std::uint8_t>(n);
  return c;
}

bool contains(const cidr& block, const ip_address& a) noexcept {
  if (block.net.v6 != a.v6) return false;
  std::size_t bits = block.prefix;
  for (std::size_t k = 0; bits > 0; ++k) {
    const unsigned take = bits >= 8 ? 8u : static_cast<unsigned>(bits);
    const auto mask = static_cast<std::uint8_t>(0xFF00u >> take);
    if ((block.net.bytes[k] & mask) != (a.bytes[k] & mask)) return false;
    bits -= take;
  }
  return true;
}

}  // namespace iotblocks::policy::detail
