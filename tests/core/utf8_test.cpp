#include <iotblocks/core/utf8.hpp>

#include <gtest/gtest.h>

#include <ios>
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

// Every scalar value at the edges of each length class encodes to what utf8_check
// accepts, with the bytes of the standard's table (Unicode 15, table 3-6).
TEST(Utf8, EncodesEachLengthClass) {
  const struct {
    char32_t cp;
    std::string_view bytes;
  } cases[] = {
      {U'\0', "\0"sv},
      {0x7F, "\x7F"sv},
      {0x80, "\xC2\x80"sv},
      {0xE9, "\xC3\xA9"sv},
      {0x7FF, "\xDF\xBF"sv},
      {0x800, "\xE0\xA0\x80"sv},
      {0x20AC, "\xE2\x82\xAC"sv},
      {0xD7FF, "\xED\x9F\xBF"sv},
      {0xE000, "\xEE\x80\x80"sv},
      {0xFFFF, "\xEF\xBF\xBF"sv},
      {0x10000, "\xF0\x90\x80\x80"sv},
      {0x1F600, "\xF0\x9F\x98\x80"sv},
      {0x10FFFF, "\xF4\x8F\xBF\xBF"sv},
  };
  for (const auto& c : cases) {
    std::string out = "x";
    append_utf8(out, c.cp);
    EXPECT_EQ(out.substr(1), c.bytes) << std::hex << static_cast<unsigned>(c.cp);
    char buf[utf8_max_bytes];
    EXPECT_EQ(std::string_view(buf, encode_utf8(c.cp, buf)), c.bytes);
  }
}

// UTF-8 cannot carry a surrogate or a value above U+10FFFF: both become U+FFFD
// (the callers replaced unpaired \u surrogates with U+FFFD already; upper() and
// lower() of text with CESU-8 or out-of-range sequences wrote invalid UTF-8).
TEST(Utf8, SurrogatesAndOutOfRangeBecomeReplacementCharacter) {
  for (const char32_t cp :
       {char32_t{0xD800}, char32_t{0xDBFF}, char32_t{0xDC00}, char32_t{0xDFFF}, char32_t{0x110000},
        char32_t{0x1FFFFF}, char32_t{0x7FFFFFFF}, char32_t{0xFFFFFFFF}}) {
    std::string out;
    append_utf8(out, cp);
    EXPECT_EQ(out, "\xEF\xBF\xBD") << std::hex << static_cast<unsigned>(cp);
    EXPECT_TRUE(is_valid_utf8(out));
  }
}

// Encoding then checking agrees with utf8_check over the whole code space.
TEST(Utf8, EveryScalarValueEncodesToValidUtf8) {
  std::string out;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    out.clear();
    append_utf8(out, cp);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_TRUE(is_valid_utf8(out)) << std::hex << static_cast<unsigned>(cp);
    ASSERT_EQ(out.size(), surrogate      ? 3u
                          : cp < 0x80    ? 1u
                          : cp < 0x800   ? 2u
                          : cp < 0x10000 ? 3u
                                         : 4u);
  }
}

}  // namespace
}  // namespace iotblocks
