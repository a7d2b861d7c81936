// The linear-time regex engine behind regexp_*.
#include "sql/regex.hpp"

#include <gtest/gtest.h>

#include <string>

namespace iotblocks::sql::detail {
namespace {

struct found {
  bool ok = false;
  std::vector<std::string> groups;
};

found search(std::string_view pattern, std::string_view text, std::size_t start = 0) {
  std::string err;
  auto p = compile_regex(pattern, err);
  EXPECT_TRUE(p) << pattern << ": " << err;
  if (!p) return {};
  std::vector<std::size_t> caps;
  std::size_t budget = 10'000'000;
  found f;
  f.ok = regex_search(*p, text, start, caps, budget) == search_result::found;
  if (f.ok) {
    for (std::size_t g = 0; g < caps.size(); g += 2) {
      f.groups.push_back(caps[g] == static_cast<std::size_t>(-1)
                             ? "<none>"
                             : std::string(text.substr(caps[g], caps[g + 1] - caps[g])));
    }
  }
  return f;
}

TEST(SqlRegex, LeftmostFirstLikeJava) {
  EXPECT_EQ(search("a|ab", "ab").groups[0], "a");
  EXPECT_EQ(search("ab|a", "ab").groups[0], "ab");
  EXPECT_EQ(search("a*", "aaab").groups[0], "aaa");
  EXPECT_EQ(search("a*?", "aaab").groups[0], "");
  EXPECT_EQ(search("a+?b", "aaab").groups[0], "aaab");
  EXPECT_EQ(search("(a|b)*c", "xxababcx").groups, (std::vector<std::string>{"ababc", "b"}));
  EXPECT_EQ(search("(x)?y", "y").groups, (std::vector<std::string>{"y", "<none>"}));
  EXPECT_EQ(search("(?:ab)+", "ababab").groups[0], "ababab");
  EXPECT_EQ(search("\\d{2,3}", "a12345").groups[0], "123");
  EXPECT_EQ(search("[^a-c]+", "abcdefabc").groups[0], "def");
  EXPECT_EQ(search("[\\w.]+@\\w+", "mail: a.b@c!").groups[0], "a.b@c");
}

TEST(SqlRegex, AnchorsAndBoundaries) {
  EXPECT_TRUE(search("^abc$", "abc").ok);
  EXPECT_TRUE(search("^abc$", "abc\n").ok);  // $ before a final line terminator
  EXPECT_FALSE(search("^b", "ab").ok);
  EXPECT_FALSE(search("^b", "ab", 1).ok);  // ^ is the start of input, not of the search
  EXPECT_TRUE(search("(?m)^b", "a\nb").ok);
  EXPECT_TRUE(search("\\bcat\\b", "a cat!").ok);
  EXPECT_FALSE(search("\\bcat\\b", "concat").ok);
  EXPECT_TRUE(search("\\Aab\\z", "ab").ok);
}

TEST(SqlRegex, EscapesClassesAndFlags) {
  EXPECT_TRUE(search("\\x41\\u0042\\t", "AB\t").ok);
  EXPECT_TRUE(search("\\Q.*\\E", "a.*b").ok);
  EXPECT_TRUE(search("(?i)abc", "xAbC").ok);
  EXPECT_TRUE(search("(?i:a)B", "aB").ok);
  EXPECT_FALSE(search("(?i:a)B", "ab").ok);
  EXPECT_TRUE(search("[\\d\\s]+", "1 2").ok);
  EXPECT_EQ(search("\u00e9+", "caf\u00e9\u00e9").groups[0], "\u00e9\u00e9");
  EXPECT_EQ(search(".", "\u20ac").groups[0], "\u20ac");
}

TEST(SqlRegex, NamedGroups) {
  std::string err;
  auto p = compile_regex("(?<year>\\d{4})-(\\d\\d)", err);
  ASSERT_TRUE(p);
  EXPECT_EQ(group_count(*p), 2u);
  EXPECT_EQ(group_index(*p, "year"), 1);
  EXPECT_EQ(group_index(*p, "nope"), -1);
}

TEST(SqlRegex, UnsupportedAndInvalidPatterns) {
  for (const char* bad : {"(", ")", "[a", "a**{", "(a)\\1", "a(?=b)", "a(?!b)", "(?<=a)b", "(?>a)",
                          "\\p{L}", "*a", "a{3,1}", "\\"}) {
    std::string err;
    EXPECT_FALSE(compile_regex(bad, err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

TEST(SqlRegex, ProgramSizeAndPatternLengthAreBounded) {
  std::string err;
  EXPECT_FALSE(compile_regex("(a{1000}){1000}", err));
  EXPECT_FALSE(compile_regex(std::string(regex_limits::max_pattern + 1, 'a'), err));
  std::string nested(100, '(');
  nested += "a";
  nested += std::string(100, ')');
  EXPECT_FALSE(compile_regex(nested, err));
}

TEST(SqlRegex, HostilePatternsCostLinearTime) {
  std::string err;
  auto p = compile_regex("(a+)+$", err);
  ASSERT_TRUE(p);
  const std::string text = std::string(20000, 'a') + "b";
  std::vector<std::size_t> caps;
  std::size_t budget = 100'000'000;
  EXPECT_EQ(regex_search(*p, text, 0, caps, budget), search_result::not_found);
  std::size_t small = 1000;
  EXPECT_EQ(regex_search(*p, text, 0, caps, small), search_result::budget_exceeded);
}

TEST(SqlRegex, CacheIsBounded) {
  regex_cache cache;
  for (int i = 0; i < 500; ++i) EXPECT_TRUE(cache.get("a" + std::to_string(i)));
  EXPECT_FALSE(cache.get("("));
  EXPECT_TRUE(cache.get("a1"));
}

}  // namespace
}  // namespace iotblocks::sql::detail
