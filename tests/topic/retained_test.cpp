// The retained store: set/clear by name, enumerate by filter with the 4.7 rules.
#include <iotblocks/topic/retained.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace iotblocks::topic {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

std::vector<std::string> topics(const retained_store<int>& store, std::string_view filter) {
  std::vector<std::string> out;
  auto r = store.for_each(filter, [&](std::string_view t, const int&) { out.emplace_back(t); });
  EXPECT_TRUE(r.ok()) << r.describe();
  return out;
}

retained_store<int> sample() {
  retained_store<int> s;
  for (const char* t : {"sport", "sport/tennis", "sport/tennis/player1", "sport/golf", "/finance",
                        "a//b", "$SYS/uptime", "$SYS/clients/count", "Sport"}) {
    EXPECT_TRUE(s.set(t, 1).value()) << t;
  }
  return s;
}

TEST(RetainedStore, SetReplaceFindErase) {
  retained_store<int> s;
  EXPECT_TRUE(s.set("a/b", 1).value());
  EXPECT_FALSE(s.set("a/b", 2).value());
  ASSERT_NE(s.find("a/b"), nullptr);
  EXPECT_EQ(*s.find("a/b"), 2);
  EXPECT_EQ(s.find("a"), nullptr);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_FALSE(s.erase("a"));
  EXPECT_FALSE(s.erase("a/b/c"));
  EXPECT_TRUE(s.erase("a/b"));
  EXPECT_FALSE(s.erase("a/b"));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.set("a/+", 1).error(), error::wildcard_in_name);
  EXPECT_EQ(s.set("", 1).error(), error::empty);
}

TEST(RetainedStore, MQTT_4_7_1_1_MultiLevelIncludesParent) {
  const auto s = sample();
  EXPECT_THAT(topics(s, "sport/#"),
              UnorderedElementsAre("sport", "sport/tennis", "sport/tennis/player1", "sport/golf"));
  EXPECT_THAT(topics(s, "sport/tennis/player1/#"), UnorderedElementsAre("sport/tennis/player1"));
}

TEST(RetainedStore, MQTT_4_7_1_2_SingleLevel) {
  const auto s = sample();
  EXPECT_THAT(topics(s, "sport/+"), UnorderedElementsAre("sport/tennis", "sport/golf"));
  EXPECT_THAT(topics(s, "+/finance"), UnorderedElementsAre("/finance"));
  EXPECT_THAT(topics(s, "a/+/b"), UnorderedElementsAre("a//b"));
  EXPECT_THAT(topics(s, "+"), UnorderedElementsAre("sport", "Sport"));
}

TEST(RetainedStore, MQTT_4_7_2_1_DollarTopics) {
  const auto s = sample();
  EXPECT_THAT(topics(s, "#"), UnorderedElementsAre("sport", "sport/tennis", "sport/tennis/player1",
                                                   "sport/golf", "/finance", "a//b", "Sport"));
  EXPECT_THAT(topics(s, "+/uptime"), IsEmpty());
  EXPECT_THAT(topics(s, "$SYS/#"), UnorderedElementsAre("$SYS/uptime", "$SYS/clients/count"));
}

TEST(RetainedStore, MQTT_4_7_3_4_CaseSensitive) {
  const auto s = sample();
  EXPECT_THAT(topics(s, "Sport/#"), UnorderedElementsAre("Sport"));
  EXPECT_THAT(topics(s, "a/b"), IsEmpty());
}

TEST(RetainedStore, SharedPrefixAndInvalidFilters) {
  const auto s = sample();
  EXPECT_THAT(topics(s, "$share/g/sport/+"), UnorderedElementsAre("sport/tennis", "sport/golf"));
  EXPECT_EQ(s.for_each("a/#/b", [](auto, auto&) {}).error(), error::multi_level_not_last);
}

TEST(RetainedStore, ErasePrunesAndLimits) {
  retained_store<int> s;
  s.max_levels(3);
  EXPECT_EQ(s.set("a/b/c/d", 1).error(), error::too_many_levels);
  ASSERT_TRUE(s.set("a/b/c", 1).ok());
  ASSERT_TRUE(s.set("a", 1).ok());
  EXPECT_TRUE(s.erase("a/b/c"));
  EXPECT_THAT(std::vector<int>{static_cast<int>(s.size())}, ::testing::ElementsAre(1));
  std::string deep = "a";
  for (int i = 0; i < 10000; ++i) deep += "/x";
  EXPECT_FALSE(s.erase(deep));  // bounded, no deep recursion
}

// Against topic::matches on random names and filters.
TEST(RetainedStore, AgreesWithReferenceMatcher) {
  std::mt19937 rng(7);
  auto pick = [&](unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(rng); };
  const char* vocab[] = {"a", "b", "", "$SYS", "c"};
  auto level = [&] { return std::string{vocab[pick(5)]}; };
  retained_store<int> s;
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) {
    std::string t = level();
    for (unsigned d = pick(4); d > 0; --d) t += "/" + level();
    if (t.empty()) continue;
    if (s.set(t, i).value()) names.push_back(t);
  }
  for (int i = 0; i < 500; ++i) {
    std::string f;
    const unsigned depth = 1 + pick(4);
    for (unsigned d = 0; d < depth; ++d) {
      if (d) f += '/';
      const unsigned r = pick(10);
      f += (d + 1 == depth && r < 2) ? std::string{"#"} : r < 5 ? std::string{"+"} : level();
    }
    if (f.empty()) continue;
    std::vector<std::string> want;
    for (const auto& n : names) {
      if (matches(f, n)) want.push_back(n);
    }
    EXPECT_THAT(topics(s, f), UnorderedElementsAreArray(want)) << f;
  }
}

}  // namespace
}  // namespace iotblocks::topic
