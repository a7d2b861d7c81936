// A CONNECT decided later (broker::on_authenticate_deferred): the client gets no
// answer until the resumer is called; success goes on through the authenticate
// hook with the credentials, a refusal gets its reason code; a connection that
// closes meanwhile, a second CONNECT and packets before the answer are handled.
#include "broker/memory_client.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace iotblocks::broker::testing {
namespace {

using mqtt::protocol_version;
using mqtt::reason_code;

mqtt::packet connect_of(const std::string& id, protocol_version v) {
  mqtt::connect c;
  c.version = v;
  c.client_id = id;
  c.username = "token-" + id;
  return mqtt::packet{std::move(c)};
}

/// A harness whose deferred hook keeps the resumers of the CONNECTs it takes
/// (client ids starting with "later"), and whose authenticate hook records the
/// credentials it was given.
struct deferred_fixture {
  harness h;
  std::vector<std::pair<std::string, connect_resumer>> taken;
  std::vector<std::string> seen_credentials;
  int authenticate_calls = 0;
  deferred_fixture() {
    h.b->on_authenticate_deferred(
        [this](const mqtt::connect_view& p, const client_info& info, connect_resumer r) {
          EXPECT_EQ(info.username, "token-" + std::string(p.client_id));
          if (!p.client_id.starts_with("later")) return false;
          taken.emplace_back(std::string(p.client_id), std::move(r));
          return true;
        });
    h.b->on_authenticate([this](const mqtt::connect_view&, client_info& info) {
      ++authenticate_calls;
      if (info.credentials) {
        seen_credentials.push_back(*static_cast<const std::string*>(info.credentials.get()));
      }
      return reason_code::success;
    });
  }
};

TEST(DeferredConnect, NoAnswerUntilResumedThenConnackAndService) {
  deferred_fixture f;
  client c(f.h, v5);
  c.send(connect_of("later-1", v5));
  EXPECT_FALSE(c.next().has_value()) << "answered before the decision";
  EXPECT_EQ(f.authenticate_calls, 0);
  ASSERT_EQ(f.taken.size(), 1u);
  f.taken[0].second(reason_code::success, std::make_shared<const std::string>("principal-1"));
  f.h.settle();
  auto ack = c.next_of<mqtt::connack>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason, reason_code::success);
  EXPECT_EQ(f.seen_credentials, std::vector<std::string>{"principal-1"});
  EXPECT_EQ(c.subscribe("a/b", 1), reason_code::granted_qos_1);
  // A second call of the same resumer does nothing.
  f.taken[0].second(reason_code::not_authorized);
  f.h.settle();
  EXPECT_FALSE(c.closed());
}

TEST(DeferredConnect, RefusalGetsItsReasonCodeIn5And311) {
  deferred_fixture f;
  client a(f.h, v5), b(f.h, v311);
  a.send(connect_of("later-a", v5));
  b.send(connect_of("later-b", v311));
  ASSERT_EQ(f.taken.size(), 2u);
  f.taken[0].second(reason_code::bad_user_name_or_password);
  f.taken[1].second(reason_code::not_authorized);
  f.h.settle();
  auto ack_a = a.next_of<mqtt::connack>();
  auto ack_b = b.next_of<mqtt::connack>();
  ASSERT_TRUE(ack_a && ack_b);
  EXPECT_EQ(ack_a->reason, reason_code::bad_user_name_or_password);
  EXPECT_EQ(static_cast<int>(ack_b->reason), 5);  // 3.1.1: not authorized
  EXPECT_TRUE(a.closed());
  EXPECT_TRUE(b.closed());
  EXPECT_EQ(f.authenticate_calls, 0);
  EXPECT_EQ(f.h.b->session_count(), 0u);
}

TEST(DeferredConnect, HookThatDeclinesLeavesItToTheAuthenticateHook) {
  deferred_fixture f;
  client c(f.h, v5);
  c.send(connect_of("now", v5));
  auto ack = c.next_of<mqtt::connack>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason, reason_code::success);
  EXPECT_EQ(f.authenticate_calls, 1);
  EXPECT_TRUE(f.seen_credentials.empty());
}

TEST(DeferredConnect, ClosedBeforeTheAnswerThenResumedDoesNothing) {
  deferred_fixture f;
  client c(f.h, v5);
  c.send(connect_of("later-gone", v5));
  ASSERT_EQ(f.taken.size(), 1u);
  c.drop();
  f.taken[0].second(reason_code::success);
  f.h.settle();
  EXPECT_EQ(f.authenticate_calls, 0);
  EXPECT_EQ(f.h.b->session_count(), 0u);
  EXPECT_EQ(f.h.b->stats().connected.load(), 0u);
}

TEST(DeferredConnect, PacketBeforeTheAnswerOrASecondConnectCloses) {
  deferred_fixture f;
  client eager(f.h, v5), twice(f.h, v5);
  eager.send(connect_of("later-eager", v5));
  eager.send(publish_of("x", "y", 0, 0));
  EXPECT_TRUE(eager.closed());
  twice.send(connect_of("later-twice", v5));
  twice.send(connect_of("later-twice", v5));
  EXPECT_TRUE(twice.closed());
  for (auto& [id, r] : f.taken) r(reason_code::success);
  f.h.settle();
  EXPECT_EQ(f.authenticate_calls, 0);
  EXPECT_EQ(f.h.b->session_count(), 0u);
}

TEST(DeferredConnect, ResumerOutlivingTheBrokerDoesNothing) {
  std::optional<connect_resumer> kept;
  auto h = std::make_unique<harness>();
  h->b->on_authenticate_deferred(
      [&](const mqtt::connect_view&, const client_info&, connect_resumer r) {
        kept = std::move(r);
        return true;
      });
  client c(*h, v5);
  c.send(connect_of("later", v5));
  ASSERT_TRUE(kept);
  auto conn = h->conns.front();
  h->b.reset();  // the broker goes first
  (*kept)(reason_code::success);
  EXPECT_FALSE(c.next().has_value());
}

}  // namespace
}  // namespace iotblocks::broker::testing
