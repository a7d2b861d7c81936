#include <iotblocks/core/utf8.hpp>

#include <gtest/gtest.h>

#include <string>

namespace iotblocks {
namespace {

using namespace std::string_view_literals;

TEST(Utf8, AcceptsWellFormed) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(is_valid_utf8("\xEF\xBB\xBF"));                               // U+FEFF is allowed
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));                           // U+10FFFF
}

TEST(Utf8, RejectsMalformedAtOffset) {
  EXPECT_EQ(utf8_check("ab\x80"), 2u);            // lone continuation
  EXPECT_EQ(utf8_check("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(utf8_check("\xE0\x80\xAF"), 0u);      // overlong
  EXPECT_EQ(utf8_check("x\xED\xA0\x80"), 1u);     // U+D800 surrogate
  EXPECT_EQ(utf8_check("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(utf8_check("\xE2\x82"), 0u);          // truncated
  EXPECT_EQ(utf8_check("0123456789\xFF"), 10u);   // after the fast path
}

TEST(Utf8, NulOnlyWhenAllowed) {
  const auto with_nul = "abcdefgh\0ijk"sv;
  EXPECT_TRUE(is_valid_utf8(with_nul));
  EXPECT_EQ(utf8_check(with_nul, false), 8u);
  EXPECT_EQ(utf8_check("\0"sv, false), 0u);
}

}  // namespace
}  // namespace iotblocks
