#include "shadow/tree.hpp"

#include <iotblocks/core/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace iotblocks::shadow::detail {
namespace {

node parsed(std::string_view text) {
  auto r = parse(text, 64);
  EXPECT_TRUE(r) << r.describe();
  return r ? std::move(*r) : node{};
}

std::string written(std::string_view text) {
  std::string out;
  append_value(out, parsed(text));
  return out;
}

TEST(Tree, WritesCompactAndKeepsDoublesDouble) {
  EXPECT_EQ(written(R"( {"a" : [1, 2.0, -0.0, 1e2, 0.1, true, null, "x"]} )"),
            R"({"a":[1,2.0,-0.0,100.0,0.1,true,null,"x"]})");
  EXPECT_EQ(written("18446744073709551615"), "18446744073709551615");
  EXPECT_EQ(written("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(written("123456789012345678901234"), "1.2345678901234569e+23");
}

TEST(Tree, EscapesLikeTheSizeSays) {
  for (std::string_view text :
       {R"("a\"b\\c\/d\b\f\n\r\t\u0001\u001f é€😀")", R"({"k\n":[{"\u0000":1.5}]})",
        R"([1e300, -1e-300, 5e-324, 0.30000000000000004])"}) {
    const node n = parsed(text);
    std::string out;
    append_value(out, n);
    EXPECT_EQ(serialized_size(n), out.size()) << out;
    EXPECT_TRUE(equal(parsed(out), n)) << out;
  }
  EXPECT_EQ(written(R"("\u0001\u001f")"), R"("\u0001\u001f")");
}

TEST(Tree, NumbersCompareByValue) {
  EXPECT_TRUE(equal(parsed("1"), parsed("1.0")));
  EXPECT_TRUE(equal(parsed("-0.0"), parsed("0")));
  EXPECT_TRUE(equal(parsed("1e2"), parsed("100")));
  EXPECT_FALSE(equal(parsed("1"), parsed("1.5")));
  EXPECT_FALSE(equal(parsed("9007199254740993"), parsed("9007199254740992.0")));
  EXPECT_TRUE(equal(parsed("18446744073709551615"), parsed("18446744073709551615")));
  EXPECT_FALSE(equal(parsed("18446744073709551615"), parsed("-1")));
  EXPECT_TRUE(equal(parsed("9223372036854775808"), parsed("9223372036854775808.0")));
  EXPECT_FALSE(equal(parsed("1"), parsed("\"1\"")));
  EXPECT_FALSE(equal(parsed("1"), parsed("true")));
}

TEST(Tree, ObjectsCompareRegardlessOfOrderArraysInOrder) {
  EXPECT_TRUE(equal(parsed(R"({"a":1,"b":[1,2]})"), parsed(R"({"b":[1,2.0],"a":1})")));
  EXPECT_FALSE(equal(parsed(R"({"a":1,"b":[1,2]})"), parsed(R"({"a":1,"b":[2,1]})")));
  EXPECT_FALSE(equal(parsed(R"({"a":1})"), parsed(R"({"a":1,"b":2})")));
  EXPECT_FALSE(equal(parsed(R"({"a":1,"c":2})"), parsed(R"({"a":1,"b":2})")));
}

TEST(Tree, DuplicateKeysKeepFirstPositionLastValue) {
  EXPECT_EQ(written(R"({"a":1,"b":2,"a":3})"), R"({"a":3,"b":2})");
  std::string many = "{";
  for (int i = 0; i < 40; ++i)
    many += "\"k" + std::to_string(i % 20) + "\":" + std::to_string(i) + ",";
  many.back() = '}';
  const node n = parsed(many);
  ASSERT_EQ(n.members.size(), 20u);
  EXPECT_EQ(n.members[0].key, "k0");
  EXPECT_EQ(n.members[0].value.i, 20);
  EXPECT_EQ(n.members[19].value.i, 39);
}

TEST(Tree, RejectsWithPositions) {
  auto deep = parse("[[[[1]]]]", 3);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error(), core::error::json_too_deep);
  auto bad = parse("{\n \"a\": tru }", 8);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), core::error::invalid_json);
  EXPECT_EQ(bad.fail().where.line, 2u);
  EXPECT_FALSE(parse(R"("\udc00")", 8));  // lone low surrogate
  EXPECT_FALSE(parse("1e400", 8));
  EXPECT_FALSE(parse("\"\xff\"", 8));
  EXPECT_FALSE(parse("{} x", 8));
  auto tiny = parse("1e-400", 8);
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->d, 0.0);
}

TEST(Tree, NullInArrayAtAnyDepthOnly) {
  EXPECT_TRUE(null_in_array(parsed(R"({"a":[1,null]})")));
  EXPECT_TRUE(null_in_array(parsed(R"({"a":[[{"b":{"c":null}}]]})")));
  EXPECT_FALSE(null_in_array(parsed(R"({"a":null,"b":{"c":null},"d":[1,[2]]})")));
}

}  // namespace
}  // namespace iotblocks::shadow::detail
