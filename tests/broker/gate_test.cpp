// The publish and subscribe gates: a reserved topic space the broker's owner
// implements in part (AWS IoT's `$aws/`): consumed messages reach on_accepted
// only, refused ones nobody, with MQTT 5 reason codes and a 3.1.1 disconnect.
#include "broker/memory_client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iotblocks::broker::testing {
namespace {

using mqtt::protocol_version;
using mqtt::reason_code;

struct gated : harness {
  std::vector<std::string> seen;  // on_accepted topics
  gated() {
    b->on_publish_gate([](const client_info&, std::string_view topic) {
      if (topic.starts_with("$aws/rules/")) return publish_verdict{publish_verdict::kind::consume};
      if (topic.starts_with("$aws/")) {
        return publish_verdict{publish_verdict::kind::refuse, reason_code::topic_name_invalid};
      }
      return publish_verdict{};
    });
    b->on_subscribe_gate(
        [](const client_info&, std::string_view filter) -> std::optional<reason_code> {
          if (filter.starts_with("$aws/")) return reason_code::topic_filter_invalid;
          return std::nullopt;
        });
    b->on_accepted([this](const message& m, const client_info*) { seen.push_back(m.topic); });
  }
};

TEST(BrokerGate, ConsumedMessagesAreAcknowledgedAndReachNoSubscriberNorTheRetainedStore) {
  gated h;
  client sub(h, v5), pub(h, v5);
  sub.connect("sub");
  EXPECT_EQ(sub.subscribe("#", 1), reason_code::granted_qos_1);
  EXPECT_EQ(sub.subscribe("$aws/rules/#", 1), reason_code::topic_filter_invalid);
  pub.connect("pub");
  pub.publish("$aws/rules/r/a/b", "in", 1, true);
  auto ack = pub.next_of<mqtt::puback>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason, reason_code::success);
  EXPECT_EQ(h.seen, std::vector<std::string>{"$aws/rules/r/a/b"});
  EXPECT_TRUE(sub.publishes().empty());
  EXPECT_EQ(h.b->retained_count(), 0u);
  // Other topics are routed as before.
  pub.publish("plain", "x", 1);
  EXPECT_EQ(sub.publishes().size(), 1u);
}

TEST(BrokerGate, RefusedPublishGetsTheReasonOnMqtt5AndADisconnectOn311) {
  gated h;
  client spy(h, v5), pub(h, v5), old(h, v311);
  spy.connect("spy");
  pub.connect("pub");
  pub.publish("$aws/certificates/create/json", "{}", 1);
  auto ack = pub.next_of<mqtt::puback>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason, reason_code::topic_name_invalid);
  pub.publish("$aws/certificates/create/json", "{}", 2, false, {}, false);
  auto rec = pub.next_of<mqtt::pubrec>();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->reason, reason_code::topic_name_invalid);
  EXPECT_FALSE(pub.closed());
  EXPECT_TRUE(h.seen.empty());
  old.connect("old");
  EXPECT_EQ(old.subscribe("$aws/things/t/jobs/notify", 1), reason_code::unspecified_error);
  old.publish("$aws/certificates/create/json", "{}", 1);
  EXPECT_TRUE(old.closed());
  EXPECT_FALSE(old.next_of<mqtt::puback>());
  EXPECT_TRUE(h.seen.empty());
}

TEST(BrokerGate, WillsGoThroughTheGateToo) {
  gated h;
  for (const char* topic : {"$aws/certificates/create/json", "$aws/rules/r/will"}) {
    client c(h, v5);
    mqtt::connect conn;
    conn.client_id = std::string("dev-") + topic;
    conn.will.emplace();
    conn.will->topic = topic;
    conn.will->payload = to_buffer("gone");
    c.connect(std::move(conn));
    c.drop();
  }
  // The refused will is dropped; the consumed one reaches on_accepted only.
  EXPECT_EQ(h.seen, std::vector<std::string>{"$aws/rules/r/will"});
}

}  // namespace
}  // namespace iotblocks::broker::testing
