// lazy_container: holds nothing while empty, behaves as the map or set it wraps.
#include "broker/lazy_container.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace iotblocks::broker::detail {
namespace {

TEST(LazyContainer, EmptyIteratesNothingAndFindsNothing) {
  lazy_container<std::map<std::string, int>> m;
  const auto& cm = m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.begin(), m.end());
  EXPECT_EQ(cm.begin(), cm.end());
  EXPECT_EQ(m.find("a"), m.end());
  EXPECT_EQ(m.count("a"), 0u);
  EXPECT_EQ(m.erase("a"), 0u);
  int seen = 0;
  for (const auto& e : m) seen += e.second;
  EXPECT_EQ(seen, 0);
}

TEST(LazyContainer, BehavesAsTheMapThroughEmptyingAndRefilling) {
  lazy_container<std::map<std::string, int>> m;
  m["b"] = 2;
  m.emplace("a", 1);
  EXPECT_EQ(m.size(), 2u);
  std::string keys;
  for (const auto& [k, v] : m) keys += k + std::to_string(v);
  EXPECT_EQ(keys, "a1b2");  // ordered
  auto it = m.find("a");
  ASSERT_NE(it, m.end());
  m.erase(it);
  EXPECT_EQ(m.count("a"), 0u);
  EXPECT_EQ(m.erase("b"), 1u);
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.begin(), m.end());
  m["c"] = 3;
  EXPECT_EQ(m.size(), 1u);
  m.clear();
  EXPECT_TRUE(m.empty());
}

TEST(LazyContainer, BehavesAsTheSet) {
  lazy_container<std::set<std::uint16_t>> s;
  const std::uint16_t id = 7;
  EXPECT_TRUE(s.insert(id).second);
  EXPECT_FALSE(s.insert(id).second);
  EXPECT_EQ(s.count(7), 1u);
  EXPECT_EQ(s.erase(7), 1u);
  EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace iotblocks::broker::detail
