#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/error.hpp>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace iotblocks
