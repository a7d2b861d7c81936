// The AWS API's per-access-key token buckets (lib/gateway/aws_throttle.hpp), on a given clock.
#include "gateway/aws_throttle.hpp"

#include <gtest/gtest.h>

namespace {

using iotblocks::gateway::aws::request_throttle;
using namespace std::chrono_literals;

TEST(AwsThrottle, ABurstPassesThenTheRateRefills) {
  request_throttle t;
  t.limit("slow", 2, 3);  // 2 requests/s, bursts of 3
  const auto t0 = request_throttle::clock::time_point{} + 1h;
  EXPECT_TRUE(t.admit("slow", t0));
  EXPECT_TRUE(t.admit("slow", t0));
  EXPECT_TRUE(t.admit("slow", t0));
  EXPECT_FALSE(t.admit("slow", t0));
  EXPECT_FALSE(t.admit("slow", t0 + 400ms));  // 0.8 token
  EXPECT_TRUE(t.admit("slow", t0 + 500ms));   // 1 token
  EXPECT_FALSE(t.admit("slow", t0 + 500ms));
  // A long pause refills up to the burst, not beyond.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(t.admit("slow", t0 + 1h)) << i;
  EXPECT_FALSE(t.admit("slow", t0 + 1h));
}

TEST(AwsThrottle, KeysWithoutALimitAndOtherKeysAreNotThrottled) {
  request_throttle t;
  const auto t0 = request_throttle::clock::time_point{} + 1h;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(t.admit("free", t0));
  t.limit("slow", 1, 1);
  EXPECT_TRUE(t.admit("slow", t0));
  EXPECT_FALSE(t.admit("slow", t0));
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(t.admit("free", t0));
}

TEST(AwsThrottle, AClockThatGoesBackDoesNotAddTokens) {
  request_throttle t;
  t.limit("k", 1, 1);
  const auto t0 = request_throttle::clock::time_point{} + 1h;
  EXPECT_TRUE(t.admit("k", t0));
  EXPECT_FALSE(t.admit("k", t0 - 10s));
  EXPECT_FALSE(t.admit("k", t0 + 500ms));
  EXPECT_TRUE(t.admit("k", t0 + 1s));
}

}  // namespace
