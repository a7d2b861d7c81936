// Custom authorizers in a running gateway: refreshAfterInSeconds re-asks the
// function for an open connection (new policies apply at once, a refusal closes
// it), and a WebSocket upgrade request carrying custom-auth credentials is
// decided before the upgrade (HTTP 401 when refused). The function is a program
// reading the event on stdin and answering the document in a file the test rewrites.
#include <boost/asio/read.hpp>

#include "auth_fixture.hpp"
#include "broker_test_client.hpp"
#include "log_capture.hpp"

namespace iotblocks::gateway::testing {
namespace {

class CustomAuthGateway : public SecureGateway {
 protected:
  void SetUp() override {
    const auto base = std::filesystem::temp_directory_path() /
                      ("iotblocks-cag-" + std::to_string(::getpid()) + "-" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    answer_ = base.string() + ".json";
    log_path_ = base.string() + ".log";
    capture_ = std::make_unique<stderr_capture>(log_path_);
  }
  void TearDown() override {
    SecureGateway::TearDown();
    capture_.reset();
    std::filesystem::remove(log_path_);
    std::filesystem::remove(answer_);
  }
  /// Config: authorizers whose function answers what answer_ holds ("Filed"), or
  /// always refuses ("Denier").
  std::string authorizers() const {
    return R"("custom_authorizers": {
      "Filed": {"function": {"command": ["/bin/sh", "-c", "cat >/dev/null; cat )" +
           answer_ + R"("]}, "signing_disabled": true},
      "Denier": {"function": {"command": ["/bin/sh", "-c",
                 "cat >/dev/null; echo '{\"isAuthenticated\":false}'"]},
                 "signing_disabled": true}})";
  }
  void answer(const std::string& json) const { write_file(answer_, json); }
  static std::string allowing(const std::string& topics, int refresh) {
    return R"({"isAuthenticated":true,"principalId":"dev1","refreshAfterInSeconds":)" +
           std::to_string(refresh) +
           R"(,"disconnectAfterInSeconds":3600,"policyDocuments":[{"Version":"2012-10-17",
      "Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
      {"Effect":"Allow","Action":"iot:Publish",
       "Resource":"arn:aws:iot:us-east-1:000000000000:topic/)" +
           topics + R"("}]}]})";
  }
  std::string answer_;
  std::filesystem::path log_path_;
  std::unique_ptr<stderr_capture> capture_;
};

/// The PUBACK reason of a QoS 1 PUBLISH to `topic` (unspecified_error: none came).
mqtt::reason_code publish_ack(raw_client& c, const std::string& topic) {
  const auto id = c.publish(topic, "x", 1);
  for (;;) {
    auto ack = c.next_of<mqtt::puback>(3s);
    if (!ack) return mqtt::reason_code::unspecified_error;
    if (ack->packet_id == id) return ack->reason;
  }
}

TEST_F(CustomAuthGateway, RefreshAppliesNewPoliciesAndClosesWhenRefused) {
  answer(allowing("a/*", 1));
  start(R"(, "authorize": true, )" + authorizers());
  raw_client c(mqtt_);
  mqtt::connect hello;
  hello.username = "?x-amz-customauthorizer-name=Filed";
  ASSERT_EQ(c.connect("dev1", true, 0, hello).reason, mqtt::reason_code::success);
  EXPECT_EQ(publish_ack(c, "a/1"), mqtt::reason_code::success);
  EXPECT_EQ(publish_ack(c, "b/1"), mqtt::reason_code::not_authorized);

  // The function now allows b/* only: the open connection gets that at its next refresh.
  answer(allowing("b/*", 1));
  bool switched = false;
  for (const auto deadline = std::chrono::steady_clock::now() + 5s;
       !switched && std::chrono::steady_clock::now() < deadline;) {
    switched = publish_ack(c, "b/1") == mqtt::reason_code::success;
    if (!switched) std::this_thread::sleep_for(100ms);  // the next refresh is a tick away
  }
  ASSERT_TRUE(switched) << capture_->text();
  EXPECT_EQ(publish_ack(c, "a/1"), mqtt::reason_code::not_authorized);

  // Now it refuses: the connection is closed at the next refresh.
  answer(R"({"isAuthenticated":false})");
  while (c.next(5s)) {
  }
  EXPECT_TRUE(c.eof());
  const auto line = capture_->line_with({"event=custom_auth_refused", "phase=refresh"});
  EXPECT_NE(line.find("authorizer=Filed"), std::string::npos) << capture_->text();
  EXPECT_NE(line.find("client_id=dev1"), std::string::npos) << line;
}

/// Sends an HTTP upgrade request to `port`; returns the response head, and (after
/// a 101) the first WebSocket frame's payload answering `after` (sent as one frame).
std::pair<std::string, std::string> upgrade(std::uint16_t port, const std::string& target,
                                            const std::string& extra_headers,
                                            bytes_view after = {}) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  const std::string req = "GET " + target +
                          " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n" +
                          extra_headers + "\r\n";
  boost::asio::write(s, boost::asio::buffer(req));
  std::string in;
  boost::system::error_code ec;
  std::size_t end = std::string::npos;
  while ((end = in.find("\r\n\r\n")) == std::string::npos) {
    char buf[1024];
    const auto n = s.read_some(boost::asio::buffer(buf), ec);
    if (ec) return {in, {}};
    in.append(buf, n);
  }
  std::string head = in.substr(0, end + 4), rest = in.substr(end + 4);
  if (!head.starts_with("HTTP/1.1 101") || after.empty()) return {head, {}};
  // One masked binary frame (a zero mask keeps the payload as it is).
  std::string frame{'\x82', static_cast<char>(0x80 | after.size()), '\0', '\0', '\0', '\0'};
  frame.append(reinterpret_cast<const char*>(after.data()), after.size());
  boost::asio::write(s, boost::asio::buffer(frame));
  while (rest.size() < 2 || rest.size() < 2u + static_cast<unsigned char>(rest[1])) {
    char buf[1024];
    const auto n = s.read_some(boost::asio::buffer(buf), ec);
    if (ec) return {head, {}};
    rest.append(buf, n);
  }
  return {head, rest.substr(2, static_cast<unsigned char>(rest[1]))};
}

TEST_F(CustomAuthGateway, WebSocketCredentialsRefusedBeforeTheUpgrade) {
  answer(R"({"isAuthenticated":true,"principalId":"ws1","policyDocuments":[]})");
  start(", " + authorizers());
  auto& text = config_text_;
  text.insert(text.find("\"listeners\":[") + 13, R"({"type":"ws","port":0},)");
  restart();
  const auto ws = gw_->port("ws");
  ASSERT_NE(ws, 0);

  // Refused by the function: named in the query string, or in a header (any case).
  auto [query, q_rest] = upgrade(ws, "/mqtt?x-amz-customauthorizer-name=Denier&token=t", "");
  EXPECT_TRUE(query.starts_with("HTTP/1.1 401")) << query;
  auto [header, h_rest] = upgrade(ws, "/mqtt", "X-Amz-CustomAuthorizer-Name: Denier\r\n");
  EXPECT_TRUE(header.starts_with("HTTP/1.1 401")) << header;
  const auto line = capture_->line_with({"event=custom_auth_refused", "phase=upgrade"});
  EXPECT_NE(line.find("authorizer=Denier"), std::string::npos) << capture_->text();
  EXPECT_NE(line.find("isAuthenticated false"), std::string::npos) << line;
  // Naming no configured authorizer: refused the same way, never upgraded.
  auto [unknown, u_rest] = upgrade(ws, "/mqtt", "x-amz-customauthorizer-name: Nobody\r\n");
  EXPECT_TRUE(unknown.starts_with("HTTP/1.1 401")) << unknown;

  // Admitted: upgraded, and the CONNECT goes through on that decision.
  mqtt::connect hello;
  hello.version = mqtt::protocol_version::v3_1_1;
  hello.client_id = "ws1";
  byte_buffer bytes;
  ASSERT_FALSE(mqtt::encode(mqtt::packet{hello}, hello.version, bytes));
  auto [ok, connack] =
      upgrade(ws, "/mqtt", "x-amz-customauthorizer-name: Filed\r\n", bytes_view{bytes});
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 101")) << ok;
  ASSERT_EQ(connack.size(), 4u);
  EXPECT_EQ(connack[0], '\x20');
  EXPECT_EQ(connack[3], '\x00');  // connection accepted
}

}  // namespace
}  // namespace iotblocks::gateway::testing
