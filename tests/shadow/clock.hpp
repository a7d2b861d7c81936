// The time the shadow tests start their clocks at.
#pragma once

#include <cstdint>

namespace iotblocks::shadow::testing {

inline constexpr std::int64_t t0 = 1'700'000'000;  // 2023-11-14T22:13:20Z, epoch seconds

}  // namespace iotblocks::shadow::testing
