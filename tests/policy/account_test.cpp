// The account context: policies copied verbatim from an AWS account match
// requests of that region and account only, as inside one AWS account, unless
// the context matches any account (policies migrated from several accounts).
#include <iotblocks/policy.hpp>

#include <gtest/gtest.h>

#include <string>

namespace iotblocks::policy {
namespace {

// As the AWS IoT console writes a device policy (account 123456789012, eu-west-1).
constexpr std::string_view copied_policy = R"({
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect",
     "Resource": "arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": "iot:Publish",
     "Resource": "arn:aws:iot:eu-west-1:123456789012:topic/sensors/${iot:ClientId}/*"},
    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "iot:Publish",
     "Resource": "arn:aws:iot:eu-west-1:123456789012:topic/sensors/*/secret"}
  ]
})";

context device(std::string region, std::string account) {
  context ctx;
  ctx.region = std::move(region);
  ctx.account = std::move(account);
  ctx.client_id = "pump-7";
  ctx.thing_name = "pump-7";
  return ctx;
}

policy_set copied() {
  policy_set set;
  set.add("DevicePolicy", 1, parse_document(copied_policy).value());
  return set;
}

decision ask(const policy_set& set, const context& ctx, action_id a, std::string_view type,
             std::string_view name) {
  const std::string arn = make_arn(ctx, type, name);
  return evaluate(set, {a, arn}, ctx);
}

TEST(PolicyAccount, CopiedPolicyMatchesItsOwnRegionAndAccount) {
  const auto set = copied();
  const auto ctx = device("eu-west-1", "123456789012");
  EXPECT_EQ(make_arn(ctx, "client", "pump-7"), "arn:aws:iot:eu-west-1:123456789012:client/pump-7");
  EXPECT_TRUE(ask(set, ctx, actions::connect, "client", "pump-7").allowed());
  EXPECT_TRUE(ask(set, ctx, actions::publish, "topic", "sensors/pump-7/flow").allowed());
  const auto d = ask(set, ctx, actions::publish, "topic", "sensors/pump-7/secret");
  EXPECT_EQ(d.result, outcome::explicit_deny);
  EXPECT_EQ(d.statement, 2u);
  EXPECT_FALSE(ask(set, ctx, actions::connect, "client", "pump-8").allowed());
}

TEST(PolicyAccount, AnotherRegionOrAccountDoesNotMatch) {
  const auto set = copied();
  for (const auto& ctx : {device("us-east-1", "123456789012"), device("eu-west-1", "999999999999"),
                          device("us-east-1", "000000000000")}) {
    EXPECT_EQ(ask(set, ctx, actions::connect, "client", "pump-7").result, outcome::implicit_deny)
        << ctx.region << " " << ctx.account;
    EXPECT_FALSE(ask(set, ctx, actions::publish, "topic", "sensors/pump-7/flow").allowed());
  }
}

TEST(PolicyAccount, AnyAccountMatchesEveryRegionAndAccount) {
  const auto set = copied();
  auto ctx = device("us-east-1", "000000000000");
  ctx.any_account = true;
  EXPECT_TRUE(ask(set, ctx, actions::connect, "client", "pump-7").allowed());
  EXPECT_TRUE(ask(set, ctx, actions::publish, "topic", "sensors/pump-7/flow").allowed());
  // Denies match as widely as allows do.
  EXPECT_EQ(ask(set, ctx, actions::publish, "topic", "sensors/pump-7/secret").result,
            outcome::explicit_deny);
  // The other fields are still compared: service, partition, resource type and name.
  EXPECT_FALSE(ask(set, ctx, actions::connect, "client", "pump-8").allowed());
  EXPECT_FALSE(evaluate(set, {actions::connect, "arn:aws-cn:iot:cn-north-1:1:client/pump-7"}, ctx)
                   .allowed());
  EXPECT_FALSE(
      evaluate(set, {actions::connect, "arn:aws:sns:eu-west-1:123456789012:client/pump-7"}, ctx)
          .allowed());
}

TEST(PolicyAccount, AnyAccountLeavesConditionArnsExact) {
  policy_set set;
  set.add("p", 1,
          parse_document(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
      "Action":"iot:Publish","Resource":"*","Condition":{"ArnEquals":{
      "aws:SourceArn":"arn:aws:iot:eu-west-1:123456789012:rule/r"}}}]})")
              .value());
  auto ctx = device("us-east-1", "000000000000");
  ctx.any_account = true;
  ctx.extra.push_back({"aws:SourceArn", {"arn:aws:iot:us-east-1:000000000000:rule/r"}});
  EXPECT_FALSE(ask(set, ctx, actions::publish, "topic", "t").allowed());
  ctx.extra.back().second = {"arn:aws:iot:eu-west-1:123456789012:rule/r"};
  EXPECT_TRUE(ask(set, ctx, actions::publish, "topic", "t").allowed());
}

}  // namespace
}  // namespace iotblocks::policy
