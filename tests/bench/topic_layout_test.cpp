// iotblocks-bench's topic layouts: the expected deliveries of the wildcard shape
// are what an MQTT broker owes, checked against a brute-force count.
#include "topic_layout.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <set>
#include <string>

namespace {

using iotblocks::bench::topic_layout;
using iotblocks::bench::topic_pattern;

TEST(TopicLayout, AllReachesEverySubscriber) {
  topic_layout l{.base = "bench/x/", .pattern = topic_pattern::all, .publishers = 4};
  EXPECT_EQ(l.publisher_topic(3), "bench/x/3");
  EXPECT_EQ(l.subscriber_filter(9), "bench/x/#");
  EXPECT_EQ(l.fanout(7), (std::vector<std::uint32_t>{7, 7, 7, 7}));
}

TEST(TopicLayout, WildcardFiltersMixPlusAndHashAndMatchAFraction) {
  topic_layout l{.base = "b/", .pattern = topic_pattern::wildcard, .publishers = 20, .groups = 5};
  EXPECT_EQ(l.publisher_topic(7), "b/g2/d7/t");
  EXPECT_EQ(l.subscriber_filter(0), "b/g0/#");
  EXPECT_EQ(l.subscriber_filter(4), "b/+/d1/t");
  EXPECT_EQ(l.subscriber_filter(5), "b/g1/+/t");
  const auto f = l.fanout(1000);
  // Per publisher: 334 '#' filters spread over 5 groups, 333 '+/d<i>' over 20
  // publishers, 333 'g<k>/+' over 5 groups.
  for (unsigned i = 0; i < 20; ++i) {
    unsigned hash = 0, one = 0, plus = 0;
    for (unsigned j = 0; j < 1000; ++j) {
      if (j % 3 == 0 && j % 5 == i % 5) ++hash;
      if (j % 3 == 1 && (j / 3) % 20 == i) ++one;
      if (j % 3 == 2 && (j / 3) % 5 == i % 5) ++plus;
    }
    EXPECT_EQ(f[i], hash + one + plus) << i;
    EXPECT_LT(f[i], 1000u / 4) << "each filter matches a fraction: " << i;
  }
  EXPECT_GT(std::accumulate(f.begin(), f.end(), 0u), 0u);
  std::set<std::string> filters;
  for (unsigned j = 0; j < 1000; ++j) filters.insert(l.subscriber_filter(j));
  EXPECT_GT(filters.size(), 20u);
}

TEST(TopicLayout, ParsesPatternNames) {
  topic_pattern p = topic_pattern::all;
  EXPECT_TRUE(iotblocks::bench::parse_topic_pattern("wildcard", p));
  EXPECT_EQ(p, topic_pattern::wildcard);
  EXPECT_FALSE(iotblocks::bench::parse_topic_pattern("some", p));
}

}  // namespace
