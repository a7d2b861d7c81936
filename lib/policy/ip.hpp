// Private: IPv4/IPv6 addresses and CIDR blocks for the IpAddress operators.
// Written here rather than with inet_pton so that firmware without a socket
// layer links it; tests compare against inet_pton.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace iotblocks::policy::detail {

struct ip_address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first four
};

struct cidr {
  ip_address net;
  std::uint8_t prefix = 32;
};

/// Dotted IPv4 (four decimal parts, no leading zeros beyond "0") or RFC 4291
/// IPv6 text (with "::" and a trailing dotted IPv4); an IPv4-mapped IPv6
/// address (::ffff:a.b.c.d) becomes the IPv4 address.
std::optional<ip_address> parse_ip(std::string_view text) noexcept;

/// "addr" or "addr/len" (len <= 32 or 128). Host bits are ignored.
std::optional<cidr> parse_cidr(std::string_view text) noexcept;

bool contains(const cidr& block, const ip_address& a) noexcept;

}  // namespace iotblocks::policy::detail
