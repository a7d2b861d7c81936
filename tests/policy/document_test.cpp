// Parsing: malformed documents fail with the right code at the right line and
// column (files in tests/data/policy/invalid/), warnings, limits, canonical JSON.
#include <iotblocks/policy.hpp>

#include "core/json.hpp"

#include <gtest/gtest.h>

#include "read_file.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace iotblocks::policy {
namespace {

using iotblocks::testing::read_whole_file;

const std::map<std::string, std::error_code> codes = {
    {"invalid_document", error::invalid_document},
    {"unsupported_version", error::unsupported_version},
    {"missing_element", error::missing_element},
    {"unknown_element", error::unknown_element},
    {"duplicate_element", error::duplicate_element},
    {"conflicting_elements", error::conflicting_elements},
    {"invalid_effect", error::invalid_effect},
    {"invalid_action", error::invalid_action},
    {"invalid_resource", error::invalid_resource},
    {"invalid_variable", error::invalid_variable},
    {"invalid_condition", error::invalid_condition},
    {"unsupported_operator", error::unsupported_operator},
    {"invalid_condition_value", error::invalid_condition_value},
    {"invalid_principal", error::invalid_principal},
    {"too_large", error::too_large},
    {"invalid_json", core::error::invalid_json},
};

TEST(PolicyDocument, InvalidDocumentsReportCodeAndPosition) {
  const std::string expected_text = read_whole_file("tests/data/policy/invalid_expected.json");
  auto expected = json::parse(expected_text);
  ASSERT_TRUE(expected);
  std::size_t count = 0;
  for (auto m = expected->MemberBegin(); m != expected->MemberEnd(); ++m) {
    const std::string name(json::view(m->name));
    SCOPED_TRACE(name);
    ++count;
    const std::string text = read_whole_file("tests/data/policy/invalid/" + name + ".json");
    ASSERT_FALSE(text.empty());
    auto doc = parse_document(text);
    ASSERT_FALSE(doc);
    const auto& f = doc.fail();
    EXPECT_EQ(f.code, codes.at(std::string(json::view(m->value["error"])))) << f.describe();
    EXPECT_EQ(f.where.line, m->value["line"].GetUint()) << f.describe();
    EXPECT_EQ(f.where.column, m->value["column"].GetUint()) << f.describe();
    EXPECT_FALSE(f.message.empty());
  }
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator("tests/data/policy/invalid")) {
    files += e.path().extension() == ".json";
  }
  EXPECT_EQ(count, files) << "every invalid document has an expectation";
}

TEST(PolicyDocument, StatementObjectOrList) {
  auto one = parse_document(
      R"({"Version":"2012-10-17","Statement":{"Sid":"S","Effect":"Deny","Action":"iot:*","Resource":"*"}})");
  ASSERT_TRUE(one) << one.describe();
  ASSERT_EQ(one->statement_count(), 1u);
  EXPECT_EQ(one->statement(0).sid, "S");
  EXPECT_EQ(one->statement(0).effect, effect::deny);
  EXPECT_EQ(one->statement(0).where.line, 1u);
  EXPECT_EQ(one->statement(0).where.column, 37u);
  EXPECT_EQ(one->version(), "2012-10-17");
  EXPECT_EQ(one->kind(), document_kind::identity);
}

TEST(PolicyDocument, WarningsForLikelyMistakes) {
  auto doc = parse_document(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["iot:Publsh","s3:GetObject"],"Resource":"arn:aws:iot:us-east-1:1:topic/a/#"},
    {"Sid":"x","Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:1:client/${iot:Connection.Thing.Name}"},
    {"Sid":"x","Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:Certificate.Subject.Colour":"red"}}}]})");
  ASSERT_TRUE(doc) << doc.describe();
  std::string all;
  for (const auto& w : doc->warnings()) all += w.message + "\n";
  EXPECT_NE(all.find("iot:Publsh"), std::string::npos) << all;
  EXPECT_NE(all.find("s3:GetObject"), std::string::npos) << all;
  EXPECT_NE(all.find("literal characters"), std::string::npos) << all;
  EXPECT_NE(all.find("iot:Connection.Thing.Name"), std::string::npos) << all;
  EXPECT_NE(all.find("iot:Certificate.Subject.Colour"), std::string::npos) << all;
  EXPECT_NE(all.find("Sid 'x'"), std::string::npos) << all;
  EXPECT_EQ(doc->warnings()[0].where.line, 2u);
}

TEST(PolicyDocument, MissingVersionMeansLiteralVariables) {
  auto doc = parse_document(
      R"({"Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:r:1:topic/${iot:ClientId}"}]})");
  ASSERT_TRUE(doc) << doc.describe();
  EXPECT_EQ(doc->version(), "2008-10-17");
  ASSERT_FALSE(doc->warnings().empty());
  policy_set set;
  set.add("p", 1, *doc);
  context ctx;
  ctx.client_id = "c";
  EXPECT_FALSE(evaluate(set, {actions::publish, "arn:aws:iot:r:1:topic/c"}, ctx).allowed());
  EXPECT_TRUE(
      evaluate(set, {actions::publish, "arn:aws:iot:r:1:topic/${iot:ClientId}"}, ctx).allowed());
}

TEST(PolicyDocument, SizeLimitCountsNonWhitespace) {
  std::string doc =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":[)";
  for (int i = 0; i < 60; ++i)
    doc += std::string(i ? "," : "") + "\n   \"arn:aws:iot:us-east-1:1:topic/t" +
           std::to_string(i) + "\"";
  doc += "]}]}";
  auto big = parse_document(doc);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error(), error::too_large);
  EXPECT_TRUE(big.fail().where.known());
  auto ok = parse_document(doc, {.max_size = 8192});
  EXPECT_TRUE(ok) << ok.describe();
  auto few = parse_document(doc, {.max_size = 8192, .max_values_per_element = 10});
  ASSERT_FALSE(few);
  EXPECT_EQ(few.error(), error::too_large);
}

TEST(PolicyDocument, DeepNestingIsRejected) {
  std::string deep =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"a:b":)";
  deep += std::string(20, '[') + "\"x\"" + std::string(20, ']') + "}}}]}";
  auto r = parse_document(deep);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), core::error::json_too_deep);
}

TEST(PolicyDocument, CanonicalJsonRoundTrips) {
  auto doc = parse_document(R"({"Version":"2012-10-17","Id":"x","Statement":[
    {"Sid":"A","Effect":"Allow","Action":"iot:Connect","Resource":"*",
     "Condition":{"ForAnyValue:StringLike":{"iot:Certificate.Subject.Organization.List":["A*","B"]},"Bool":{"iot:Connection.Thing.IsAttached":true},"NumericLessThan":{"x:y":3}}},
    {"Effect":"Deny","NotAction":["iot:Publish"],"NotResource":"arn:aws:iot:*:*:topic/${iot:ClientId, 'none'}"}]})");
  ASSERT_TRUE(doc) << doc.describe();
  const std::string canonical = doc->to_json();
  EXPECT_NE(canonical.find(R"("Bool":{"iot:Connection.Thing.IsAttached":["true"]})"),
            std::string::npos)
      << canonical;
  auto again = parse_document(canonical);
  ASSERT_TRUE(again) << again.describe();
  EXPECT_EQ(again->to_json(), canonical);
  EXPECT_EQ(again->to_json(true), doc->to_json(true));
}

TEST(PolicyDocument, ResourcePolicyNeedsPrincipal) {
  const parse_options o{.kind = document_kind::resource, .max_size = 20480};
  auto none = parse_document(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}]})",
      o);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), error::missing_element);
  auto bad = parse_document(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"lambda:InvokeFunction","Resource":"*"}]})",
      o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), error::invalid_principal);
  auto good = parse_document(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"iot.amazonaws.com","AWS":["arn:aws:iam::123456789012:root"]},"Action":"lambda:InvokeFunction","Resource":"*"}]})",
      o);
  ASSERT_TRUE(good) << good.describe();
  EXPECT_TRUE(good->warnings().empty());
}

TEST(PolicyDocument, ErrorCategory) {
  std::error_code ec = error::invalid_effect;
  EXPECT_STREQ(ec.category().name(), "iotblocks.policy");
  EXPECT_EQ(ec.message(), "invalid Effect");
}

}  // namespace
}  // namespace iotblocks::policy
