// keyed_store's hash mixing: the portable form (32-bit CPUs) gives what the 128-bit
// product gives, so a series hashes alike on every CPU.
#include "anomaly/hash_mix.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace detail = iotblocks::anomaly::detail;

// The high half of a * b by schoolbook long multiplication, one bit at a time.
static std::uint64_t high_half(std::uint64_t a, std::uint64_t b) {
  std::uint64_t hi = 0, lo = 0;
  for (int bit = 63; bit >= 0; --bit) {
    hi = (hi << 1) | (lo >> 63);
    lo <<= 1;
    if ((b >> bit) & 1u) {
      const std::uint64_t before = lo;
      lo += a;
      hi += lo < before ? 1u : 0u;
    }
  }
  return hi;
}

TEST(HashMix, PortableFormIsLowXorHighOfTheProduct) {
  std::mt19937_64 rng(24);
  const std::uint64_t edges[] = {0,
                                 1,
                                 2,
                                 0xFFFFFFFFu,
                                 0x100000000u,
                                 0xFFFFFFFFFFFFFFFFu,
                                 0xa0761d6478bd642full,
                                 0xe7037ed1a0b428dbull};
  for (std::uint64_t a : edges) {
    for (std::uint64_t b : edges) {
      EXPECT_EQ(detail::mix_portable(a, b), (a * b) ^ high_half(a, b)) << a << " * " << b;
    }
  }
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t a = rng(), b = rng();
    ASSERT_EQ(detail::mix_portable(a, b), (a * b) ^ high_half(a, b)) << a << " * " << b;
    ASSERT_EQ(detail::mix(a, b), detail::mix_portable(a, b)) << a << " * " << b;
  }
}
