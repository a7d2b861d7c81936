// Topic syntax, one test per rule of MQTT 5.0 section 4.7 (and 3.1.1 section 4.7).
#include <iotblocks/topic/syntax.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iotblocks::topic {
namespace {

using namespace std::string_view_literals;

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  for (auto level : levels(s)) out.push_back(level);
  return out;
}

TEST(TopicLevels, SplitWithoutAllocation) {
  EXPECT_EQ(split("a/b/c"), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(split("a//b"), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_EQ(split("/a"), (std::vector<std::string_view>{"", "a"}));
  EXPECT_EQ(split("a/"), (std::vector<std::string_view>{"a", ""}));
  EXPECT_EQ(split("/"), (std::vector<std::string_view>{"", ""}));
  const std::string_view t = "x/yy";
  EXPECT_EQ(split(t)[1].data(), t.data() + 2);  // views into the input
}

// MQTT-4.7.1-1: '#' must be the last character, alone in its level.
TEST(TopicSyntax, MQTT_4_7_1_1_MultiLevelWildcardLast) {
  EXPECT_FALSE(validate_filter("sport/tennis/#"));
  EXPECT_FALSE(validate_filter("#"));
  EXPECT_EQ(validate_filter("sport/tennis#"), error::wildcard_not_whole_level);
  EXPECT_EQ(validate_filter("sport/tennis/#/ranking"), error::multi_level_not_last);
}

// MQTT-4.7.1-2: '+' must occupy an entire level.
TEST(TopicSyntax, MQTT_4_7_1_2_SingleLevelWildcardWholeLevel) {
  EXPECT_FALSE(validate_filter("+"));
  EXPECT_FALSE(validate_filter("+/tennis/#"));
  EXPECT_FALSE(validate_filter("sport/+/player1"));
  EXPECT_EQ(validate_filter("sport+"), error::wildcard_not_whole_level);
}

// MQTT-3.3.2-2: the topic name in a PUBLISH must not contain wildcards.
TEST(TopicSyntax, MQTT_3_3_2_2_NoWildcardsInNames) {
  EXPECT_EQ(validate_name("a/+/b"), error::wildcard_in_name);
  EXPECT_EQ(validate_name("a/#"), error::wildcard_in_name);
  EXPECT_FALSE(validate_name("a/b"));
}

// MQTT-4.7.3-1: names and filters are at least one character long.
TEST(TopicSyntax, MQTT_4_7_3_1_NotEmpty) {
  EXPECT_EQ(validate_name(""), error::empty);
  EXPECT_EQ(validate_filter(""), error::empty);
  EXPECT_FALSE(validate_name("/"));  // a single separator is valid
}

// MQTT-4.7.3-2: no U+0000. MQTT-4.7.3-3: at most 65,535 bytes. UTF-8 well-formed (1.5.4).
TEST(TopicSyntax, MQTT_4_7_3_2_NoNulAndWellFormedUtf8) {
  EXPECT_EQ(validate_name("a\0b"sv), error::invalid_utf8);
  EXPECT_EQ(validate_name("a/\xED\xA0\x80"), error::invalid_utf8);
  EXPECT_FALSE(validate_name("caf\xC3\xA9/\xE2\x82\xAC"));
}

TEST(TopicSyntax, MQTT_4_7_3_3_LengthAndLevelLimits) {
  EXPECT_EQ(validate_name(std::string(65536, 'a')), error::too_long);
  EXPECT_FALSE(validate_name(std::string(65535, 'a')));
  EXPECT_EQ(validate_name("a/b/c", {.max_length = 65535, .max_levels = 2}), error::too_many_levels);
  EXPECT_EQ(validate_filter("a/+/c", {.max_length = 65535, .max_levels = 2}),
            error::too_many_levels);
}

// MQTT-4.8.2: $share/{ShareName}/{filter}; ShareName non-empty without '/', '+', '#'.
TEST(TopicSyntax, MQTT_4_8_2_SharedSubscriptions) {
  shared_filter s;
  ASSERT_FALSE(parse_shared("$share/g1/sensors/#", s));
  EXPECT_EQ(s.group, "g1");
  EXPECT_EQ(s.filter, "sensors/#");
  EXPECT_EQ(parse_shared("$share//a", s), error::invalid_shared);
  EXPECT_EQ(parse_shared("$share/g1", s), error::invalid_shared);
  EXPECT_EQ(parse_shared("$share/g1/", s), error::invalid_shared);
  EXPECT_EQ(parse_shared("$share/g+/a", s), error::invalid_shared);
  EXPECT_EQ(parse_shared("$share/g#/a", s), error::invalid_shared);
  EXPECT_EQ(parse_shared("$share/g/a#", s), error::wildcard_not_whole_level);
  EXPECT_EQ(validate_filter("$share/g/a/#/b"), error::multi_level_not_last);
  EXPECT_FALSE(validate_filter("$share/g/+"));
}

// MQTT-4.7.1-2 examples: "sport/#" matches "sport"; '+' matches empty levels.
TEST(TopicMatch, MQTT_4_7_1_Wildcards) {
  EXPECT_TRUE(matches("sport/tennis/player1/#", "sport/tennis/player1"));
  EXPECT_TRUE(matches("sport/tennis/player1/#", "sport/tennis/player1/ranking/wimbledon"));
  EXPECT_TRUE(matches("sport/#", "sport"));
  EXPECT_TRUE(matches("#", "a/b/c"));
  EXPECT_TRUE(matches("sport/tennis/+", "sport/tennis/player1"));
  EXPECT_FALSE(matches("sport/tennis/+", "sport/tennis/player1/ranking"));
  EXPECT_FALSE(matches("sport/+", "sport"));
  EXPECT_TRUE(matches("sport/+", "sport/"));
  EXPECT_TRUE(matches("+/+", "/finance"));
  EXPECT_TRUE(matches("/+", "/finance"));
  EXPECT_FALSE(matches("+", "/finance"));
}

// MQTT-4.7.2-1: filters starting with a wildcard do not match names starting with '$'.
TEST(TopicMatch, MQTT_4_7_2_1_DollarTopics) {
  EXPECT_FALSE(matches("#", "$SYS/broker/uptime"));
  EXPECT_FALSE(matches("+/monitor/Clients", "$SYS/monitor/Clients"));
  EXPECT_TRUE(matches("$SYS/#", "$SYS/monitor/Clients"));
  EXPECT_TRUE(matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
  EXPECT_TRUE(matches("$aws/events/certificates/registered/+",
                      "$aws/events/certificates/registered/abc123"));
}

// MQTT-4.7.3-4: matching is case sensitive and byte-exact; empty levels count.
TEST(TopicMatch, MQTT_4_7_3_4_CaseSensitiveAndEmptyLevels) {
  EXPECT_FALSE(matches("ACCOUNTS", "Accounts"));
  EXPECT_FALSE(matches("a/b", "a//b"));
  EXPECT_TRUE(matches("a/+/b", "a//b"));
  EXPECT_FALSE(matches("a/b", "a/b/"));
}

TEST(TopicError, CategoryName) {
  std::error_code ec = error::invalid_shared;
  EXPECT_STREQ(ec.category().name(), "iotblocks.topic");
  EXPECT_FALSE(ec.message().empty());
}

}  // namespace
}  // namespace iotblocks::topic
