// Evaluating templates: every function, conditions, parameters, overrides, and the
// failures that name their path.
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/template.hpp>

#include <gtest/gtest.h>

#include "read_file.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace iotblocks::provisioning;
using params = std::map<std::string, std::string>;

using iotblocks::testing::read_whole_file;

const params pseudo{{"AWS::IoT::Certificate::Id", "c0ffee"}};

iotblocks::result<plan> run(const std::string& body, const params& p = {}, const limits& l = {}) {
  auto t = parse_template(body, l);
  if (!t) return std::move(t).take_failure();
  return evaluate(*t, p, pseudo, l);
}

// A template with one thing whose ThingName is `expr`.
std::string with_name(const std::string& expr, const std::string& extra = "") {
  return R"({"Parameters":{"S":{"Type":"String","Default":"7"},"L":{"Type":"CommaDelimitedList","Default":"x,y"}},)" +
         extra + R"("Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":)" +
         expr + "}}}}";
}

std::string name_of(const std::string& expr, const std::string& extra = "") {
  auto p = run(with_name(expr, extra));
  if (!p) return "ERROR " + p.describe();
  return p->thing->name;
}

void expect_failure(const std::string& body, error code, const std::string& message,
                    const params& p = {}) {
  auto r = run(body, p);
  ASSERT_FALSE(r) << body;
  EXPECT_EQ(r.error(), code) << r.describe();
  EXPECT_EQ(r.describe(), message);
}

TEST(ProvisioningEvaluate, FleetExampleGivesThePlan) {
  auto t = parse_template(read_whole_file("tests/data/provisioning/fleet.json"));
  ASSERT_TRUE(t) << t.describe();
  auto p = evaluate(*t, {{"SerialNumber", "42"}}, pseudo);
  ASSERT_TRUE(p) << p.describe();
  ASSERT_TRUE(p->thing);
  EXPECT_EQ(p->thing->logical_name, "thing");
  EXPECT_EQ(p->thing->name, "lamp-42");
  EXPECT_EQ(p->thing->type_name, "lamp-type");
  EXPECT_EQ(p->thing->groups, (std::vector<std::string>{"fleet", "europe"}));
  EXPECT_EQ(p->thing->attributes, (std::map<std::string, std::string>{
                                      {"serial", "42"},
                                      {"second", "b"},
                                      {"prefix", "x"},
                                      {"where", "eu-lamp"},
                                  }));
  EXPECT_EQ(p->thing->attributes_override, override_mode::merge);
  EXPECT_EQ(p->thing->type_override, override_mode::replace);
  EXPECT_EQ(p->thing->groups_override, override_mode::do_nothing);
  ASSERT_TRUE(p->certificate);
  EXPECT_EQ(p->certificate->id, "c0ffee");
  EXPECT_TRUE(p->certificate->active);
  ASSERT_EQ(p->policies.size(), 1u);  // "extra" has Condition NotLamp
  EXPECT_EQ(p->policies[0].name, "device-policy");
  EXPECT_EQ(p->device_configuration, (std::map<std::string, std::string>{
                                         {"endpoint", "eu.example"},
                                         {"either", "yes"},
                                         {"literal", "${Keep} 42"},
                                     }));

  // Other parameters take the other branches.
  auto q = evaluate(*t, {{"SerialNumber", "9"}, {"Model", "fan"}, {"Location", "us"}}, pseudo);
  ASSERT_TRUE(q) << q.describe();
  EXPECT_EQ(q->thing->name, "fan-9");
  EXPECT_EQ(q->thing->type_name, "other-type");
  EXPECT_EQ(q->thing->groups, (std::vector<std::string>{"fleet", "america"}));
  ASSERT_EQ(q->policies.size(), 2u);
  EXPECT_EQ(q->policies[1].name, "not-for-lamps");
  EXPECT_EQ(q->device_configuration.at("either"), "yes");
}

TEST(ProvisioningEvaluate, PseudoParametersCannotBeSetByTheDevice) {
  auto t = parse_template(read_whole_file("tests/data/provisioning/fleet.json"));
  ASSERT_TRUE(t);
  auto p =
      evaluate(*t, {{"SerialNumber", "1"}, {"AWS::IoT::Certificate::Id", "someone-else"}}, pseudo);
  ASSERT_TRUE(p) << p.describe();
  EXPECT_EQ(p->certificate->id, "c0ffee");
}

TEST(ProvisioningEvaluate, Functions) {
  EXPECT_EQ(name_of(R"({"Ref":"S"})"), "7");
  EXPECT_EQ(name_of(R"({"Fn::Join":["",["a",{"Ref":"S"},"b"]]})"), "a7b");
  EXPECT_EQ(name_of(R"({"Fn::Join":[":",{"Ref":"L"}]})"), "x:y");
  EXPECT_EQ(name_of(R"({"Fn::Select":[1,{"Ref":"L"}]})"), "y");
  EXPECT_EQ(name_of(R"({"Fn::Select":["0",["q","r"]]})"), "q");
  EXPECT_EQ(name_of(R"({"Fn::Select":[2,{"Fn::Split":["--","a--b--c"]}]})"), "c");
  EXPECT_EQ(name_of(R"({"Fn::Sub":"t-${S}-${AWS::IoT::Certificate::Id}"})"), "t-7-c0ffee");
  EXPECT_EQ(name_of(R"({"Fn::Sub":["${A}_${S}",{"A":{"Fn::Join":["",["p","q"]]}}]})"), "pq_7");
  EXPECT_EQ(name_of(R"({"Fn::FindInMap":["M",{"Ref":"S"},"k"]})",
                    R"("Mappings":{"M":{"7":{"k":"seven"}}},)"),
            "seven");
  EXPECT_EQ(name_of(R"({"Fn::If":["C","yes","no"]})",
                    R"("Conditions":{"C":{"Fn::Or":[{"Fn::Equals":["1",{"Ref":"S"}]},)"
                    R"({"Fn::Not":[{"Fn::Equals":["1","1"]}]}]}},)"),
            "no");
  EXPECT_EQ(name_of(R"({"Fn::If":["C","yes","no"]})",
                    R"("Conditions":{"C":{"Fn::And":[{"Fn::Equals":["7",{"Ref":"S"}]},)"
                    R"({"Condition":"D"}]},"D":{"Fn::Equals":["a","a"]}},)"),
            "yes");
}

TEST(ProvisioningEvaluate, FailuresNameThePath) {
  const std::string prefix = "Resources.thing.Properties.ThingName";
  expect_failure(with_name(R"({"Ref":"Serial"})"), error::invalid_template,
                 prefix + ": Ref to unknown parameter 'Serial'");
  expect_failure(with_name(R"({"Fn::Select":[5,["a"]]})"), error::invalid_template,
                 prefix + ": index 5 out of range (1 values)");
  expect_failure(with_name(R"({"Fn::Select":["x",["a"]]})"), error::invalid_template,
                 prefix + ".Fn::Select[0]: index 'x' is not a number");
  expect_failure(with_name(R"({"Fn::Join":["-",["a",["b"]]]})"), error::invalid_template,
                 prefix + ".Fn::Join[1][1]: Fn::Join joins strings only");
  expect_failure(with_name(R"({"Fn::Split":["",""]})"), error::invalid_template,
                 prefix + ": Fn::Split takes [delimiter, string], a non-empty delimiter");
  expect_failure(with_name(R"({"Fn::FindInMap":["M","a","b"]})"), error::invalid_template,
                 prefix + ": no 'M' in Mappings");
  expect_failure(with_name(R"({"Fn::Sub":"${Nope}"})"), error::invalid_template,
                 prefix + ": ${Nope} names no parameter or variable");
  expect_failure(with_name(R"({"Fn::Sub":"${S"})"), error::invalid_template,
                 prefix + ": unclosed ${ in Fn::Sub");
  expect_failure(with_name(R"({"Fn::If":["C","a","b"]})"), error::invalid_template,
                 prefix + ".Fn::If[0]: unknown condition 'C'");
  expect_failure(with_name(R"({"Fn::GetAtt":["a","b"]})"), error::invalid_template,
                 prefix + ": unknown function 'Fn::GetAtt'");
  expect_failure(with_name(R"(["a"])"), error::invalid_template, prefix + ": must be a string");
  expect_failure(with_name(R"({"Fn::If":["A","a","b"]})",
                           R"("Conditions":{"A":{"Condition":"B"},"B":{"Condition":"A"}},)"),
                 error::invalid_template, "Conditions.A: circular condition reference");
  expect_failure(with_name(R"({"Fn::If":["A","a","b"]})", R"("Conditions":{"A":"yes"},)"),
                 error::invalid_template,
                 "Conditions.A: a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or "
                 "{\"Condition\": name}");
  expect_failure(with_name(R"("a/b")"), error::invalid_parameters,
                 prefix + ": thing name 'a/b' is not 1..128 of [a-zA-Z0-9:_-]");
}

TEST(ProvisioningEvaluate, Parameters) {
  const std::string body =
      R"({"Parameters":{"N":{"Type":"Number"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing",)"
      R"("Properties":{"ThingName":{"Fn::Join":["-",["n",{"Ref":"N"}]]}}}}})";
  expect_failure(body, error::invalid_parameters, "Parameters.N: no value given and no Default");
  expect_failure(body, error::invalid_parameters, "Parameters.N: 'ten' is not a Number",
                 {{"N", "ten"}});
  auto ok = run(body, {{"N", "10"}, {"Unused", "ignored"}});
  ASSERT_TRUE(ok) << ok.describe();
  EXPECT_EQ(ok->thing->name, "n-10");
  auto too_long = run(body, {{"N", std::string(4097, '1')}});
  EXPECT_EQ(too_long.error(), error::invalid_parameters);
  params many;
  for (int i = 0; i < 65; ++i) many["p" + std::to_string(i)] = "v";
  EXPECT_EQ(run(body, many).error(), error::invalid_parameters);
}

TEST(ProvisioningEvaluate, OutputIsBounded) {
  // 9 Joins of 9 references to a 4000-byte parameter: 324 KB if nothing stopped it.
  std::string refs;
  for (int i = 0; i < 9; ++i) refs += std::string(i ? "," : "") + R"({"Ref":"P"})";
  std::string joins;
  for (int i = 0; i < 9; ++i) {
    joins += std::string(i ? "," : "") + R"({"Fn::Join":["",[)" + refs + "]]}";
  }
  const std::string body =
      R"({"Parameters":{"P":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing",)"
      R"("Properties":{"ThingName":"t","AttributePayload":{"a":{"Fn::Join":["",[)" +
      joins + "]]}}}}}}";
  auto r = run(body, {{"P", std::string(4000, 'x')}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::limit_exceeded) << r.describe();
}

TEST(ProvisioningEvaluate, CertificateAndPolicyRules) {
  const auto cert = [](const std::string& props) {
    return R"({"Resources":{"c":{"Type":"AWS::IoT::Certificate","Properties":)" + props + "}}}";
  };
  auto inactive =
      run(cert(R"({"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"INACTIVE"})"));
  ASSERT_TRUE(inactive) << inactive.describe();
  EXPECT_FALSE(inactive->certificate->active);
  expect_failure(cert(R"({"Status":"Active"})"), error::invalid_template,
                 "Resources.c.Properties: needs exactly one of CertificateId, "
                 "CertificateSigningRequest and CertificatePem");
  expect_failure(cert(R"({"CertificateId":"x","Status":"Revoked"})"), error::invalid_template,
                 "Resources.c.Properties.Status: must be Active or Inactive");
  const auto policy = [](const std::string& props) {
    return R"({"Resources":{"p":{"Type":"AWS::IoT::Policy","Properties":)" + props + "}}}";
  };
  auto doc = run(policy(R"({"PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"})"));
  ASSERT_TRUE(doc) << doc.describe();
  EXPECT_EQ(doc->policies.at(0).document, R"({"Version":"2012-10-17","Statement":[]})");
  expect_failure(policy(R"({"PolicyDocument":"not json"})"), error::invalid_template,
                 "Resources.p.Properties.PolicyDocument: must be a JSON policy document (an "
                 "object, as text)");
  expect_failure(policy(R"({"PolicyName":"a","PolicyDocument":"{}"})"), error::invalid_template,
                 "Resources.p.Properties: needs exactly one of PolicyName and PolicyDocument");
  expect_failure(R"({"Resources":{"t":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":"t"},)"
                 R"("OverrideSettings":{"ThingTypeName":"MERGE"}}}})",
                 error::invalid_template,
                 "Resources.t.OverrideSettings.ThingTypeName: must be DO_NOTHING, REPLACE or FAIL");
}

}  // namespace
