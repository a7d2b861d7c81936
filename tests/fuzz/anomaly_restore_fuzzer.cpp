// keyed_store::restore on hostile bytes: never crashes, bounded memory. The input
// is tried as is and with its trailing CRC-32 fixed up (so mutations reach the
// parser behind the checksum). Whatever restores must snapshot and restore again
// to the same bytes, and keep scoring.
#include "anomaly/internal.hpp"

#include <iotblocks/anomaly/keyed_store.hpp>

#include <cstdlib>
#include <vector>

namespace {

void check(iotblocks::bytes_view in) {
  using iotblocks::anomaly::keyed_store;
  auto s = keyed_store::restore(in);
  if (!s) return;
  const auto once = s->snapshot();
  auto again = keyed_store::restore(once);
  if (!again || again->snapshot() != once || again->size() != s->size()) std::abort();
  iotblocks::anomaly::point_result r;
  (void)s->score("fuzz", "value", 1.5, 0, r);
  s->for_each([&](std::string_view key, std::string_view field, iotblocks::bytes_view) {
    (void)again->score(key, field, 2.5, 0, r);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const iotblocks::bytes_view in{reinterpret_cast<const std::byte*>(data), size};
  check(in);
  if (size >= 12) {
    std::vector<std::byte> fixed(in.begin(), in.end());
    const auto crc =
        iotblocks::anomaly::detail::crc32(iotblocks::bytes_view{fixed}.first(size - 4));
    for (std::size_t i = 0; i < 4; ++i)
      fixed[size - 4 + i] = static_cast<std::byte>(crc >> (8 * i));
    check(fixed);
  }
  return 0;
}
