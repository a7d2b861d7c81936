// Private: the mixing step of keyed_store's series-name hash (wyhash-style): the
// 64 x 64-bit product's low and high halves, xor-ed. CPUs without 128-bit integers
// (32-bit Arm) take the portable form; both give the same value, so a store's
// layout does not depend on the CPU.
#pragma once

#include <cstdint>

namespace iotblocks::anomaly::detail {

/// a * b's low and high 64 bits xor-ed, from four 32 x 32-bit products.
inline std::uint64_t mix_portable(std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t a_lo = a & 0xFFFFFFFFu, a_hi = a >> 32;
  const std::uint64_t b_lo = b & 0xFFFFFFFFu, b_hi = b >> 32;
  const std::uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
  const std::uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu);
  const std::uint64_t lo = (ll & 0xFFFFFFFFu) | (mid << 32);
  const std::uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
  return lo ^ hi;
}

#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 u128;

/// a * b's low and high 64 bits xor-ed.
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) noexcept {
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
#else
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) noexcept { return mix_portable(a, b); }
#endif

}  // namespace iotblocks::anomaly::detail
