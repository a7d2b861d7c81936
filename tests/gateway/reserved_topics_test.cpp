// The gateway's reserved-topic claims (`$aws/...`) and the config keys of AWS IoT
// device compatibility ("aws", "certificate_profile").
#include <iotblocks/gateway/config.hpp>

#include "gateway/reserved_topics.hpp"

#include <gtest/gtest.h>

namespace iotblocks::gateway {
namespace {

using kind = broker::publish_verdict::kind;
using mqtt::reason_code;

reserved_topics gateway_claims() {
  reserved_topics r;
  using publish = reserved_topics::publish;
  r.claim({"$aws/things/+/shadow/#", publish::route, true});
  r.claim({"$aws/events/#", publish::refuse, true});
  r.claim({"$aws/rules/#", publish::consume, false});
  return r;
}

TEST(ReservedTopics, PublishVerdicts) {
  const auto r = gateway_claims();
  EXPECT_EQ(r.on_publish("sensors/1").what, kind::route);
  EXPECT_EQ(r.on_publish("$SYS/x").what, kind::route);
  EXPECT_EQ(r.on_publish("$awsx/y").what, kind::route);
  EXPECT_EQ(r.on_publish("$aws/things/t/shadow/update").what, kind::route);
  EXPECT_EQ(r.on_publish("$aws/things/t/shadow/name/n/get").what, kind::route);
  EXPECT_EQ(r.on_publish("$aws/rules/r/a/b").what, kind::consume);
  EXPECT_EQ(r.on_publish("$aws/rules/r").what, kind::consume);
  const auto events = r.on_publish("$aws/events/presence/connected/c");
  EXPECT_EQ(events.what, kind::refuse);
  EXPECT_EQ(events.reason, reason_code::not_authorized);
  for (const char* t : {"$aws/things/t/jobs/get", "$aws/certificates/create/json",
                        "$aws/provisioning-templates/p/provision/json", "$aws/things/t/shadowx"}) {
    const auto v = r.on_publish(t);
    EXPECT_EQ(v.what, kind::refuse) << t;
    EXPECT_EQ(v.reason, reason_code::topic_name_invalid) << t;
  }
}

TEST(ReservedTopics, SubscribeVerdicts) {
  const auto r = gateway_claims();
  for (const char* ok : {"#", "+/x", "a/b", "$aws/things/t/shadow/update/accepted",
                         "$aws/things/+/shadow/#", "$aws/things/t/#", "$aws/events/#",
                         "$aws/events/presence/+/c", "$share/g/$aws/things/+/shadow/#"}) {
    EXPECT_EQ(r.on_subscribe(ok), std::nullopt) << ok;
  }
  for (const char* no : {"$aws/rules/#", "$aws/rules/r/a", "$aws/rules", "$aws/+/r/x", "$aws/#",
                         "$share/g/$aws/rules/#"}) {
    EXPECT_EQ(r.on_subscribe(no), reason_code::not_authorized) << no;
  }
  for (const char* no : {"$aws/things/t/jobs/notify", "$aws/certificates/create/json/accepted",
                         "$aws/things/t/shadowx"}) {
    EXPECT_EQ(r.on_subscribe(no), reason_code::topic_filter_invalid) << no;
  }
}

TEST(ReservedTopics, ALaterClaimOpensItsTopics) {
  auto r = gateway_claims();
  EXPECT_EQ(r.on_publish("$aws/things/t/jobs/get").what, kind::refuse);
  r.claim({"$aws/things/+/jobs/#", reserved_topics::publish::route, true});  // as jobs would
  EXPECT_EQ(r.on_publish("$aws/things/t/jobs/get").what, kind::route);
  EXPECT_EQ(r.on_subscribe("$aws/things/t/jobs/notify"), std::nullopt);
}

TEST(ReservedTopics, FilterOverlap) {
  using detail::filters_overlap;
  EXPECT_TRUE(filters_overlap("a/#", "a"));
  EXPECT_TRUE(filters_overlap("a/+/c", "a/b/+"));
  EXPECT_TRUE(filters_overlap("a/b", "a/b"));
  EXPECT_FALSE(filters_overlap("a/b", "a/b/c"));
  EXPECT_FALSE(filters_overlap("a/+", "a"));
  EXPECT_FALSE(filters_overlap("a/b/#", "a/c/#"));
}

TEST(GatewayDeviceConfig, AwsAccountAndCertificateProfile) {
  auto d = parse_config("{}");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->aws.region, "us-east-1");
  EXPECT_EQ(d->aws.account_id, "000000000000");
  EXPECT_FALSE(d->aws.any_account);
  EXPECT_EQ(d->certificate_profile, x509::profile::aws);
  auto c = parse_config(R"({"aws":{"region":"eu-west-1","account_id":"123456789012",
      "any_account":true},"certificate_profile":"strict"})");
  ASSERT_TRUE(c) << c.describe();
  EXPECT_EQ(c->aws.region, "eu-west-1");
  EXPECT_EQ(c->aws.account_id, "123456789012");
  EXPECT_TRUE(c->aws.any_account);
  EXPECT_EQ(c->certificate_profile, x509::profile::strict);
  auto l = parse_config(R"({"log":{"level":"warn","burst":3,"per_second":2}})");
  ASSERT_TRUE(l) << l.describe();
  EXPECT_EQ(l->log.level, log_level::warn);
  EXPECT_EQ(l->log.burst, 3u);
  EXPECT_EQ(l->log.per_second, 2u);
  EXPECT_EQ(d->log.level, log_level::info);
  for (const auto& [text, starts] : std::vector<std::pair<std::string, std::string>>{
           {R"({"aws":[]})", "aws: expected an object"},
           {R"({"aws":{"region":"EU West"}})", "aws.region: expected a region name"},
           {R"({"aws":{"account_id":"1234"}})", "aws.account_id: expected 12 digits"},
           {R"({"aws":{"account_id":123456789012}})", "aws.account_id: expected 12 digits"},
           {R"({"aws":{"any_account":"yes"}})", "aws.any_account: expected true or false"},
           {R"({"aws":{"acount_id":"123456789012"}})", "aws.acount_id: unknown key"},
           {R"({"certificate_profile":"lax"})", "certificate_profile: expected \"aws\""},
           {R"({"log":{"level":"loud"}})", "log.level: expected debug, info"},
           {R"({"log":{"burst":0}})", "log.burst: expected an integer in 1..100000"},
           {R"({"log":{"rate":1}})", "log.rate: unknown key"},
       }) {
    auto bad = parse_config(text);
    ASSERT_FALSE(bad) << text;
    EXPECT_TRUE(bad.describe().starts_with(starts)) << bad.describe();
  }
}

}  // namespace
}  // namespace iotblocks::gateway
