// Resource policies of rule destinations: the cross-account rule (table in
// tests/data/policy/resource/), add-permission, and the store's persistence.
#include <iotblocks/policy.hpp>

#include "core/json.hpp"

#include <gtest/gtest.h>

#include "read_file.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace iotblocks::policy {
namespace {

using iotblocks::testing::read_whole_file;

constexpr std::string_view function_arn =
    "arn:aws:lambda:us-east-1:987654321012:function:LambdaForWeatherCorp";
constexpr std::string_view rule_arn = "arn:aws:iot:us-east-1:123456789012:rule/WeatherCorpRule";

TEST(PolicyResource, CrossAccountTable) {
  auto file = json::parse(read_whole_file("tests/data/policy/resource/cross_account.json"));
  ASSERT_TRUE(file) << file.describe();
  auto doc = parse_document(json::write((*file)["policy"]), resource_policy_options());
  ASSERT_TRUE(doc) << doc.describe();
  for (const auto& c : (*file)["cases"].GetArray()) {
    SCOPED_TRACE(std::string(json::view(c["name"])));
    invocation inv;
    inv.action = json::view(c["action"]);
    inv.destination_arn = json::view(c["destination"]);
    inv.source_arn = json::view(c["source_arn"]);
    if (c.HasMember("source_account")) inv.source_account = json::view(c["source_account"]);
    if (c.HasMember("service")) inv.service = json::view(c["service"]);
    const invocation_decision d = authorize_invocation(*doc, inv);
    EXPECT_EQ(to_string(d.result), json::view(c["expect"])) << d.reason;
    EXPECT_EQ(d.cross_account, c["cross_account"].GetBool());
    if (c.HasMember("statement")) {
      EXPECT_EQ(d.statement, c["statement"].GetUint64()) << d.reason;
    }
    EXPECT_FALSE(d.reason.empty());
  }
}

TEST(PolicyResource, AddPermissionLikeLambda) {
  auto text = add_permission("", {.statement_id = "unique_id",
                                  .action = "lambda:InvokeFunction",
                                  .destination_arn = std::string(function_arn),
                                  .source_account = "123456789012",
                                  .source_arn = std::string(rule_arn)});
  ASSERT_TRUE(text) << text.describe();
  auto doc = parse_document(*text, resource_policy_options());
  ASSERT_TRUE(doc) << doc.describe();
  EXPECT_TRUE(authorize_invocation(*doc, {.action = "lambda:InvokeFunction",
                                          .destination_arn = function_arn,
                                          .source_arn = rule_arn})
                  .allowed());
  EXPECT_FALSE(
      authorize_invocation(*doc, {.action = "lambda:InvokeFunction",
                                  .destination_arn = function_arn,
                                  .source_arn = "arn:aws:iot:us-east-1:123456789012:rule/X"})
          .allowed());
  // Without the source ARN condition a cross-account call is not admitted.
  auto loose = add_permission("", {.statement_id = "loose",
                                   .action = "lambda:InvokeFunction",
                                   .destination_arn = std::string(function_arn),
                                   .source_account = "123456789012"});
  ASSERT_TRUE(loose);
  const auto d = authorize_invocation(
      parse_document(*loose, resource_policy_options()).value(),
      {.action = "lambda:InvokeFunction", .destination_arn = function_arn, .source_arn = rule_arn});
  EXPECT_EQ(d.result, outcome::implicit_deny);
  EXPECT_NE(d.reason.find("aws:SourceArn"), std::string::npos) << d.reason;
  auto dup = add_permission(*text, {.statement_id = "unique_id",
                                    .action = "lambda:InvokeFunction",
                                    .destination_arn = std::string(function_arn)});
  EXPECT_EQ(dup.error(), error::duplicate_element);
  auto removed = remove_permission(*text, "unique_id");
  ASSERT_TRUE(removed);
  EXPECT_FALSE(authorize_invocation(parse_document(*removed, resource_policy_options()).value(),
                                    {.action = "lambda:InvokeFunction",
                                     .destination_arn = function_arn,
                                     .source_arn = rule_arn})
                   .allowed());
  EXPECT_EQ(remove_permission(*text, "nope").error(), core::error::not_found);
  EXPECT_FALSE(authorize_invocation(
                   document{}, {.action = "lambda:InvokeFunction", .destination_arn = function_arn})
                   .allowed());
}

}  // namespace
}  // namespace iotblocks::policy
