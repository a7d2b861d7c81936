// Notification topics without sockets; webhooks and TCP command sinks over real
// servers are in tests/net_rules/sinks_test.cpp.
#include <iotblocks/rules/notify.hpp>

#include <gtest/gtest.h>

namespace iotblocks::rules {
namespace {

TEST(Notifier, TopicsByNameAndArn) {
  notifier n{"us-west-2", "012345678901"};
  auto arn = n.create_topic("door-alert").value();
  EXPECT_EQ(arn, "arn:aws:sns:us-west-2:012345678901:door-alert");
  EXPECT_EQ(n.create_topic(arn).value(), arn);  // idempotent, by ARN too
  EXPECT_EQ(n.find_topic("door-alert"), arn);
  EXPECT_EQ(n.topics().size(), 1u);
  EXPECT_EQ(n.create_topic("bad name").error(), error::no_such_destination);
  EXPECT_EQ(n.create_topic("arn:aws:sqs:x:y:z").error(), error::no_such_destination);
  EXPECT_EQ(n.publish("nope", "m").error(), error::no_such_destination);
  EXPECT_TRUE(n.delete_topic("door-alert"));
  EXPECT_FALSE(n.find_topic(arn));
}

}  // namespace
}  // namespace iotblocks::rules
