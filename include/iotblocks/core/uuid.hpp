// RFC 4122 version 4 UUIDs from 128 random bits, as 36 characters.
//
//   char id[36];
//   iotblocks::format_uuid4(rng(), rng(), id);   // e.g. "3f2a...-4...-8...-..."
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>

#include <cstdint>

IOTBLOCKS_API_BEGIN

namespace iotblocks {

/// Writes the version 4 UUID made of `hi` and `lo` (their version and variant
/// bits are overwritten) to `out`, lower-case hex with dashes: 36 characters.
inline void format_uuid4(std::uint64_t hi, std::uint64_t lo, char* out) noexcept {
  hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);  // RFC 4122 variant
  std::size_t k = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[k++] = '-';
    const std::uint64_t word = i < 16 ? hi : lo;
    const int shift = 60 - 4 * (i % 16);
    out[k++] = hex_digit(static_cast<unsigned>(word >> shift));
  }
}

}  // namespace iotblocks

IOTBLOCKS_API_END
