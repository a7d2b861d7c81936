#include "core/json.hpp"

#include <iotblocks/core/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace iotblocks {
namespace {

TEST(Json, ParsesAndWrites) {
  auto doc = json::parse(R"( {"a": 1, "b": [true, null, "x"], "c": 1.5} )");
  ASSERT_TRUE(doc) << doc.describe();
  EXPECT_EQ(json::write(*doc), R"({"a":1,"b":[true,null,"x"],"c":1.5})");
  EXPECT_EQ(json::get_int64(*doc, "a"), 1);
  EXPECT_EQ(json::get_double(*doc, "c"), 1.5);
  EXPECT_FALSE(json::get_string(*doc, "a"));
  EXPECT_EQ(json::find(*doc, "missing"), nullptr);
}

TEST(Json, ReportsLineAndColumn) {
  auto doc = json::parse("{\n  \"a\": 1,\n  \"b\": tru\n}");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error(), core::error::invalid_json);
  EXPECT_EQ(doc.fail().where.line, 3u);
  EXPECT_NE(doc.describe().find("invalid JSON"), std::string::npos);
}

TEST(Json, NumbersAreExact) {
  auto doc = json::parse(R"([9223372036854775807, -9223372036854775808, 18446744073709551615,
                             0.1, 0e40, 1e-400, 2.2250738585072014e-308, 123456789012345678901])");
  ASSERT_TRUE(doc) << doc.describe();
  const auto& a = *doc;
  EXPECT_EQ(a[0].GetInt64(), INT64_MAX);
  EXPECT_EQ(a[1].GetInt64(), INT64_MIN);
  EXPECT_EQ(a[2].GetUint64(), UINT64_MAX);
  EXPECT_EQ(a[3].GetDouble(), 0.1);
  EXPECT_EQ(a[4].GetDouble(), 0.0);
  EXPECT_EQ(a[5].GetDouble(), 0.0);
  EXPECT_EQ(a[6].GetDouble(), 2.2250738585072014e-308);
  EXPECT_EQ(a[7].GetDouble(), 123456789012345678901.0);  // beyond 64 bits: nearest double
  auto huge = json::parse("[1e400]");
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.describe().find("too big"), std::string::npos);
}

TEST(Json, RejectsTrailingGarbage) { EXPECT_FALSE(json::parse("{} {}")); }

TEST(Json, RejectsInvalidUtf8) {
  EXPECT_FALSE(json::parse("\"\xC3\x28\""));
  EXPECT_FALSE(json::parse(R"("\ude00")"));  // lone low surrogate escape
  EXPECT_TRUE(json::parse(R"("\ud83d\ude00")"));
}

TEST(Json, LimitsDepthWithoutRecursion) {
  std::string deep(100000, '[');
  auto doc = json::parse(deep, {.max_depth = 64});
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error(), core::error::json_too_deep);
  EXPECT_EQ(doc.fail().where.offset, 64u);

  std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(json::parse(ok, {.max_depth = 64}));
}

}  // namespace
}  // namespace iotblocks
