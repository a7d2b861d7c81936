// The operator log: logfmt lines with time and level, values escaped onto one
// line and bounded, levels, and the per-event rate limit with its counts.
#include "gateway/operator_log.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace iotblocks::gateway {
namespace {

std::vector<std::string> lines_of(std::FILE* f) {
  std::rewind(f);
  std::vector<std::string> out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, f) != nullptr) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  return out;
}

TEST(OperatorLog, LogfmtLinesWithEscapedBoundedValues) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  operator_log log({.level = log_level::info}, f);
  log.write(log_level::warn, "tls_refused",
            {{"peer", "192.0.2.7"}, {"reason", "bad \"cert\"\nline2"}, {"empty", ""}});
  log.write(log_level::debug, "hidden", {});
  log.write(log_level::info, "long", {{"v", std::string(2000, 'x')}});
  const auto lines = lines_of(f);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].starts_with("time=")) << lines[0];
  EXPECT_NE(lines[0].find("Z level=warn event=tls_refused peer=192.0.2.7 "
                          "reason=\"bad \\\"cert\\\"\\nline2\" empty=\"\""),
            std::string::npos)
      << lines[0];
  EXPECT_LT(lines[1].size(), operator_log::max_value + 100);
  EXPECT_NE(lines[1].find("...\""), std::string::npos);
  std::fclose(f);
}

TEST(OperatorLog, RateLimitPerEventCountsWhatItDrops) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  operator_log log({.level = log_level::info, .burst = 3, .per_second = 1}, f);
  const auto t0 = operator_log::clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 10; ++i) log.write(log_level::warn, "flood", {}, t0);
  log.write(log_level::warn, "other", {}, t0);  // its own budget
  log.tick(t0);                                 // no token left: nothing yet
  log.tick(t0 + std::chrono::seconds(1));       // one token: the count
  for (int i = 0; i < 2; ++i) log.write(log_level::warn, "flood", {}, t0 + std::chrono::seconds(3));
  const auto lines = lines_of(f);
  ASSERT_EQ(lines.size(), 7u);
  for (int i = 0; i < 3; ++i) EXPECT_NE(lines[i].find("event=flood"), std::string::npos);
  EXPECT_NE(lines[3].find("event=other"), std::string::npos);
  EXPECT_NE(lines[4].find("event=log_suppressed of=flood count=7"), std::string::npos) << lines[4];
  EXPECT_EQ(lines[5].find("suppressed="), std::string::npos);
  EXPECT_NE(lines[6].find("event=flood"), std::string::npos);
  std::fclose(f);
}

TEST(OperatorLog, LevelsParseAndOffWritesNothing) {
  EXPECT_EQ(parse_log_level("warn"), log_level::warn);
  EXPECT_EQ(parse_log_level("verbose"), std::nullopt);
  std::FILE* f = std::tmpfile();
  operator_log log({.level = log_level::off}, f);
  log.write(log_level::error, "x", {});
  EXPECT_TRUE(lines_of(f).empty());
  std::fclose(f);
}

}  // namespace
}  // namespace iotblocks::gateway
