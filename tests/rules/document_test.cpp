// Topic-rule payload documents: the blog-post rules parse, malformed ones fail
// with a code and the line:column of the offending value.
#include <iotblocks/core/error.hpp>
#include <iotblocks/rules/document.hpp>

#include "rules/util.hpp"

#include <gtest/gtest.h>

namespace iotblocks::rules {
namespace {

using testing::data;

TEST(RuleDocument, ParsesTheGreenhouseRule) {
  auto doc = parse_rule_document(data("too_bright.json"));
  ASSERT_TRUE(doc) << doc.describe();
  EXPECT_EQ(doc->sql, "SELECT * FROM '/topic/Greenhouse/LuxSensors' WHERE lux > 35000");
  EXPECT_FALSE(doc->disabled);
  EXPECT_EQ(doc->sql_version, "2016-03-23");
  ASSERT_EQ(doc->actions.size(), 1u);
  EXPECT_EQ(doc->actions[0].type, "cloudwatchMetric");
  EXPECT_NE(doc->actions[0].parameters.find("\"metricName\":\"ShadePosition\""), std::string::npos);
  EXPECT_EQ(doc->actions[0].where.line, 6u);
  EXPECT_FALSE(doc->error_action);
}

TEST(RuleDocument, ErrorActionAndRoundTrip) {
  const std::string text =
      R"({"sql":"SELECT * FROM 'a/b'","actions":[],"errorAction":{"republish":{"topic":"errors"}}})";
  auto doc = parse_rule_document(text);
  ASSERT_TRUE(doc) << doc.describe();
  ASSERT_TRUE(doc->error_action);
  EXPECT_EQ(doc->error_action->type, "republish");
  auto again = parse_rule_document(doc->to_json());
  ASSERT_TRUE(again) << again.describe();
  EXPECT_EQ(again->to_json(), doc->to_json());
}

TEST(RuleDocument, OldSqlVersionWarns) {
  auto doc = parse_rule_document(R"({"sql":"SELECT * FROM 'a'","awsIotSqlVersion":"2015-10-08"})");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->warnings.size(), 1u);
}

struct invalid_case {
  const char* file;
  std::error_code code;
  std::uint32_t line;
  std::uint32_t column;
};

TEST(RuleDocument, InvalidDocumentsReportPositions) {
  const invalid_case cases[] = {
      {"sql_not_string.json", error::invalid_document, 1, 9},
      {"two_members.json", error::invalid_document, 4, 5},
      {"disabled_not_bool.json", error::invalid_document, 1, 43},
      {"bad_version.json", error::unsupported_sql_version, 1, 47},
      {"unknown_element.json", error::invalid_document, 1, 36},
      {"missing_sql.json", error::invalid_document, 1, 1},
      {"truncated.json", core::error::invalid_json, 1, 40},
      {"actions_not_array.json", error::invalid_document, 1, 38},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto doc = parse_rule_document(data(std::string("invalid/") + c.file));
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error(), c.code) << doc.describe();
    EXPECT_EQ(doc.fail().where.line, c.line) << doc.describe();
    EXPECT_EQ(doc.fail().where.column, c.column) << doc.describe();
  }
}

TEST(RuleDocument, Limits) {
  std::string many = R"({"sql":"SELECT * FROM 'a'","actions":[)";
  for (int i = 0; i < 11; ++i) many += std::string(i ? "," : "") + R"({"republish":{"topic":"t"}})";
  many += "]}";
  EXPECT_EQ(parse_rule_document(many).error(), core::error::limit_exceeded);
  EXPECT_EQ(parse_rule_document(many, {.max_size = 10}).error(), core::error::limit_exceeded);
  EXPECT_EQ(parse_rule_document(std::string(100, '[') + std::string(100, ']')).error(),
            core::error::json_too_deep);
}

TEST(RuleName, Validation) {
  EXPECT_TRUE(validate_rule_name("TooBright"));
  EXPECT_TRUE(validate_rule_name("Lux_telemetry_to_DynamoDB"));
  EXPECT_EQ(validate_rule_name("").error(), error::invalid_rule_name);
  EXPECT_EQ(validate_rule_name("bad-name").error(), error::invalid_rule_name);
  EXPECT_EQ(validate_rule_name("bad-name").fail().where.offset, 3u);
  EXPECT_EQ(validate_rule_name(std::string(129, 'a')).error(), error::invalid_rule_name);
}

}  // namespace
}  // namespace iotblocks::rules
