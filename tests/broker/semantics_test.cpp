// The broker's MQTT semantics on in-memory connections: QoS flows, sessions,
// wills, takeover, topic aliases, flow control, shared subscriptions, expiry.
// No socket is opened and no test sleeps: time is the harness's tick().
#include "broker/memory_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace iotblocks::broker::testing {
namespace {

using mqtt::protocol_version;
using mqtt::reason_code;
using namespace std::chrono_literals;

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(MemoryBroker, Qos0And1And2AreDeliveredAtTheGrantedQos) {
  harness h;
  client sub(h, v5), pub(h, v5);
  EXPECT_EQ(sub.connect("sub").reason, reason_code::success);
  EXPECT_EQ(sub.subscribe("t/#", 1), reason_code::granted_qos_1);
  pub.connect("pub");
  pub.publish("t/0", "zero", 0);
  pub.publish("t/1", "one", 1);
  auto ack = pub.next_of<mqtt::puback>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason, reason_code::success);
  pub.publish("t/2", "two", 2);
  EXPECT_TRUE(pub.next_of<mqtt::pubcomp>());
  auto got = sub.publishes();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(payload_of(got[0]), "zero");
  EXPECT_EQ(got[0].qos, 0);
  EXPECT_EQ(got[1].qos, 1);
  EXPECT_EQ(got[2].qos, 1);  // QoS 2 downgraded to the subscription's QoS 1
  EXPECT_NE(got[1].packet_id, got[2].packet_id);
}

TEST(MemoryBroker, Qos2RetransmissionBeforePubrelIsRoutedOnce) {
  harness h;
  client sub(h, v5), pub(h, v5);
  sub.connect("sub");
  sub.subscribe("t", 2);
  pub.connect("pub");
  pub.send(publish_of("t", "once", 2, 7));
  pub.send(publish_of("t", "once", 2, 7,
                      /*dup=*/true));  // the client did not see the PUBREC: it resends
  EXPECT_TRUE(pub.next_of<mqtt::pubrec>());
  EXPECT_TRUE(pub.next_of<mqtt::pubrec>());
  pub.send(ack_of<mqtt::pubrel>(7));
  auto comp = pub.next_of<mqtt::pubcomp>();
  ASSERT_TRUE(comp);
  EXPECT_EQ(comp->reason, reason_code::success);
  EXPECT_EQ(sub.publishes().size(), 1u);
  pub.send(ack_of<mqtt::pubrel>(7));  // released already
  comp = pub.next_of<mqtt::pubcomp>();
  ASSERT_TRUE(comp);
  EXPECT_EQ(comp->reason, reason_code::packet_identifier_not_found);
}

TEST(MemoryBroker, PersistentSessionGetsWhatWasPublishedWhileOffline) {
  harness h;
  client sub(h, v5), pub(h, v5);
  EXPECT_FALSE(sub.connect("sub", true, 3600).session_present);
  sub.subscribe("t", 1);
  sub.disconnect();
  pub.connect("pub");
  for (int i = 0; i < 3; ++i) pub.publish("t", "m" + std::to_string(i), 1);
  pub.publish("t", "qos0 is not kept", 0);
  client again(h, v5);
  EXPECT_TRUE(again.connect("sub", false, 3600).session_present);
  auto got = again.publishes();
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(payload_of(got[i]), "m" + std::to_string(i));
}

TEST(MemoryBroker, CleanStartDropsTheSession) {
  harness h;
  client a(h, v5);
  a.connect("c", true, 3600);
  a.subscribe("t", 1);
  a.disconnect();
  client b(h, v5);
  EXPECT_FALSE(b.connect("c", true, 3600).session_present);
  client pub(h, v5);
  pub.connect("pub");
  pub.publish("t", "x", 1);
  EXPECT_TRUE(b.publishes().empty());  // the subscription went with the old session
}

TEST(MemoryBroker, UnacknowledgedQos1IsResentWithDupOnReconnect) {
  harness h;
  client sub(h, v5), pub(h, v5);
  sub.connect("sub", true, 3600);
  sub.subscribe("t", 1);
  pub.connect("pub");
  pub.publish("t", "again", 1);
  auto first = sub.publishes(/*ack=*/false);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].dup);
  sub.drop();
  client back(h, v5);
  back.connect("sub", false, 3600);
  auto second = back.publishes();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(second[0].dup);
  EXPECT_EQ(second[0].packet_id, first[0].packet_id);
  back.drop();
  client third(h, v5);
  third.connect("sub", false, 3600);
  EXPECT_TRUE(third.publishes().empty());  // acknowledged: gone
}

TEST(MemoryBroker, Qos2InFlightResumesWithPubrelAfterReconnect) {
  harness h;
  client sub(h, v5), pub(h, v5);
  sub.connect("sub", true, 3600);
  sub.subscribe("t", 2);
  pub.connect("pub");
  pub.publish("t", "x", 2);
  auto got = sub.publishes(false);
  ASSERT_EQ(got.size(), 1u);
  sub.send(ack_of<mqtt::pubrec>(got[0].packet_id));
  EXPECT_TRUE(sub.next_of<mqtt::pubrel>());
  sub.drop();  // PUBCOMP never sent
  client back(h, v5);
  back.connect("sub", false, 3600);
  auto rel = back.next_of<mqtt::pubrel>();
  ASSERT_TRUE(rel);
  EXPECT_EQ(rel->packet_id, got[0].packet_id);
}

TEST(MemoryBroker, WillIsPublishedOnConnectionLossOnly) {
  harness h;
  client watch(h, v5);
  watch.connect("watch");
  watch.subscribe("will/#", 0);
  for (const char* how : {"lost", "normal", "with-will"}) {
    client c(h, v5);
    mqtt::connect conn;
    conn.client_id = std::string("dev-") + how;
    conn.will.emplace();
    conn.will->topic = std::string("will/") + how;
    conn.will->payload = to_buffer("gone");
    c.connect(std::move(conn));
    if (std::string(how) == "lost") c.drop();
    if (std::string(how) == "normal") c.disconnect();
    if (std::string(how) == "with-will") c.disconnect(reason_code::disconnect_with_will_message);
  }
  auto got = watch.publishes();
  std::set<std::string> topics;
  for (auto& p : got) topics.insert(p.topic);
  EXPECT_EQ(topics, (std::set<std::string>{"will/lost", "will/with-will"}));
}

mqtt::connect with_will(const std::string& id, const std::string& topic, std::uint32_t delay,
                        std::uint32_t expiry) {
  mqtt::connect c;
  c.client_id = id;
  c.will.emplace();
  c.will->topic = topic;
  c.will->payload = to_buffer("gone");
  if (delay != 0) c.will->properties.set_will_delay_interval(delay);
  if (expiry != 0) c.properties.set_session_expiry_interval(expiry);
  return c;
}

TEST(MemoryBroker, WillDelayPublishesAfterTheDelayOnTheBrokersClock) {
  harness h;
  client watch(h, v5), dev(h, v5);
  watch.connect("watch");
  watch.subscribe("will", 0);
  dev.connect(with_will("dev", "will", 30, 3600));
  dev.drop();
  h.advance(29s);
  EXPECT_TRUE(watch.publishes().empty());
  h.advance(1s);
  EXPECT_EQ(watch.publishes().size(), 1u);
}

TEST(MemoryBroker, WillDelayEndsWithTheSessionExpiry) {
  harness h;
  client watch(h, v5), dev(h, v5);
  watch.connect("watch");
  watch.subscribe("will", 0);
  dev.connect(with_will("dev", "will", 300, 10));
  dev.drop();
  h.advance(10s);  // the session ends first: the will goes out then (MQTT-3.1.3-9)
  EXPECT_EQ(watch.publishes().size(), 1u);
}

TEST(MemoryBroker, ReconnectWithinTheWillDelaySuppressesTheWill) {
  harness h;
  client watch(h, v5), dev(h, v5);
  watch.connect("watch");
  watch.subscribe("will", 0);
  dev.connect(with_will("dev", "will", 30, 3600));
  dev.drop();
  h.advance(10s);
  client back(h, v5);
  back.connect("dev", false, 3600);
  h.advance(60s);
  EXPECT_TRUE(watch.publishes().empty());
}

TEST(MemoryBroker, TakeoverDisconnectsTheOldConnectionWith0x8E) {
  harness h;
  client first(h, v5), second(h, v5);
  first.connect("same", true, 3600);
  first.subscribe("t", 1);
  EXPECT_TRUE(second.connect("same", false, 3600).session_present);
  auto d = first.next_of<mqtt::disconnect>();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, reason_code::session_taken_over);
  EXPECT_TRUE(first.closed());
  EXPECT_FALSE(second.closed());
  client pub(h, v5);
  pub.connect("pub");
  pub.publish("t", "to the new one", 1);
  EXPECT_EQ(second.publishes().size(), 1u);
  EXPECT_EQ(h.b->stats().connected.load(), 2u);
}

TEST(MemoryBroker, TakeoverPublishesTheOldConnectionsWillWithoutDelay) {
  harness h;
  client watch(h, v5), first(h, v5), second(h, v5);
  watch.connect("watch");
  watch.subscribe("will", 0);
  first.connect(with_will("dev", "will", 0, 0));
  second.connect("dev");
  EXPECT_EQ(watch.publishes().size(), 1u);
}

TEST(MemoryBroker, TakeoverDropsADelayedWillWhenTheSessionGoesOn) {
  harness h;
  client watch(h, v5), first(h, v5), second(h, v5);
  watch.connect("watch");
  watch.subscribe("will", 0);
  first.connect(with_will("dev", "will", 30, 60));
  EXPECT_TRUE(second.connect("dev", false, 60).session_present);
  h.advance(60s);
  EXPECT_TRUE(watch.publishes().empty());
}

TEST(MemoryBroker, TakeoverOf311ClientClosesWithoutDisconnect) {
  harness h;
  client first(h, v311), second(h, v311);
  first.connect("same");
  second.connect("same");
  EXPECT_TRUE(first.closed());
  EXPECT_FALSE(first.next_of<mqtt::disconnect>());  // 3.1.1 has no server DISCONNECT
}

TEST(MemoryBroker, IncomingTopicAliasesResolveAndBadOnesDisconnect) {
  broker_options o;
  o.topic_alias_maximum = 4;
  harness h(o);
  client sub(h, v5), pub(h, v5);
  sub.connect("sub");
  sub.subscribe("long/topic/name", 0);
  auto ack = pub.connect("pub");
  EXPECT_EQ(ack.properties.topic_alias_maximum(), 4);
  mqtt::properties set;
  set.set_topic_alias(1);
  pub.publish("long/topic/name", "first", 0, false, set);
  pub.publish("", "by alias", 0, false, set);
  auto got = sub.publishes();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].topic, "long/topic/name");
  EXPECT_EQ(payload_of(got[1]), "by alias");

  mqtt::properties unknown;
  unknown.set_topic_alias(2);
  pub.publish("", "no such alias", 0, false, unknown);
  auto d = pub.next_of<mqtt::disconnect>();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, reason_code::protocol_error);
  EXPECT_TRUE(pub.closed());
}

TEST(MemoryBroker, OutgoingTopicAliasesStayWithinTheClientsMaximum) {
  harness h;
  client sub(h, v5), pub(h, v5);
  mqtt::connect c;
  c.client_id = "sub";
  c.properties.set_topic_alias_maximum(1);
  sub.connect(std::move(c));
  sub.subscribe("a/#", 0);
  pub.connect("pub");
  for (auto t : {"a/1", "a/1", "a/2", "a/1"}) pub.publish(t, "x", 0);
  auto got = sub.publishes();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].topic, "a/1");
  EXPECT_EQ(got[0].properties.topic_alias(), 1);
  EXPECT_EQ(got[1].topic, "");  // by alias
  EXPECT_EQ(got[1].properties.topic_alias(), 1);
  EXPECT_EQ(got[2].topic, "a/2");  // no alias left: in full
  EXPECT_FALSE(got[2].properties.topic_alias());
  EXPECT_EQ(got[3].topic, "");
}

TEST(MemoryBroker, ReceiveMaximumExceededDisconnects0x93) {
  broker_options o;
  o.receive_maximum = 2;
  harness h(o);
  client pub(h, v5);
  EXPECT_EQ(pub.connect("pub").properties.receive_maximum(), 2);
  for (int i = 0; i < 2; ++i) pub.publish("t", "x", 2, false, {}, /*complete=*/false);
  EXPECT_FALSE(pub.closed());
  pub.publish("t", "one too many", 2, false, {}, false);
  auto d = pub.next_of<mqtt::disconnect>();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, reason_code::receive_maximum_exceeded);
  EXPECT_TRUE(pub.closed());
}

TEST(MemoryBroker, OutgoingWindowFollowsTheClientsReceiveMaximum) {
  harness h;
  client sub(h, v5), pub(h, v5);
  mqtt::connect c;
  c.client_id = "sub";
  c.properties.set_receive_maximum(2);
  sub.connect(std::move(c));
  sub.subscribe("t", 1);
  pub.connect("pub");
  for (int i = 0; i < 5; ++i) pub.publish("t", std::to_string(i), 1);
  auto window = sub.publishes(false);
  ASSERT_EQ(window.size(), 2u);  // two in flight, three queued
  sub.send(ack_of<mqtt::puback>(window[0].packet_id));
  auto more = sub.publishes(false);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(payload_of(more[0]), "2");
}

TEST(MemoryBroker, SharedSubscriptionGivesEachMessageToOneMember) {
  harness h;
  client a(h, v5), b(h, v5), plain(h, v5), pub(h, v5);
  a.connect("a");
  b.connect("b");
  plain.connect("plain");
  EXPECT_EQ(a.subscribe("$share/g/s/#", 1), reason_code::granted_qos_1);
  EXPECT_EQ(b.subscribe("$share/g/s/#", 1), reason_code::granted_qos_1);
  plain.subscribe("s/#", 1);
  pub.connect("pub");
  for (int i = 0; i < 10; ++i) pub.publish("s/x", std::to_string(i), 1);
  auto got_a = a.publishes(), got_b = b.publishes();
  EXPECT_EQ(got_a.size() + got_b.size(), 10u);
  EXPECT_FALSE(got_a.empty());
  EXPECT_FALSE(got_b.empty());
  EXPECT_EQ(plain.publishes().size(), 10u);  // a plain subscription gets every one
}

TEST(MemoryBroker, RetainedMessagesFollowTheSubscribeAndAnEmptyPayloadClearsThem) {
  harness h;
  client pub(h, v5);
  pub.connect("pub");
  pub.publish("r/a", "kept", 1, /*retain=*/true);
  pub.publish("r/b", "also", 0, true);
  EXPECT_EQ(h.b->retained_count(), 2u);
  pub.publish("r/b", "", 0, true);
  EXPECT_EQ(h.b->retained_count(), 1u);
  client sub(h, v5);
  sub.connect("sub");
  sub.subscribe("r/#", 1);
  auto got = sub.publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "r/a");
  EXPECT_TRUE(got[0].retain);
}

TEST(MemoryBroker, RetainedMessagesCanBeReadByTopicAndListedInTopicOrder) {
  harness h;
  client pub(h, v5);
  pub.connect("pub");
  const auto before = wall_clock_ms();
  for (const char* t : {"c/x", "a/1", "b/2", "a/0"}) pub.publish(t, t, 1, /*retain=*/true);
  const auto after = wall_clock_ms();
  pub.publish("gone", "soon", 0, true);
  pub.publish("gone", "", 0, true);

  const auto m = h.b->retained("a/1");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(std::string(as_string_view(m->payload)), "a/1");
  EXPECT_EQ(m->qos, 1);
  EXPECT_GE(m->received_ms, before);
  EXPECT_LE(m->received_ms, after);
  EXPECT_EQ(h.b->retained("gone"), nullptr);
  EXPECT_EQ(h.b->retained("a"), nullptr);

  const auto topics = [](const std::vector<message_ptr>& page) {
    std::vector<std::string> out;
    for (const auto& p : page) out.push_back(p->topic);
    return out;
  };
  EXPECT_EQ(topics(h.b->retained_page("", 3)), (std::vector<std::string>{"a/0", "a/1", "b/2"}));
  EXPECT_EQ(topics(h.b->retained_page("b/2", 3)), (std::vector<std::string>{"b/2", "c/x"}));
  EXPECT_EQ(topics(h.b->retained_page("b/3", 3)), std::vector<std::string>{"c/x"});
  EXPECT_TRUE(h.b->retained_page("c/y", 3).empty());
}

TEST(MemoryBroker, MessageExpiryOnTheBrokersClock) {
  harness h;
  client sub(h, v5), pub(h, v5);
  sub.connect("sub", true, 3600);
  sub.subscribe("t", 1);
  sub.drop();
  pub.connect("pub");
  mqtt::properties ttl;
  ttl.set_message_expiry_interval(10);
  pub.publish("t", "short-lived", 1, false, ttl);
  pub.publish("t", "long-lived", 1);
  h.advance(4s);
  client back(h, v5);
  back.connect("sub", false, 3600);
  auto got = back.publishes();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].properties.message_expiry_interval(), 6u);  // what is left of it
  back.drop();
  pub.publish("t", "short-lived", 1, false, ttl);
  h.advance(11s);
  client last(h, v5);
  last.connect("sub", false, 3600);
  got = last.publishes();
  ASSERT_EQ(got.size(), 0u);
  EXPECT_GE(h.b->stats().dropped.load(), 1u);
}

TEST(MemoryBroker, SessionExpiresOnTheBrokersClock) {
  harness h;
  client a(h, v5);
  a.connect("c", true, 60);
  a.drop();
  EXPECT_EQ(h.b->session_count(), 1u);
  h.advance(59s);
  EXPECT_EQ(h.b->session_count(), 1u);
  h.advance(1s);
  EXPECT_EQ(h.b->session_count(), 0u);
  client b(h, v5);
  EXPECT_FALSE(b.connect("c", false, 60).session_present);
}

TEST(MemoryBroker, AnythingBeforeConnectClosesTheConnection) {
  harness h;
  client c(h, v5);
  c.send(mqtt::packet{mqtt::pingreq{}});
  EXPECT_TRUE(c.closed());
  EXPECT_FALSE(c.next());
}

TEST(MemoryBroker, SecondConnectIsAProtocolError) {
  harness h;
  client c(h, v5);
  c.connect("c");
  mqtt::connect again;
  again.client_id = "c";
  c.send(mqtt::packet{again});
  auto d = c.next_of<mqtt::disconnect>();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, reason_code::protocol_error);
  EXPECT_TRUE(c.closed());
}

TEST(MemoryBroker, HooksDecideConnectPublishSubscribeAndReceive) {
  harness h;
  h.b->on_authenticate([](const mqtt::connect_view& c, client_info& info) {
    if (c.client_id == "banned") return reason_code::not_authorized;
    EXPECT_EQ(info.peer->transport, "memory");
    return reason_code::success;
  });
  h.b->on_authorize([](const client_info& info, action a, std::string_view topic) {
    if (a == action::subscribe) return !topic.starts_with("secret");
    if (a == action::receive) return info.client_id != "deaf";
    return topic != "forbidden";
  });
  client banned(h, v5), banned311(h, v311);
  EXPECT_EQ(banned.connect("banned").reason, reason_code::not_authorized);
  EXPECT_TRUE(banned.closed());
  EXPECT_EQ(static_cast<int>(banned311.connect("banned").reason), 5);  // 3.1.1 return code
  client sub(h, v5), deaf(h, v5), pub(h, v5);
  sub.connect("sub");
  EXPECT_EQ(sub.subscribe("secret/x", 0), reason_code::not_authorized);
  sub.subscribe("#", 0);
  deaf.connect("deaf");
  deaf.subscribe("#", 0);
  pub.connect("pub");
  pub.publish("forbidden", "x", 1);
  auto ack = pub.next_of<mqtt::puback>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason, reason_code::not_authorized);
  pub.publish("open", "y", 0);
  auto got = sub.publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "open");
  EXPECT_TRUE(deaf.publishes().empty());
}

TEST(MemoryBroker, ProtocolErrorGetsAReasonCodeAndOthersKeepTheirService) {
  harness h;
  client good(h, v5), bad(h, v5);
  good.connect("good");
  good.subscribe("t", 0);
  bad.connect("bad");
  // SUBSCRIBE with reserved flag bits 0000 (must be 0010): malformed.
  const std::array<std::byte, 9> broken{std::byte{0x80}, std::byte{7},   std::byte{0},
                                        std::byte{1},    std::byte{0},   std::byte{0},
                                        std::byte{1},    std::byte{'t'}, std::byte{0}};
  bad.send_bytes(bytes_view{broken});
  auto d = bad.next_of<mqtt::disconnect>();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, reason_code::malformed_packet);
  EXPECT_TRUE(bad.closed());
  client pub(h, v5);
  pub.connect("pub");
  pub.publish("t", "still served", 0);
  EXPECT_EQ(good.publishes().size(), 1u);
  EXPECT_EQ(h.b->stats().protocol_errors.load(), 1u);
}

TEST(MemoryBroker, KeepAliveSetsTheTransportsIdleTimeout) {
  harness h;
  client c(h, v5);
  mqtt::connect conn;
  conn.client_id = "c";
  conn.keep_alive = 20;
  c.connect(std::move(conn));
  EXPECT_EQ(c.connection().idle_timeout, 30000ms);
  EXPECT_EQ(c.connection().protocol(), v5);
}

}  // namespace
}  // namespace iotblocks::broker::testing
