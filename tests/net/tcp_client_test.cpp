// The TCP command client against a listener that answers like an infrared blaster.
#include <iotblocks/net/tcp_client.hpp>

#include "net/test_servers.hpp"

#include <gtest/gtest.h>

namespace iotblocks::net {
namespace {

using testing::command_listener;

constexpr std::string_view sendir = "sendir,1:1,15,37993,1,1,246,160,20,20,60\r";

TEST(TcpClient, SendsCommandAndReadsReply) {
  command_listener blaster;
  tcp_client client;
  tcp_exchange_options o;
  o.expect = "completeir";
  auto reply = client.exchange("127.0.0.1", blaster.port(), sendir, o);
  EXPECT_EQ(reply, "completeir,1:1,15\r");
  ASSERT_TRUE(blaster.commands().wait_for(1));
  EXPECT_EQ(blaster.commands().items().at(0), sendir);
}

TEST(TcpClient, ReplyEndsAtLineTerminatorWithoutExpect) {
  command_listener blaster{"ok\rtrailing"};
  tcp_client client;
  auto reply = client.exchange("127.0.0.1", blaster.port(), sendir);
  EXPECT_EQ(reply.substr(0, 3), "ok\r");
}

TEST(TcpClient, UnexpectedReply) {
  command_listener blaster{"ERR_01\r"};
  tcp_client client;
  tcp_exchange_options o;
  o.expect = "completeir";
  std::error_code ec;
  auto reply = client.exchange("127.0.0.1", blaster.port(), sendir, o, ec);
  EXPECT_EQ(ec, error::unexpected_reply);
  EXPECT_EQ(reply, "ERR_01\r");
}

TEST(TcpClient, ReplyTimeout) {
  command_listener blaster{""};  // silent
  tcp_client client;
  tcp_exchange_options o;
  o.reply_timeout = std::chrono::milliseconds(150);
  std::error_code ec;
  client.exchange("127.0.0.1", blaster.port(), sendir, o, ec);
  EXPECT_EQ(ec, error::timeout);
}

TEST(TcpClient, FireAndForget) {
  command_listener blaster{""};
  tcp_client client;
  tcp_exchange_options o;
  o.read_reply = false;
  std::error_code ec;
  client.exchange("127.0.0.1", blaster.port(), sendir, o, ec);
  EXPECT_FALSE(ec);
  ASSERT_TRUE(blaster.commands().wait_for(1));
}

TEST(TcpClient, RefusedAndInvalid) {
  std::uint16_t port = 0;
  {
    command_listener gone;
    port = gone.port();
  }
  tcp_client client;
  std::error_code ec;
  client.exchange("127.0.0.1", port, sendir, {}, ec);
  EXPECT_TRUE(ec);
  client.exchange("", 1, sendir, {}, ec);
  EXPECT_EQ(ec, error::invalid_argument);
  EXPECT_THROW(client.exchange("127.0.0.1", port, sendir), std::system_error);
}

}  // namespace
}  // namespace iotblocks::net
