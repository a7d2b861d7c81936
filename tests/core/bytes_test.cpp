#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/error.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>

namespace iotblocks {
namespace {

TEST(Bytes, ViewsWithoutCopy) {
  std::string_view s = "hello";
  auto b = as_bytes(s);
  EXPECT_EQ(static_cast<const void*>(b.data()), static_cast<const void*>(s.data()));
  EXPECT_EQ(as_string_view(b), s);
}

TEST(Bytes, BigEndian) {
  std::byte buf[4];
  store_be16(buf, 0x1234);
  EXPECT_EQ(load_be16(buf), 0x1234);
  EXPECT_EQ(buf[0], std::byte{0x12});
  store_be32(buf, 0xA1B2C3D4u);
  EXPECT_EQ(load_be32(buf), 0xA1B2C3D4u);
  EXPECT_EQ(buf[3], std::byte{0xD4});
}

TEST(Hex, RoundTrip) {
  EXPECT_EQ(to_hex(as_bytes("\x01\xab\xff")), "01abff");
  auto back = from_hex("01ABff");
  ASSERT_TRUE(back);
  EXPECT_EQ(as_string_view(*back), "\x01\xab\xff");
}

TEST(Hex, RejectsOddLengthAndBadDigits) {
  EXPECT_EQ(from_hex("abc").error(), core::error::invalid_hex);
  auto bad = from_hex("a0zz");
  EXPECT_EQ(bad.error(), core::error::invalid_hex);
  EXPECT_EQ(bad.fail().where.offset, 2u);
}

// RFC 4648 section 10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},
                                                                   {"f", "Zg=="},
                                                                   {"fo", "Zm8="},
                                                                   {"foo", "Zm9v"},
                                                                   {"foob", "Zm9vYg=="},
                                                                   {"fooba", "Zm9vYmE="},
                                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(to_base64(as_bytes(plain)), encoded);
    auto decoded = from_base64(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(as_string_view(*decoded), plain);
  }
}

TEST(Base64, RejectsMalformed) {
  EXPECT_EQ(from_base64("Zm9v!").error(), core::error::invalid_base64);
  EXPECT_EQ(from_base64("Z").error(), core::error::invalid_base64);
  EXPECT_EQ(from_base64("Zm 9v").fail().where.offset, 2u);
}

TEST(Hex, DigitValuesAndDigits) {
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const int expected = c >= '0' && c <= '9'   ? c - '0'
                         : c >= 'a' && c <= 'f' ? c - 'a' + 10
                         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                : -1;
    EXPECT_EQ(hex_digit_value(ch), expected) << c;
  }
  std::string digits;
  for (unsigned v = 0; v < 16; ++v) digits += hex_digit(v);
  EXPECT_EQ(digits, "0123456789abcdef");
  EXPECT_EQ(hex_digit(0x1F), 'f');  // only the low four bits count
}

TEST(Hex, DecodeIntoFixedSpan) {
  std::array<std::byte, 3> out{};
  ASSERT_TRUE(decode_hex("01aBfF", out));
  EXPECT_EQ(as_string_view(out), "\x01\xab\xff");
  EXPECT_FALSE(decode_hex("01ab", out));      // too short for the span
  EXPECT_FALSE(decode_hex("01abff00", out));  // too long
  EXPECT_FALSE(decode_hex("01abf", out));     // odd
  // A bad digit is caught in any position, either half of a byte.
  for (std::size_t at = 0; at < 6; ++at) {
    for (const char bad : {'g', 'G', ' ', '\0', '/', ':', '@', '`', '\xff'}) {
      std::string text = "01abff";
      text[at] = bad;
      EXPECT_FALSE(decode_hex(text, out)) << at << ' ' << static_cast<int>(bad);
      const auto r = from_hex(text);
      ASSERT_FALSE(r);
      EXPECT_EQ(r.fail().where.offset, at);
    }
  }
  std::array<std::byte, 0> none{};
  EXPECT_TRUE(decode_hex("", none));
}

TEST(PercentDecode, StrictRejectsMalformedEscapesAtOffset) {
  EXPECT_EQ(percent_decode("a%20b%2fc%2F+").value(), "a b/c/+");
  EXPECT_EQ(percent_decode("").value(), "");
  EXPECT_EQ(percent_decode("%00").value(), std::string(1, '\0'));
  EXPECT_EQ(percent_decode("%e2%82%AC").value(), "\xE2\x82\xAC");
  for (const auto& [text, offset] : {std::pair<std::string_view, std::size_t>{"%", 0},
                                     {"ab%", 2},
                                     {"ab%4", 2},
                                     {"%41%zz", 3},
                                     {"%4g", 0},
                                     {"x%%41", 1}}) {
    const auto r = percent_decode(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error(), core::error::invalid_percent_encoding) << text;
    EXPECT_EQ(r.fail().where.offset, offset) << text;
  }
}

TEST(PercentDecode, LenientKeepsMalformedEscapes) {
  EXPECT_EQ(percent_decode_lenient("a%20b%2"), "a b%2");
  EXPECT_EQ(percent_decode_lenient("%zz%41"), "%zzA");
  EXPECT_EQ(percent_decode_lenient("%"), "%");
  EXPECT_EQ(percent_decode_lenient("x%%41+"), "x%A+");
  EXPECT_EQ(percent_decode_lenient("%e2%82%AC"), "\xE2\x82\xAC");
}

}  // namespace
}  // namespace iotblocks
