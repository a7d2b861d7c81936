// Parsing templates: structure checks and limits; each refusal names the place.
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/template.hpp>

#include <gtest/gtest.h>

#include "read_file.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace iotblocks::provisioning;

using iotblocks::testing::read_whole_file;

void expect_refused(const std::string& body, error code, const std::string& message_part) {
  auto t = parse_template(body);
  ASSERT_FALSE(t) << body;
  EXPECT_EQ(t.error(), code) << t.describe();
  EXPECT_NE(t.describe().find(message_part), std::string::npos) << t.describe();
}

TEST(ProvisioningTemplate, ParsesTheFleetExample) {
  auto t = parse_template(read_whole_file("tests/data/provisioning/fleet.json"));
  ASSERT_TRUE(t) << t.describe();
  EXPECT_EQ(t->parameter_names(), (std::vector<std::string>{"SerialNumber", "Model", "Location",
                                                            "Tags", "AWS::IoT::Certificate::Id"}));
}

TEST(ProvisioningTemplate, RefusesUnknownFunctionsAndConditionsAtParse) {
  expect_refused(R"({"Resources":{"t":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":)"
                 R"({"Fn::Join":["",[{"Fn::GetAtt":["a","b"]}]]}}}}})",
                 error::invalid_template,
                 "Resources.t.Properties.ThingName.Fn::Join[1][0]: unknown function 'Fn::GetAtt'");
  expect_refused(R"({"Resources":{"t":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":)"
                 R"({"Fn::If":["Nope","a","b"]}}}}})",
                 error::invalid_template, "ThingName.Fn::If[0]: unknown condition 'Nope'");
  expect_refused(R"({"Resources":{"t":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":)"
                 R"({"Ref":["a"]}}}}})",
                 error::invalid_template, "ThingName.Ref: Ref takes a name");
}

TEST(ProvisioningTemplate, JsonSyntaxErrorHasAPosition) {
  auto t = parse_template("{\n  \"Resources\": {,}\n}");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), error::invalid_template);
  EXPECT_EQ(t.fail().where.line, 2u);
}

TEST(ProvisioningTemplate, RefusesBadStructureNamingThePath) {
  expect_refused("[]", error::invalid_template, "template: must be a JSON object");
  expect_refused("{}", error::invalid_template, "Resources: missing");
  expect_refused(R"({"Resources":{},"Outputs":{}})", error::invalid_template,
                 "Outputs: unknown template section");
  expect_refused(R"({"Resources":{"t":{"Type":"AWS::S3::Bucket","Properties":{}}}})",
                 error::invalid_template, "Resources.t.Type: must be AWS::IoT::Thing");
  expect_refused(R"({"Resources":{"t":{"Type":"AWS::IoT::Thing"}}})", error::invalid_template,
                 "Resources.t: Properties missing");
  expect_refused(R"({"Parameters":{"P":{"Type":"Blob"}},"Resources":{}})", error::invalid_template,
                 "Parameters.P.Type: must be String");
  expect_refused(R"({"Parameters":{"P":{"Type":"String","AllowedPattern":"x"}},"Resources":{}})",
                 error::invalid_template, "Parameters.P.AllowedPattern: unsupported");
  expect_refused(R"({"Mappings":{"M":{"a":{"b":{"c":1}}}},"Resources":{}})",
                 error::invalid_template, "Mappings.M.a.b: must be a string or a list");
  expect_refused(
      R"({"Resources":{"a":{"Type":"AWS::IoT::Thing","Properties":{}},
                        "b":{"Type":"AWS::IoT::Thing","Properties":{}}}})",
      error::invalid_template, "Resources.b: a template declares at most one AWS::IoT::Thing");
  expect_refused(
      R"({"Resources":{"p":{"Type":"AWS::IoT::Policy","Properties":{},"Condition":"X"}}})",
      error::invalid_template, "Resources.p.Condition: unknown condition 'X'");
  expect_refused(
      R"({"Resources":{"p":{"Type":"AWS::IoT::Policy","Properties":{},
                            "OverrideSettings":{"PolicyName":"REPLACE"}}}})",
      error::invalid_template, "only an AWS::IoT::Thing has OverrideSettings");
  expect_refused(
      R"({"Resources":{"t":{"Type":"AWS::IoT::Thing","Properties":{},
                            "OverrideSettings":{"ThingName":"REPLACE"}}}})",
      error::invalid_template, "Resources.t.OverrideSettings.ThingName");
}

TEST(ProvisioningTemplate, LimitsSizeAndDepth) {
  const std::string big = R"({"Description":")" + std::string(10240, 'x') + R"(","Resources":{}})";
  expect_refused(big, error::limit_exceeded, "more than 10240");
  EXPECT_TRUE(parse_template(big, limits{}.max_template_size(20000)));
  std::string deep = R"({"Resources":{},"Description":)";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}";
  expect_refused(deep, error::invalid_template, "template:");
  EXPECT_TRUE(parse_template(deep, limits{}.max_depth(64)));
}

TEST(ProvisioningTemplate, TemplateNames) {
  EXPECT_TRUE(valid_template_name("Fleet_tmpl-1"));
  EXPECT_FALSE(valid_template_name(""));
  EXPECT_FALSE(valid_template_name("a/b"));
  EXPECT_FALSE(valid_template_name(std::string(37, 'a')));
}

TEST(ProvisioningErrors, AwsCodes) {
  EXPECT_EQ(aws_code(error::invalid_ownership_token), "InvalidCertificateOwnershipToken");
  EXPECT_EQ(aws_status(error::invalid_ownership_token), 400);
  EXPECT_EQ(aws_status(error::template_not_found), 404);
  EXPECT_EQ(aws_code(std::make_error_code(std::errc::io_error)), "InternalError");
  EXPECT_STREQ(std::error_code(error::invalid_template).category().name(),
               "iotblocks.provisioning");
}

}  // namespace
