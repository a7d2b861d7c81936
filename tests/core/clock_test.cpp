#include <iotblocks/core/clock.hpp>

#include <gtest/gtest.h>

namespace iotblocks {
namespace {

TEST(ManualClock, MovesOnlyWhenTold) {
  manual_clock c{from_unix_ms(1'700'000'000'000)};
  EXPECT_EQ(c.now_ms(), 1'700'000'000'000);
  c.advance(std::chrono::minutes(15));
  EXPECT_EQ(c.now_ms(), 1'700'000'900'000);
  c.set(from_unix_ms(5));
  EXPECT_EQ(c.now_ms(), 5);
}

TEST(SystemClock, IsAfter2020) {
  EXPECT_GT(default_clock().now_ms(), 1'577'836'800'000);  // 2020-01-01
}

}  // namespace
}  // namespace iotblocks
