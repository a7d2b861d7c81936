// The client-error hook: each client the broker disconnects or refuses for a
// protocol error is reported with its client id, the reason code and what was
// wrong (for the owner's log); other disconnects are not.
#include "broker/memory_client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iotblocks::broker::testing {
namespace {

using mqtt::protocol_version;
using mqtt::reason_code;

struct reported {
  std::string client_id;
  reason_code reason;
  std::string why;
};

struct watched : harness {
  std::vector<reported> seen;
  explicit watched(broker_options o = {}) : harness(o) {
    b->on_client_error([this](const client_info& info, reason_code r, std::string_view why) {
      seen.push_back({info.client_id, r, std::string(why)});
    });
  }
};

TEST(BrokerClientError, ProtocolErrorsAreReportedWithClientIdReasonAndText) {
  broker_options o;
  o.receive_maximum = 2;
  o.topic_alias_maximum = 4;
  watched h(o);
  client greedy(h, protocol_version::v5);
  greedy.connect("greedy");
  for (int i = 0; i < 3; ++i) greedy.publish("t", "x", 2, false, {}, false);
  EXPECT_EQ(greedy.next_of<mqtt::disconnect>()->reason, reason_code::receive_maximum_exceeded);
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].client_id, "greedy");
  EXPECT_EQ(h.seen[0].reason, reason_code::receive_maximum_exceeded);
  EXPECT_NE(h.seen[0].why.find("Receive Maximum"), std::string::npos) << h.seen[0].why;

  client twice(h, protocol_version::v5);
  twice.connect("twice");
  mqtt::connect again;
  again.client_id = "twice";
  twice.send(mqtt::packet{again});
  ASSERT_EQ(h.seen.size(), 2u);
  EXPECT_EQ(h.seen[1].client_id, "twice");
  EXPECT_EQ(h.seen[1].reason, reason_code::protocol_error);
  EXPECT_NE(h.seen[1].why.find("second CONNECT"), std::string::npos) << h.seen[1].why;

  // A packet the transport's decoder refused: its text comes through.
  client garbled(h, protocol_version::v5);
  garbled.connect("garbled");
  const std::byte bad[] = {std::byte{0x36}, std::byte{0x04}, std::byte{0x00},
                           std::byte{0x01}, std::byte{'t'},  std::byte{0x00}};
  garbled.send_bytes(bad);
  ASSERT_EQ(h.seen.size(), 3u);
  EXPECT_EQ(h.seen[2].client_id, "garbled");
  EXPECT_EQ(h.seen[2].reason, reason_code::malformed_packet);
  EXPECT_FALSE(h.seen[2].why.empty());
}

TEST(BrokerClientError, OtherDisconnectsAreNotReported) {
  watched h;
  h.b->on_authorize([](const client_info&, action, std::string_view) { return false; });
  client old(h, protocol_version::v3_1_1);
  old.connect("old");
  old.publish("denied", "x", 1);  // 3.1.1 cannot be told no: closed, not a protocol error
  EXPECT_TRUE(old.closed());
  client polite(h, protocol_version::v5);
  polite.connect("polite");
  polite.disconnect();
  EXPECT_TRUE(h.seen.empty());
}

}  // namespace
}  // namespace iotblocks::broker::testing
