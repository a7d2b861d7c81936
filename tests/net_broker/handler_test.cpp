// The broker bound to net's server: what the binding adds to the broker (its
// semantics are tested without sockets in tests/broker) — peers as the
// transport saw them, packets in, a malformed packet answered with its reason,
// and the broker told when a socket goes away.
#include "gateway/broker_test_client.hpp"

#include <iotblocks/net_broker/handler.hpp>

#include <gtest/gtest.h>

#include <array>
#include <mutex>
#include <thread>

namespace iotblocks::net_broker {
namespace {

using gateway::testing::raw_client;
using mqtt::reason_code;
using namespace std::chrono_literals;

class NetBroker : public ::testing::Test {
 protected:
  void SetUp() override {
    net::server_options so;
    so.threads = 2;
    server_ = std::make_unique<net::server>(so);
    port_ = server_->listen(gateway::testing::loopback()).value();
  }
  void start() { server_->start(handler_); }
  void TearDown() override { server_->stop(); }

  // Waits (bounded) until the broker counts `n` connected clients.
  void wait_connected(std::uint64_t n) {
    for (int i = 0; i < 500 && broker_.stats().connected.load() != n; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(broker_.stats().connected.load(), n);
  }

  broker::broker broker_;
  handler handler_{broker_};
  std::unique_ptr<net::server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(NetBroker, TheHooksSeeThePeerAsTheTransportSawIt) {
  std::mutex m;
  broker::peer_info seen;
  broker_.on_authenticate([&](const mqtt::connect_view&, broker::client_info& info) {
    std::lock_guard lock(m);
    seen = *info.peer;
    return reason_code::success;
  });
  start();
  raw_client c(port_);
  EXPECT_EQ(c.connect("peer", true).reason, reason_code::success);
  std::lock_guard lock(m);
  EXPECT_EQ(seen.address, "127.0.0.1");
  EXPECT_EQ(seen.transport, "tcp");
  EXPECT_NE(seen.port, 0);
  EXPECT_TRUE(seen.chain.empty());
}

TEST_F(NetBroker, PacketsFlowBetweenSockets) {
  start();
  raw_client sub(port_), pub(port_);
  sub.connect("sub", true);
  sub.subscribe("t", 1);
  pub.connect("pub", true);
  pub.publish("t", "over tcp", 1);
  auto p = sub.next_of<mqtt::publish>();
  ASSERT_TRUE(p);
  EXPECT_EQ(gateway::testing::payload_of(*p), "over tcp");
}

TEST_F(NetBroker, AMalformedPacketGetsItsReasonAndTheBrokerHearsTheClose) {
  start();
  raw_client watch(port_), bad(port_);
  watch.connect("watch", true);
  watch.subscribe("will", 0);
  mqtt::connect c;
  c.will.emplace();
  c.will->topic = "will";
  c.will->payload = to_buffer("gone");
  ASSERT_EQ(bad.connect("bad", true, 0, c).reason, reason_code::success);
  wait_connected(2);
  // SUBSCRIBE with reserved flag bits 0000 (must be 0010): malformed.
  const std::array<std::byte, 9> broken{std::byte{0x80}, std::byte{7},   std::byte{0},
                                        std::byte{1},    std::byte{0},   std::byte{0},
                                        std::byte{1},    std::byte{'t'}, std::byte{0}};
  bad.send_bytes(bytes_view{broken});
  auto d = bad.next_of<mqtt::disconnect>();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reason, reason_code::malformed_packet);
  wait_connected(1);  // the binding told the broker the socket went away
  auto will = watch.next_of<mqtt::publish>();
  ASSERT_TRUE(will);  // and the broker ended the session: the will went out
  EXPECT_EQ(will->topic, "will");
}

TEST_F(NetBroker, ARefusedConnectGetsAConnackBeforeTheClose) {
  start();
  raw_client c(port_);
  mqtt::connect conn;
  conn.client_id = "x";
  byte_buffer out;
  ASSERT_FALSE(mqtt::encode(mqtt::packet{conn}, mqtt::protocol_version::v5, out));
  out.back() = std::byte{0xFF};  // the client id's last byte is not UTF-8
  c.send_bytes(bytes_view{out});
  auto ack = c.next_of<mqtt::connack>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason, reason_code::malformed_packet);
  EXPECT_EQ(broker_.stats().rejected_connects.load(), 1u);
}

}  // namespace
}  // namespace iotblocks::net_broker
