#include <iotblocks/core.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace iotblocks {
namespace {

constexpr const char* kept = "a literal is kept, not copied";

TEST(FailureMessage, LiteralIsKeptByPointer) {
  static constexpr char text[] = "expected '}'";
  const failure_message m = text;
  EXPECT_TRUE(m.is_static());
  EXPECT_EQ(m.data(), text);
  EXPECT_EQ(m, "expected '}'");
  const failure_message s = failure_message::static_text(kept);
  EXPECT_TRUE(s.is_static());
  EXPECT_EQ(s.data(), kept);
}

TEST(FailureMessage, RuntimeTextIsCopied) {
  std::string source = "unknown setting plugin_opt_x";
  const failure_message m = source;
  const char* runtime = source.c_str();
  const failure_message p = runtime;
  source[0] = 'U';
  EXPECT_FALSE(m.is_static());
  EXPECT_EQ(m, "unknown setting plugin_opt_x");
  EXPECT_EQ(p, "unknown setting plugin_opt_x");
  EXPECT_FALSE(m.truncated());
}

TEST(FailureMessage, CatFormatsTextAndIntegers) {
  const std::string_view name = "p";
  const failure_message m = failure_message::cat("policy '", name, "' version ", 2, " of ",
                                                 std::uint64_t{18446744073709551615u}, ' ', -7,
                                                 ": ", failure_message{"no such version"});
  EXPECT_EQ(m, "policy 'p' version 2 of 18446744073709551615 -7: no such version");
}

TEST(FailureMessage, LongTextIsCutVisiblyAtACharacterBoundary) {
  const std::string ascii(200, 'a');
  const failure_message m = std::string_view{ascii};
  EXPECT_TRUE(m.truncated());
  EXPECT_EQ(m.size(), failure_message::capacity);
  EXPECT_EQ(m.view(), std::string(failure_message::capacity - 3, 'a') + "...");
  // "é" is two bytes: the cut never splits it.
  std::string accents;
  while (accents.size() < 200) accents += "\xC3\xA9";
  const failure_message u = failure_message::cat("x", accents);
  EXPECT_TRUE(u.truncated());
  const std::string_view v = u.view();
  ASSERT_TRUE(v.ends_with("..."));
  EXPECT_TRUE(is_valid_utf8(v));
  EXPECT_EQ((v.size() - 4) % 2, 0u);  // "x", whole characters, "..."
}

TEST(FailureMessage, LongStdStringIsKeptWholeAndSharedByCopies) {
  // Host blocks build messages in a std::string (a file path, a JSON path, a
  // certificate subject): such text is kept whole, not cut.
  const std::string text =
      "/etc/iotblocks/gateway.json: stores.registry: expected a URL "
      "such as sqlite:///var/lib/iotblocks/registry.db, got \"x\"";
  ASSERT_GT(text.size(), failure_message::capacity);
  failure_message m = text;
  EXPECT_TRUE(m.is_allocated());
  EXPECT_FALSE(m.truncated());
  EXPECT_EQ(m, text);
  failure_message copy = m;
  EXPECT_EQ(copy.data(), m.data());  // shared, not copied again
  failure f{core::error::invalid_argument, m, {}};
  m = "now a literal";  // the others still hold the text
  EXPECT_EQ(copy, text);
  EXPECT_EQ(f.describe(), text);
  failure moved = std::move(f);
  EXPECT_EQ(moved.message, text);
  EXPECT_TRUE(f.message.empty());  // NOLINT: a moved-from message is empty
  copy = moved.message;
  const failure_message& same = copy;
  copy = same;  // self-assignment keeps the text
  EXPECT_EQ(copy, text);
  // Short std::string text stays inline; cat() and views never allocate.
  EXPECT_FALSE(failure_message{std::string{"short"}}.is_allocated());
  EXPECT_TRUE(failure_message::cat(text).truncated());
  EXPECT_FALSE(failure_message::cat(text).is_allocated());
}

TEST(FailureMessage, SizesStayFixed) {
  EXPECT_LE(sizeof(failure_message), 96u);
  EXPECT_LE(sizeof(failure), 128u);
}

TEST(FailureDescribeTo, WritesIntoTheCallersBuffer) {
  const failure f{core::error::invalid_argument, "not a digit", position{4, 2, 3}};
  char out[64];
  const std::string_view v = f.describe_to(out);
  EXPECT_EQ(v, "not a digit at 2:3");
  EXPECT_EQ(out[v.size()], '\0');
  EXPECT_EQ(v, f.describe());
  char small[8];
  EXPECT_EQ(f.describe_to(small), "not a d");  // cut, NUL-terminated
  EXPECT_EQ(small[7], '\0');
  EXPECT_EQ(f.describe_to(std::span<char>{}), "");
}

TEST(FailureDescribeTo, EmptyMessageUsesTheCategoryWithoutAllocating) {
  char out[64];
  const failure ours{core::error::not_found, {}, at_offset(12)};
  EXPECT_EQ(ours.describe_to(out), "not found at byte 12");
  const failure theirs{std::make_error_code(std::errc::no_such_file_or_directory), {}, {}};
  EXPECT_EQ(
      theirs.describe_to(out),
      "generic error " + std::to_string(static_cast<int>(std::errc::no_such_file_or_directory)));
}

}  // namespace
}  // namespace iotblocks
