// The bound broker seen by a raw MQTT 5 client on 127.0.0.1: $SYS statistics,
// presence events and enhanced authentication (AUTH, SCRAM-SHA-256, the
// gateway's exchange). Timers are driven through broker::tick(now + ...). The
// broker's own semantics are tested without sockets in tests/broker.
#include "gateway/broker_test_client.hpp"
#include "gateway/enhanced_auth.hpp"
#include "gateway/security.hpp"

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/net_broker/handler.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <memory>
#include <thread>

namespace iotblocks::gateway {
namespace {

using broker::action;
using broker::broker_options;
using broker::client_info;
using broker::message;

using mqtt::reason_code;
using testing::payload_of;
using testing::raw_client;
using namespace std::chrono_literals;

class BrokerSemantics : public ::testing::Test {
 protected:
  void start(broker_options o = {}) {
    broker_ = std::make_unique<broker::broker>(o);
    handler_ = std::make_unique<net_broker::handler>(*broker_);
    configure(*broker_);
    net::server_options so;
    so.threads = 2;
    server_ = std::make_unique<net::server>(so);
    port_ = server_->listen(testing::loopback()).value();
    server_->start(*handler_);
  }
  virtual void configure(broker::broker&) {}  // hooks, before the server starts
  void TearDown() override {
    if (server_) server_->stop();
  }

  // Waits (bounded) until the broker counts `n` connected clients.
  void wait_connected(std::uint64_t n) {
    for (int i = 0; i < 500 && broker_->stats().connected.load() != n; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(broker_->stats().connected.load(), n);
  }

  // Publishes a marker; the next PUBLISH `sub` sees must be it (so nothing
  // was published before it).
  void expect_next_is_marker(raw_client& sub, const std::string& topic) {
    raw_client m(port_);
    m.connect("marker", true);
    m.publish(topic, "marker", 0);
    auto p = sub.next_of<mqtt::publish>();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->topic, topic);
    EXPECT_EQ(payload_of(*p), "marker");
  }

  mqtt::connect with_will(const std::string& topic, std::uint32_t delay) {
    mqtt::connect c;
    c.will.emplace();
    c.will->topic = topic;
    c.will->payload = to_buffer("gone");
    if (delay != 0) c.will->properties.set_will_delay_interval(delay);
    return c;
  }

  std::unique_ptr<broker::broker> broker_;
  std::unique_ptr<net_broker::handler> handler_;
  std::unique_ptr<net::server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(BrokerSemantics, SysStatisticsArePublishedAndNotMatchedByHash) {
  broker_options o;
  o.sys_interval = 10;
  start(o);
  raw_client all(port_);
  all.connect("all", true);
  all.subscribe("#", 0);
  raw_client sys(port_);
  sys.connect("sys", true);
  sys.subscribe("$SYS/broker/clients/connected", 0);
  sys.subscribe("$SYS/broker/messages/+", 0);
  broker_->tick(std::chrono::steady_clock::now() + 11s);
  auto p = sys.next_of<mqtt::publish>();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->topic, "$SYS/broker/clients/connected");
  EXPECT_EQ(payload_of(*p), "2");
  p = sys.next_of<mqtt::publish>();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->topic, "$SYS/broker/messages/received");
  expect_next_is_marker(all, "not/sys");  // "#" never matches $SYS (MQTT-4.7.2-1)
}

TEST_F(BrokerSemantics, PresenceEventsOnConnectAndDisconnect) {
  broker_options o;
  o.presence_events = true;
  start(o);
  raw_client watcher(port_);
  watcher.connect("watcher", true);
  watcher.subscribe("$aws/events/presence/+/dev1", 1);
  {
    raw_client dev(port_);
    dev.connect("dev1", true);
    auto p = watcher.next_of<mqtt::publish>();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->topic, "$aws/events/presence/connected/dev1");
    const auto body = payload_of(*p);
    EXPECT_NE(body.find(R"("clientId":"dev1")"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("eventType":"connected")"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("ipAddress":"127.0.0.1")"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("sessionIdentifier":")"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("versionNumber":1)"), std::string::npos) << body;
    dev.send(mqtt::packet{mqtt::disconnect{}});
    p = watcher.next_of<mqtt::publish>();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->topic, "$aws/events/presence/disconnected/dev1");
    EXPECT_NE(payload_of(*p).find(R"("disconnectReason":"CLIENT_INITIATED_DISCONNECT")"),
              std::string::npos)
        << payload_of(*p);
  }
}

TEST_F(BrokerSemantics, UnsupportedAuthenticationMethodIsRefused0x8C) {
  start();
  raw_client c(port_);
  mqtt::connect conn;
  conn.properties.set_authentication_method("GS2-KRB5");
  EXPECT_EQ(c.connect("kerberos", true, 0, std::move(conn)).reason,
            reason_code::bad_authentication_method);
}

// The client side of SCRAM-SHA-256 (RFC 5802), written from the RFC for the test.
struct scram_client {
  std::string user, password, nonce = "rOprNGfwEbeRWgbNEkqO";
  std::string bare() const { return "n=" + user + ",r=" + nonce; }
  std::string first() const { return "n,," + bare(); }
  std::string expected_server_signature;

  static std::array<unsigned char, 32> hmac(const unsigned char* key, std::size_t n,
                                            std::string_view msg) {
    std::array<unsigned char, 32> out{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key, static_cast<int>(n), reinterpret_cast<const unsigned char*>(msg.data()),
         msg.size(), out.data(), &len);
    return out;
  }

  // From the server-first message: the client-final message with the proof.
  std::string final(std::string_view server_first) {
    std::string r, s;
    int i = 0;
    std::size_t start = 0;
    while (start <= server_first.size()) {
      auto comma = server_first.find(',', start);
      auto attr = server_first.substr(start, comma - start);
      if (attr.starts_with("r=")) r = std::string(attr.substr(2));
      if (attr.starts_with("s=")) s = std::string(attr.substr(2));
      if (attr.starts_with("i=")) i = std::stoi(std::string(attr.substr(2)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    auto salt = from_base64(s).value();
    std::array<unsigned char, 32> salted{};
    PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                      reinterpret_cast<const unsigned char*>(salt.data()),
                      static_cast<int>(salt.size()), i, EVP_sha256(), 32, salted.data());
    const auto client_key = hmac(salted.data(), 32, "Client Key");
    std::array<unsigned char, 32> stored{};
    SHA256(client_key.data(), 32, stored.data());
    const std::string without_proof = "c=biws,r=" + r;
    const std::string auth_message = bare() + "," + std::string(server_first) + "," + without_proof;
    const auto signature = hmac(stored.data(), 32, auth_message);
    byte_buffer proof(32);
    for (std::size_t k = 0; k < 32; ++k) {
      proof[k] = static_cast<std::byte>(client_key[k] ^ signature[k]);
    }
    const auto server_key = hmac(salted.data(), 32, "Server Key");
    const auto server_signature = hmac(server_key.data(), 32, auth_message);
    expected_server_signature =
        "v=" + to_base64({reinterpret_cast<const std::byte*>(server_signature.data()), 32});
    return without_proof + ",p=" + to_base64(proof);
  }
};

class BrokerScram : public BrokerSemantics {
 protected:
  void SetUp() override {
    hash_ = detail::hash_password("greenhouse-pass", 4096).value();
    start();
  }
  void configure(broker::broker& b) override {
    b.on_enhanced_auth("SCRAM-SHA-256", detail::scram_sha256([this](std::string_view user) {
                         return user == "sensor-1" ? std::optional(hash_) : std::nullopt;
                       }));
  }

  // Runs the exchange; returns the CONNACK (and the server signature check in `verified`).
  mqtt::connack login(raw_client& c, scram_client& sc, bool& verified) {
    mqtt::connect conn;
    conn.client_id = "scram-" + sc.user;
    conn.properties.set_authentication_method("SCRAM-SHA-256")
        .set_authentication_data(to_buffer(sc.first()));
    c.send(mqtt::packet{std::move(conn)});
    mqtt::connack failed;
    failed.reason = reason_code::unspecified_error;
    auto p = c.next();
    if (!p) return failed;
    if (auto* ack = std::get_if<mqtt::connack>(&*p)) return *ack;
    auto* challenge = std::get_if<mqtt::auth>(&*p);
    if (challenge == nullptr) return failed;
    EXPECT_EQ(challenge->reason, reason_code::continue_authentication);
    EXPECT_EQ(challenge->properties.authentication_method(), "SCRAM-SHA-256");
    const auto server_first =
        std::string(as_string_view(challenge->properties.authentication_data().value()));
    EXPECT_TRUE(server_first.starts_with("r=" + sc.nonce)) << server_first;
    mqtt::auth reply;
    reply.reason = reason_code::continue_authentication;
    reply.properties.set_authentication_method("SCRAM-SHA-256")
        .set_authentication_data(to_buffer(sc.final(server_first)));
    c.send(mqtt::packet{std::move(reply)});
    auto ack = c.next_of<mqtt::connack>();
    if (!ack) return failed;
    if (auto data = ack->properties.authentication_data()) {
      verified = as_string_view(*data) == sc.expected_server_signature;
    }
    return *ack;
  }

  std::string hash_;
};

TEST_F(BrokerScram, ScramSha256AuthenticatesAgainstTheStoredHash) {
  raw_client c(port_);
  scram_client sc{"sensor-1", "greenhouse-pass", "rOprNGfwEbeRWgbNEkqO", ""};
  bool verified = false;
  auto ack = login(c, sc, verified);
  EXPECT_EQ(ack.reason, reason_code::success);
  EXPECT_EQ(ack.properties.authentication_method(), "SCRAM-SHA-256");
  EXPECT_TRUE(verified) << "the server proved it knows the password";
  // A working session.
  EXPECT_EQ(c.subscribe("lux/#", 1), std::vector<reason_code>{reason_code::granted_qos_1});
  c.publish("lux/1", "36250", 1);
  auto p = c.next_of<mqtt::publish>();
  ASSERT_TRUE(p);
  EXPECT_EQ(payload_of(*p), "36250");
}

TEST_F(BrokerScram, WrongPasswordAndUnknownUserAreRefused0x86) {
  for (auto [user, password] : {std::pair{"sensor-1", "wrong"}, {"nobody", "greenhouse-pass"}}) {
    raw_client c(port_);
    scram_client sc{user, password, "rOprNGfwEbeRWgbNEkqO", ""};
    bool verified = false;
    EXPECT_EQ(login(c, sc, verified).reason, reason_code::bad_user_name_or_password) << user;
    EXPECT_FALSE(verified);
    EXPECT_FALSE(c.next(2s));  // closed after the CONNACK
  }
}

TEST_F(BrokerScram, AuthWithAnotherMethodMidExchangeIsAProtocolError) {
  raw_client c(port_);
  scram_client sc{"sensor-1", "greenhouse-pass", "rOprNGfwEbeRWgbNEkqO", ""};
  mqtt::connect conn;
  conn.client_id = "mixed";
  conn.properties.set_authentication_method("SCRAM-SHA-256")
      .set_authentication_data(to_buffer(sc.first()));
  c.send(mqtt::packet{std::move(conn)});
  ASSERT_TRUE(c.next_of<mqtt::auth>());
  mqtt::auth reply;
  reply.reason = reason_code::continue_authentication;
  reply.properties.set_authentication_method("PLAIN").set_authentication_data(to_buffer("x"));
  c.send(mqtt::packet{std::move(reply)});
  auto ack = c.next_of<mqtt::connack>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason, reason_code::protocol_error);
}

TEST_F(BrokerScram, ReauthenticationWithAuth0x19) {
  raw_client c(port_);
  scram_client sc{"sensor-1", "greenhouse-pass", "rOprNGfwEbeRWgbNEkqO", ""};
  bool verified = false;
  ASSERT_EQ(login(c, sc, verified).reason, reason_code::success);
  // Again on the open connection, with a new nonce: AUTH 0x19, 0x18, 0x18, then AUTH 0x00.
  auto again = [&](const std::string& password) {
    scram_client re{"sensor-1", password, "fyko+d2lbbFgONRv9qkxdawL", ""};
    mqtt::auth start;
    start.reason = reason_code::re_authenticate;
    start.properties.set_authentication_method("SCRAM-SHA-256")
        .set_authentication_data(to_buffer(re.first()));
    c.send(mqtt::packet{std::move(start)});
    auto challenge = c.next_of<mqtt::auth>();
    EXPECT_TRUE(challenge);
    if (!challenge) return std::optional<mqtt::packet>{};
    EXPECT_EQ(challenge->reason, reason_code::continue_authentication);
    mqtt::auth reply;
    reply.reason = reason_code::continue_authentication;
    reply.properties.set_authentication_method("SCRAM-SHA-256")
        .set_authentication_data(to_buffer(
            re.final(as_string_view(challenge->properties.authentication_data().value()))));
    c.send(mqtt::packet{std::move(reply)});
    auto p = c.next();
    if (auto* done = p ? std::get_if<mqtt::auth>(&*p) : nullptr) {
      EXPECT_EQ(as_string_view(done->properties.authentication_data().value()),
                re.expected_server_signature);
    }
    return p;
  };
  auto ok = again("greenhouse-pass");
  ASSERT_TRUE(ok);
  ASSERT_TRUE(std::holds_alternative<mqtt::auth>(*ok));
  EXPECT_EQ(std::get<mqtt::auth>(*ok).reason, reason_code::success);
  EXPECT_EQ(c.subscribe("lux/#", 1), std::vector<reason_code>{reason_code::granted_qos_1});
  // A failed re-authentication ends the connection with DISCONNECT 0x87.
  auto bad = again("wrong");
  ASSERT_TRUE(bad);
  ASSERT_TRUE(std::holds_alternative<mqtt::disconnect>(*bad));
  EXPECT_EQ(std::get<mqtt::disconnect>(*bad).reason, reason_code::not_authorized);
}

}  // namespace
}  // namespace iotblocks::gateway
