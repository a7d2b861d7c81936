// gateway::config "aws_access_keys": keys, secrets, per-key policies, and errors naming the value.
#include <iotblocks/gateway/config.hpp>

#include <gtest/gtest.h>

namespace iotblocks::gateway {
namespace {

TEST(GatewayAwsConfig, ReadsKeysAndPolicies) {
  auto c = parse_config(R"({"aws_access_keys":[
      {"access_key_id":"AKID1","secret_access_key":"s1"},
      {"access_key_id":"AKID2","secret_access_key":"s2","policy":{"Version":"2012-10-17",
        "Statement":[{"Effect":"Allow","Action":"iot:ListThings","Resource":"*"}]}}]})");
  ASSERT_TRUE(c) << c.describe();
  ASSERT_EQ(c->aws_access_keys.size(), 2u);
  EXPECT_EQ(c->aws_access_keys[0].id, "AKID1");
  EXPECT_EQ(c->aws_access_keys[0].secret, "s1");
  EXPECT_TRUE(c->aws_access_keys[0].policy.empty());
  EXPECT_NE(c->aws_access_keys[1].policy.find("iot:ListThings"), std::string::npos);
}

TEST(GatewayAwsConfig, ReadsRateLimits) {
  auto c = parse_config(R"({"aws_access_keys":[
      {"access_key_id":"AKID1","secret_access_key":"s1"},
      {"access_key_id":"AKID2","secret_access_key":"s2","rate_limit":{"requests_per_second":5}},
      {"access_key_id":"AKID3","secret_access_key":"s3",
       "rate_limit":{"requests_per_second":0.5,"burst":10}}]})");
  ASSERT_TRUE(c) << c.describe();
  EXPECT_EQ(c->aws_access_keys[0].requests_per_second, 0.0);  // unlimited
  EXPECT_EQ(c->aws_access_keys[1].requests_per_second, 5.0);
  EXPECT_EQ(c->aws_access_keys[1].burst, 5.0);  // one second's worth
  EXPECT_EQ(c->aws_access_keys[2].requests_per_second, 0.5);
  EXPECT_EQ(c->aws_access_keys[2].burst, 10.0);
}

TEST(GatewayAwsConfig, ErrorsNameTheValue) {
  for (const auto& [text, starts] : std::vector<std::pair<std::string, std::string>>{
           {R"({"aws_access_keys":{}})", "aws_access_keys: expected an array"},
           {R"({"aws_access_keys":[{"access_key_id":"A"}]})",
            "aws_access_keys[0].secret_access_key: expected a non-empty string"},
           {R"({"aws_access_keys":[{"access_key_id":"","secret_access_key":"s"}]})",
            "aws_access_keys[0].access_key_id: expected a non-empty string"},
           {R"({"aws_access_keys":[{"access_key_id":"A","secret_access_key":"s","x":1}]})",
            "aws_access_keys[0].x: unknown key"},
           {R"({"aws_access_keys":[{"access_key_id":"A","secret_access_key":"s",
               "policy":{"Statement":[{"Effect":"Maybe","Action":"iot:*","Resource":"*"}]}}]})",
            "aws_access_keys[0].policy: "},
           {R"({"aws_access_keys":[{"access_key_id":"A","secret_access_key":"s","rate_limit":5}]})",
            "aws_access_keys[0].rate_limit: expected an object"},
           {R"({"aws_access_keys":[{"access_key_id":"A","secret_access_key":"s",
               "rate_limit":{"requests_per_second":0}}]})",
            "aws_access_keys[0].rate_limit.requests_per_second: expected a number"},
           {R"({"aws_access_keys":[{"access_key_id":"A","secret_access_key":"s",
               "rate_limit":{"requests_per_second":1,"burst":0.5}}]})",
            "aws_access_keys[0].rate_limit.burst: expected a number in [1, 1e9]"},
           {R"({"aws_access_keys":[{"access_key_id":"A","secret_access_key":"s",
               "rate_limit":{"requests_per_second":1,"per_minute":5}}]})",
            "aws_access_keys[0].rate_limit.per_minute: unknown key"},
       }) {
    auto c = parse_config(text);
    ASSERT_FALSE(c) << text;
    EXPECT_TRUE(c.describe().starts_with(starts)) << c.describe();
  }
}

}  // namespace
}  // namespace iotblocks::gateway
