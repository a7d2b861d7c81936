#include "registry/id_index.hpp"

#include <iotblocks/x509/certificate.hpp>

#include <gtest/gtest.h>

#include <string>

namespace iotblocks::registry::detail {
namespace {

std::string id_of(int i) { return x509::certificate_id(as_bytes(std::to_string(i))); }

TEST(IdIndex, InsertFindReplaceErase) {
  id_index index;
  EXPECT_EQ(index.find(id_of(1)), nullptr);
  for (int i = 0; i < 1000; ++i) index.put(id_of(i), nullptr);
  EXPECT_EQ(index.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(index.contains(id_of(i))) << i;
  EXPECT_FALSE(index.contains(id_of(1000)));
  // Upper case finds the same record; malformed ids find nothing.
  std::string upper = id_of(7);
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_TRUE(index.contains(upper));
  EXPECT_FALSE(index.contains(id_of(7).substr(1)));
  EXPECT_FALSE(index.contains(std::string(64, 'g')));
  EXPECT_FALSE(index.contains(""));
  for (int i = 0; i < 1000; i += 2) EXPECT_TRUE(index.erase(id_of(i)));
  EXPECT_FALSE(index.erase(id_of(0)));
  EXPECT_EQ(index.size(), 500u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(index.contains(id_of(i)), i % 2 == 1) << i;
  std::size_t visited = 0;
  index.for_each([&](const auto&) { ++visited; });
  EXPECT_EQ(visited, 500u);
}

TEST(IdIndex, ChurnKeepsWorking) {
  id_index index;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 100; ++i) index.put(id_of(round * 100 + i), nullptr);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(index.erase(id_of(round * 100 + i)));
  }
  EXPECT_EQ(index.size(), 0u);
  index.put(id_of(1), nullptr);
  EXPECT_TRUE(index.contains(id_of(1)));
}

}  // namespace
}  // namespace iotblocks::registry::detail
