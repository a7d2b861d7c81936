// The broker's durability through its store interface, on a memory_store: what
// is acknowledged is committed first, and a restarted broker (a new broker on
// the same store) resumes from what was committed. The SQLite store is tested
// against a real file in tests/gateway/broker_durability_test.cpp.
#include "broker/memory_client.hpp"

#include <gtest/gtest.h>

namespace iotblocks::broker::testing {
namespace {

using mqtt::protocol_version;
using mqtt::reason_code;
using namespace std::chrono_literals;

TEST(MemoryBrokerStore, PubackWaitsForTheCommitWhenSomethingDurableIsOwed) {
  harness h;
  auto store = std::make_shared<memory_store>();
  h.with_store(store, /*auto_commit=*/false);
  client sub(h, v5), pub(h, v5);
  sub.connect("sub", true, 3600);
  sub.subscribe("t", 1);
  sub.drop();
  store->commit();
  pub.connect("pub");
  pub.publish("t", "owed to a persistent session", 1);
  EXPECT_FALSE(pub.next_of<mqtt::puback>());  // not durable yet
  EXPECT_GT(store->pending(), 0u);
  store->commit();
  auto ack = pub.next_of<mqtt::puback>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason, reason_code::success);
}

TEST(MemoryBrokerStore, PubackIsImmediateWhenNothingDurableIsOwed) {
  harness h;
  auto store = std::make_shared<memory_store>();
  h.with_store(store, false);
  client pub(h, v5);
  pub.connect("pub");
  pub.publish("nobody/listens", "x", 1);
  EXPECT_TRUE(pub.next_of<mqtt::puback>());
  EXPECT_EQ(store->pending(), 0u);
}

TEST(MemoryBrokerStore, AcksStayInOrderBehindAnEarlierOneWaitingForItsCommit) {
  harness h;
  auto store = std::make_shared<memory_store>();
  h.with_store(store, false);
  client pub(h, v5);
  pub.connect("pub");
  pub.publish("r", "retained: durable", 1, true);
  pub.publish("plain", "nothing durable", 1);
  EXPECT_FALSE(pub.next_of<mqtt::puback>());  // the second waits behind the first
  store->commit();
  auto first = pub.next_of<mqtt::puback>();
  auto second = pub.next_of<mqtt::puback>();
  ASSERT_TRUE(first && second);
  EXPECT_LT(first->packet_id, second->packet_id);
}

TEST(MemoryBrokerStore, AFailedCommitAcknowledgesNothingAndDisconnects) {
  harness h;
  auto store = std::make_shared<memory_store>();
  h.with_store(store, false);
  client pub(h, v5);
  pub.connect("pub");
  pub.publish("r", "retained", 1, true);
  store->commit(/*ok=*/false);
  h.settle();
  auto d = pub.next_of<mqtt::disconnect>();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, reason_code::unspecified_error);
  EXPECT_FALSE(pub.next_of<mqtt::puback>());
  EXPECT_EQ(store->stats().failures.load(), 1u);
}

TEST(MemoryBrokerStore, RestartResumesSessionsSubscriptionsRetainedAndQueuedMessages) {
  harness h;
  auto store = std::make_shared<memory_store>();
  h.with_store(store);
  {
    client sub(h, v5), pub(h, v5);
    sub.connect("sub", true, 3600);
    sub.subscribe("t/#", 1, /*identifier=*/9);
    sub.drop();
    pub.connect("pub");
    pub.publish("t/1", "queued", 1);
    pub.publish("keep", "retained", 0, true);
  }
  h.restart();
  EXPECT_EQ(h.b->retained_count(), 1u);
  client back(h, v5);
  EXPECT_TRUE(back.connect("sub", false, 3600).session_present);
  auto got = back.publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(payload_of(got[0]), "queued");
  std::vector<std::uint32_t> ids;
  for (const auto& p : got[0].properties.subscription_identifiers()) ids.push_back(p.number);
  EXPECT_EQ(ids, std::vector<std::uint32_t>{9});
  client pub(h, v5);
  pub.connect("pub");
  pub.publish("t/2", "after the restart", 1);
  got = back.publishes();
  ASSERT_EQ(got.size(), 1u);  // the subscription came back too
  EXPECT_EQ(payload_of(got[0]), "after the restart");
}

TEST(MemoryBrokerStore, ACrashLosesOnlyWhatWasNeverAcknowledged) {
  harness h;
  auto store = std::make_shared<memory_store>();
  h.with_store(store, false);
  client sub(h, v5), pub(h, v5);
  sub.connect("sub", true, 3600);
  sub.subscribe("t", 1);
  sub.drop();
  store->commit();
  pub.connect("pub");
  pub.publish("t", "acknowledged", 1);
  store->commit();
  ASSERT_TRUE(pub.next_of<mqtt::puback>());
  pub.publish("t", "never acknowledged", 1);
  EXPECT_FALSE(pub.next_of<mqtt::puback>());
  store->discard();  // the process dies before the commit
  h.restart();
  client back(h, v5);
  back.connect("sub", false, 3600);
  auto got = back.publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(payload_of(got[0]), "acknowledged");
}

TEST(MemoryBrokerStore, ACommitAfterTheBrokerWentKeepsTheWritesAndSkipsItsCallbacks) {
  harness h;
  auto store = std::make_shared<memory_store>();
  h.with_store(store, false);
  {
    client sub(h, v5), pub(h, v5);
    sub.connect("sub", true, 3600);
    sub.subscribe("t", 2);
    store->commit();
    pub.connect("pub");
    // QoS 2 to a persistent subscriber: the PUBLISH leaves once its packet id is
    // committed (an after_commit callback that transmits through the broker).
    pub.publish("t", "queued, not yet committed", 2, false, {}, /*complete=*/false);
    EXPECT_TRUE(sub.publishes(false).empty());
    EXPECT_GT(store->pending(), 0u);
  }
  h.restart();      // the broker that queued the callbacks is gone
  store->commit();  // they must not run into it (ASan: use after free)
  h.restart();      // loads what that commit made durable
  client back(h, v5);
  back.connect("sub", false, 3600);
  auto got = back.publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(payload_of(got[0]), "queued, not yet committed");
}

TEST(MemoryBrokerStore, Qos2ExactlyOnceAcrossARestart) {
  harness h;
  auto store = std::make_shared<memory_store>();
  h.with_store(store);
  std::uint16_t id = 0;
  {
    client sub(h, v5), pub(h, v5);
    sub.connect("sub", true, 3600);
    sub.subscribe("t", 2);
    pub.connect("pub", true, 3600);
    // The publisher's QoS 2: PUBREC seen, PUBREL not yet sent when the broker stops.
    pub.publish("t", "exactly once", 2, false, {}, /*complete=*/false);
    ASSERT_TRUE(pub.next_of<mqtt::pubrec>());
    auto got = sub.publishes(false);
    ASSERT_EQ(got.size(), 1u);
    id = got[0].packet_id;
  }
  h.restart();
  client pub(h, v5), sub(h, v5);
  pub.connect("pub", false, 3600);
  // The publisher resends its PUBLISH (DUP): known, not routed again.
  pub.send(publish_of("t", "exactly once", 2, 1, /*dup=*/true));
  EXPECT_TRUE(pub.next_of<mqtt::pubrec>());
  pub.send(ack_of<mqtt::pubrel>(1));
  auto comp = pub.next_of<mqtt::pubcomp>();
  ASSERT_TRUE(comp);
  EXPECT_EQ(comp->reason, reason_code::success);
  sub.connect("sub", false, 3600);
  auto got = sub.publishes();
  ASSERT_EQ(got.size(), 1u);  // the one in flight, under the same packet id
  EXPECT_EQ(got[0].packet_id, id);
  EXPECT_TRUE(got[0].dup);
}

TEST(MemoryBrokerStore, AWillOfAConnectionOpenAtTheCrashIsPublishedAfterTheRestart) {
  harness h;
  auto store = std::make_shared<memory_store>();
  h.with_store(store);
  client dev(h, v5);
  mqtt::connect c;
  c.client_id = "dev";
  c.will.emplace();
  c.will->topic = "status/dev";
  c.will->payload = to_buffer("offline");
  c.will->retain = true;
  dev.connect(std::move(c));
  h.restart();
  h.advance(1s);
  client watch(h, v5);
  watch.connect("watch");
  watch.subscribe("status/#", 0);
  auto got = watch.publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(payload_of(got[0]), "offline");
}

}  // namespace
}  // namespace iotblocks::broker::testing
