#include <iotblocks/core.hpp>

#include <gtest/gtest.h>

#include <cstdio>

#include <string>

namespace iotblocks {
namespace {

result<int> parse_digit(std::string_view s) {
  if (s.size() != 1 || s[0] < '0' || s[0] > '9') {
    return {core::error::invalid_argument, "not a digit", position_in(s, 0)};
  }
  return s[0] - '0';
}

TEST(Result, HoldsValue) {
  auto r = parse_digit("7");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(r.value(), 7);
  EXPECT_FALSE(r.error());
}

TEST(Result, HoldsFailureWithPosition) {
  auto r = parse_digit("x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), core::error::invalid_argument);
  EXPECT_EQ(r.fail().where, (position{0, 1, 1}));
  EXPECT_EQ(r.describe(), "not a digit at 1:1");
#if IOTBLOCKS_EXCEPTIONS
  EXPECT_THROW((void)r.value(), std::system_error);
#endif
}

TEST(Result, DescribeWithoutMessageUsesCategory) {
  failure f{core::error::not_found, {}, {}};
  EXPECT_EQ(f.describe(), "not found");
  f.where = at_offset(12);
  EXPECT_EQ(f.describe(), "not found at byte 12");
}

TEST(Result, VoidResult) {
  result<void> ok;
  EXPECT_TRUE(ok);
  ok.value();
  result<void> bad{core::error::io_error, "disk full"};
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.describe(), "disk full");
#if IOTBLOCKS_EXCEPTIONS
  try {
    bad.value();
    FAIL() << "value() must throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), core::error::io_error);
  }
#endif
}

#if !IOTBLOCKS_EXCEPTIONS
// Without exceptions, value() on a failure runs the failure handler, then aborts.
void report_failure(const failure& f) noexcept {
  std::fprintf(stderr, "handler: %s\n", f.describe().c_str());
}

TEST(ResultDeathTest, ValueOfFailureCallsHandlerThenAborts) {
  result<int> r{core::error::invalid_argument, "bad port", at_offset(3)};
  EXPECT_DEATH((void)r.value(), "handler: bad port at byte 3");
  result<void> v{core::error::io_error, "disk full"};
  EXPECT_DEATH(v.value(), "handler: disk full");
  EXPECT_EQ(set_failure_handler(nullptr), &report_failure);
  EXPECT_DEATH((void)r.value(), "");
}

// Installs the handler before the death tests fork.
const bool handler_installed = [] {
  set_failure_handler(&report_failure);
  return true;
}();
#endif

TEST(Result, MoveOnlyValue) {
  result<std::unique_ptr<int>> r{std::make_unique<int>(3)};
  auto p = std::move(r).value();
  EXPECT_EQ(*p, 3);
}

TEST(Position, CountsLinesAndColumns) {
  const std::string_view text = "ab\ncd\n\nxyz";
  EXPECT_EQ(position_in(text, 0), (position{0, 1, 1}));
  EXPECT_EQ(position_in(text, 4), (position{4, 2, 2}));
  EXPECT_EQ(position_in(text, 7), (position{7, 4, 1}));
  EXPECT_EQ(position_in(text, 99).line, 4u);  // clamped to the end
}

TEST(ErrorCategory, NameAndMessages) {
  std::error_code ec = core::error::invalid_json;
  EXPECT_STREQ(ec.category().name(), "iotblocks.core");
  EXPECT_EQ(ec.message(), "invalid JSON");
  EXPECT_EQ(std::error_code(99, core::error_category()).message(), "unknown iotblocks.core error");
}

TEST(Version, MatchesProject) { EXPECT_EQ(version_string, IOTBLOCKS_PROJECT_VERSION); }

}  // namespace
}  // namespace iotblocks
