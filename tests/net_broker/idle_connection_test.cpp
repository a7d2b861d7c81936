// Idle MQTT connections on the broker bound to net's server: what each holds
// on the heap, and the keep-alive (1.5 x, MQTT-3.1.2-24) served by one timer
// per io thread.
#include "gateway/broker_test_client.hpp"

#include <iotblocks/net_broker/handler.hpp>

#include <gtest/gtest.h>

#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace iotblocks::net_broker {
namespace {

using gateway::testing::raw_client;
using mqtt::reason_code;
using namespace std::chrono_literals;

class IdleConnection : public ::testing::Test {
 protected:
  void SetUp() override {
    net::server_options so;
    so.threads = 1;
    server_ = std::make_unique<net::server>(so);
    port_ = server_->listen(gateway::testing::loopback()).value();
    server_->start(handler_);
  }
  void TearDown() override { server_->stop(); }

  void wait_connected(std::uint64_t n) {
    for (int i = 0; i < 1000 && broker_.stats().connected.load() != n; ++i) {
      std::this_thread::sleep_for(5ms);
    }
    ASSERT_EQ(broker_.stats().connected.load(), n);
  }

  broker::broker broker_;
  handler handler_{broker_};
  std::unique_ptr<net::server> server_;
  std::uint16_t port_ = 0;
};

// A plain socket (no heap of its own in this process) that sent an MQTT 3.1.1
// CONNECT (keep-alive 600 s) and read its CONNACK; -1 on failure.
int idle_client(std::uint16_t port, const std::string& id) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string p = std::string("\x00\x04MQTT\x04\x02\x02\x58", 10);
  p += static_cast<char>(id.size() >> 8);
  p += static_cast<char>(id.size() & 0xFF);
  p += id;
  p.insert(0, 1, static_cast<char>(p.size()));
  p.insert(0, 1, '\x10');
  std::array<unsigned char, 4> ack{};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::write(fd, p.data(), p.size()) != static_cast<ssize_t>(p.size()) ||
      ::recv(fd, ack.data(), ack.size(), MSG_WAITALL) != 4 || ack[0] != 0x20 || ack[3] != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The heap per idle plain-TCP connection, everything included: the transport's
// connection, the broker's session and both sides' tables, Asio's reactor state.
// About 2.8 KB (docs/bench.md has the breakdown); with a timer, a watchdog
// coroutine, a coroutine read loop and an empty std::deque it was over 5 KB.
TEST_F(IdleConnection, HoldsLessThanThreeKilobytesOfHeap) {
  constexpr int count = 400;
  std::vector<int> fds;
  fds.push_back(idle_client(port_, "warm-up"));  // the thread's read buffer, the tables
  wait_connected(1);
  const auto before = ::mallinfo2().uordblks;
  for (int i = 0; i < count; ++i) {
    fds.push_back(idle_client(port_, "idle-" + std::to_string(i)));
    ASSERT_GE(fds.back(), 0);
  }
  wait_connected(count + 1);
  // A CONNACK's write completes on the server thread after the client read it:
  // a round trip through that thread orders this reading after them.
  {
    raw_client probe(port_);
    ASSERT_EQ(probe.connect("probe", true).reason, reason_code::success);
  }
  wait_connected(count + 1);
  const auto after = ::mallinfo2().uordblks;
  const double per_connection = static_cast<double>(after - before) / count;
  RecordProperty("heap_bytes_per_idle_connection", std::to_string(per_connection));
  std::printf("heap per idle connection: %.0f bytes\n", per_connection);
  EXPECT_LE(per_connection, 3072.0);
  for (int fd : fds) ::close(fd);
}

// Keep-alive 1 s: a client that sends nothing is closed after 1.5 s, one that
// sends a PINGREQ every 300 ms is never closed meanwhile.
TEST_F(IdleConnection, KeepAliveClosesASilentClientAndNeverOneThatReads) {
  mqtt::connect c;
  c.keep_alive = 1;
  raw_client silent(port_, mqtt::protocol_version::v3_1_1);
  raw_client talking(port_, mqtt::protocol_version::v3_1_1);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(silent.connect("silent", true, 0, c).reason, reason_code::success);
  ASSERT_EQ(talking.connect("talking", true, 0, c).reason, reason_code::success);
  std::chrono::steady_clock::duration silent_for{};
  int pings = 0;
  while (std::chrono::steady_clock::now() - start < 2700ms) {
    talking.send(mqtt::packet{mqtt::pingreq{}});
    ASSERT_TRUE(talking.next_of<mqtt::pingresp>(1s)) << "the reading client was closed";
    ++pings;
    // Paces the pings by waiting for the silent client's close (or nothing on the other).
    if (silent.eof()) {
      EXPECT_FALSE(talking.next(300ms));
    } else if (!silent.next(300ms) && silent.eof()) {
      silent_for = std::chrono::steady_clock::now() - start;
    }
  }
  EXPECT_TRUE(silent.eof());
  EXPECT_GE(silent_for, 1500ms);
  EXPECT_LT(silent_for, 2500ms);
  EXPECT_FALSE(talking.eof());
  EXPECT_GE(pings, 8);
}

}  // namespace
}  // namespace iotblocks::net_broker
