// The device MQTT API: topics, request payloads and reply shapes.
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/request.hpp>

#include <gtest/gtest.h>

namespace {

using namespace iotblocks::provisioning;

TEST(ProvisioningRequest, Topics) {
  auto a = parse_topic("$aws/certificates/create/json");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->op, operation::create_keys_and_certificate);
  auto b = parse_topic("$aws/certificates/create-from-csr/json");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->op, operation::create_certificate_from_csr);
  auto c = parse_topic("$aws/provisioning-templates/Fleet_1/provision/json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->op, operation::register_thing);
  EXPECT_EQ(c->template_name, "Fleet_1");
  for (const char* other :
       {"$aws/certificates/create/json/accepted", "$aws/certificates/create/cbor",
        "$aws/provisioning-templates/a/provision/cbor",
        "$aws/provisioning-templates/a/b/provision/json",
        "$aws/provisioning-templates/provision/json", "$aws/things/x/shadow/get", "a/b"}) {
    EXPECT_EQ(parse_topic(other).error(), error::not_a_provisioning_topic) << other;
  }
  EXPECT_EQ(parse_topic("$aws/provisioning-templates//provision/json").error(),
            error::template_not_found);
  EXPECT_EQ(parse_topic("$aws/provisioning-templates/" + std::string(37, 'a') + "/provision/json")
                .error(),
            error::template_not_found);
  EXPECT_EQ(reply_topic("$aws/certificates/create/json", true),
            "$aws/certificates/create/json/accepted");
}

TEST(ProvisioningRequest, Payloads) {
  EXPECT_TRUE(parse_create_keys(""));
  EXPECT_TRUE(parse_create_keys("{}"));
  EXPECT_EQ(parse_create_keys("[]").error(), error::invalid_request);
  EXPECT_EQ(parse_create_keys("{").error(), error::invalid_request);
  EXPECT_EQ(parse_create_from_csr("{}").error(), error::invalid_request);
  EXPECT_EQ(*parse_create_from_csr(R"({"certificateSigningRequest":"PEM"})"), "PEM");

  auto r = parse_register_thing(
      R"({"certificateOwnershipToken":"tok","parameters":{"SerialNumber":"42","Model":"x"}})");
  ASSERT_TRUE(r) << r.describe();
  EXPECT_EQ(r->ownership_token, "tok");
  EXPECT_EQ(r->parameters,
            (std::map<std::string, std::string>{{"SerialNumber", "42"}, {"Model", "x"}}));
  auto empty = parse_register_thing(R"({"parameters":{}})");
  EXPECT_EQ(empty.error(), error::invalid_ownership_token);
  EXPECT_EQ(empty.describe(), "Certificate ownership token cannot be empty.");
  EXPECT_EQ(parse_register_thing(R"({"certificateOwnershipToken":1})").error(),
            error::invalid_request);
  auto typed = parse_register_thing(R"({"certificateOwnershipToken":"t","parameters":{"n":1}})");
  EXPECT_EQ(typed.error(), error::invalid_request);
  EXPECT_EQ(typed.describe(), "parameters.n: expected a string");
  EXPECT_EQ(parse_register_thing(R"({"certificateOwnershipToken":"t","parameters":{"n":"x"}})",
                                 limits{}.max_parameter_value(0))
                .error(),
            error::invalid_parameters);
  EXPECT_EQ(
      parse_register_thing(std::string(200, ' ') + "{}", limits{}.max_request_size(100)).error(),
      error::invalid_request);
}

TEST(ProvisioningRequest, Replies) {
  EXPECT_EQ(create_keys_accepted("id", "CERT\n", "KEY", "tok"),
            R"({"certificateId":"id","certificatePem":"CERT\n","privateKey":"KEY",)"
            R"("certificateOwnershipToken":"tok"})");
  EXPECT_EQ(create_from_csr_accepted("id", "C", "t"),
            R"({"certificateId":"id","certificatePem":"C","certificateOwnershipToken":"t"})");
  EXPECT_EQ(register_thing_accepted({{"k", "v"}}, "lamp-1"),
            R"({"deviceConfiguration":{"k":"v"},"thingName":"lamp-1"})");
  EXPECT_EQ(rejected_payload(error::invalid_ownership_token,
                             "Certificate ownership token cannot be empty."),
            R"({"statusCode":400,"errorCode":"InvalidCertificateOwnershipToken",)"
            R"("errorMessage":"Certificate ownership token cannot be empty."})");
  EXPECT_EQ(rejected_payload(error::template_not_found, "x"),
            R"({"statusCode":404,"errorCode":"ResourceNotFound","errorMessage":"x"})");
}

}  // namespace
