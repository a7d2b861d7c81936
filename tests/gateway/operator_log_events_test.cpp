// The operator log of a running gateway, read from its standard error: refused
// TLS handshakes (inside OpenSSL and by the registry) with the verification error
// and certificate id, protocol-error disconnects with client id and reason, and
// custom-authorizer refusals with the authorizer and reason (never the token or
// password). Real TLS with certificates the test makes, mosquitto and raw clients.
#include <iotblocks/x509/issue.hpp>

#include "auth_fixture.hpp"
#include "broker_test_client.hpp"
#include "log_capture.hpp"

namespace iotblocks::gateway::testing {
namespace {

class OperatorLogEvents : public SecureGateway {
 protected:
  void SetUp() override {
    log_path_ = std::filesystem::temp_directory_path() /
                ("iotblocks-oplog-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".log");
    capture_ = std::make_unique<stderr_capture>(log_path_);
  }
  void TearDown() override {
    SecureGateway::TearDown();
    capture_.reset();
    std::filesystem::remove(log_path_);
  }
  /// mosquitto_pub over TLS without a client certificate.
  std::string tls_anonymous(const std::string& args) const {
    return "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(mqtts_) + " --cafile " +
           file("server-ca.pem") + " " + args;
  }
  std::filesystem::path log_path_;
  std::unique_ptr<stderr_capture> capture_;
};

TEST_F(OperatorLogEvents, RefusedTlsHandshakesNameTheErrorAndCertificate) {
  start();
  // Client certificates required: a client without one is refused inside OpenSSL.
  auto& text = config_text_;
  text.replace(text.find("\"request_client_cert\":true"), 26, "\"require_client_cert\":true");
  restart();
  const auto none = run(tls_anonymous("-i nocert -t t -m x"));
  const auto no_cert = capture_->line_with({"event=tls_refused", "transport=tls"});
  ASSERT_FALSE(no_cert.empty()) << none << capture_->text();
  EXPECT_NE(no_cert.find("level=warn"), std::string::npos) << no_cert;
  EXPECT_NE(no_cert.find("certificate"), std::string::npos) << no_cert;  // peer did not return…

  // Signed by a CA nobody registered: a CA problem, with the certificate id.
  auto stranger = test_ca::make("Stranger CA");
  auto [unknown, unknown_key] =
      stranger.issue({.subject = {{{"CN", "lost_1"}}}, .client_auth = true});
  write_file(file("lost_1.pem"), unknown.pem());
  write_file(file("lost_1.key"), unknown_key.pem());
  run(tls_client("mosquitto_pub", "lost_1", "-i lost_1 -t t -m x"));
  const auto ca_line = capture_->line_with({"event=tls_refused_ca", unknown.id()});
  EXPECT_FALSE(ca_line.empty()) << capture_->text();
  EXPECT_NE(ca_line.find("verify_error=20"), std::string::npos) << ca_line;

  // Expired, under the gateway's own (registered) device CA.
  const auto dir = dir_ / "data";
  auto ca = x509::certificate::from_pem([&] {
              std::ifstream in(dir / "device-ca.pem");
              return std::string(std::istreambuf_iterator<char>(in), {});
            }())
                .value();
  auto ca_key = x509::private_key::from_pem([&] {
                  std::ifstream in(dir / "device-ca.key");
                  return std::string(std::istreambuf_iterator<char>(in), {});
                }())
                    .value();
  auto old_key = x509::private_key::generate(x509::key_algorithm::p256).value();
  const auto now = std::chrono::system_clock::now();
  auto expired = x509::issue({.subject = {{{"CN", "old_1"}}},
                              .not_before = now - std::chrono::hours(48),
                              .not_after = now - std::chrono::hours(24),
                              .client_auth = true},
                             old_key, &ca, &ca_key)
                     .value();
  write_file(file("old_1.pem"), expired.pem());
  write_file(file("old_1.key"), old_key.pem());
  run(tls_client("mosquitto_pub", "old_1", "-i old_1 -t t -m x"));
  const auto expired_line = capture_->line_with({"event=tls_refused ", expired.id()});
  EXPECT_NE(expired_line.find("verify_error=10"), std::string::npos) << capture_->text();
  EXPECT_NE(expired_line.find("error=\"certificate has expired\""), std::string::npos)
      << expired_line;

  // Issued, then set INACTIVE by the operator.
  const auto issued = http("POST", "/admin/things/dev_1/certificate", "{}");
  ASSERT_EQ(issued.status, 200u) << issued.body;
  write_file(file("dev_1.pem"), field(issued.body, "certificatePem"));
  write_file(file("dev_1.key"), field(issued.body, "privateKey"));
  const auto id = field(issued.body, "certificateId");
  ASSERT_EQ(http("PUT", "/admin/certificates/" + id, R"({"status":"INACTIVE"})").status, 200u);
  run(tls_client("mosquitto_pub", "dev_1", "-i dev_1 -t t -m x"));
  const auto inactive = capture_->line_with({"event=tls_refused ", "certificate_id=" + id});
  EXPECT_NE(inactive.find("error=\"certificate is inactive\""), std::string::npos)
      << capture_->text();
}

TEST_F(OperatorLogEvents, ProtocolErrorDisconnectsNameClientAndReason) {
  start(R"(, "limits": {"receive_maximum": 2, "topic_alias_maximum": 4})");
  {
    // Receive Maximum 2: a third QoS 2 PUBLISH without PUBREL is one too many (0x93).
    raw_client c(mqtt_);
    ASSERT_EQ(c.connect("greedy_1", true).reason, mqtt::reason_code::success);
    for (int i = 0; i < 3; ++i) c.publish("t/q2", "x", 2);
    auto d = c.next_of<mqtt::disconnect>();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->reason, mqtt::reason_code::receive_maximum_exceeded);
  }
  const auto rm = capture_->line_with({"event=protocol_error", "client_id=greedy_1"});
  EXPECT_NE(rm.find("reason_code=0x93"), std::string::npos) << capture_->text();
  EXPECT_NE(rm.find("Receive Maximum"), std::string::npos) << rm;
  {
    // A topic alias above the maximum the broker gave (0x94).
    raw_client c(mqtt_);
    ASSERT_EQ(c.connect("aliaser_1", true).reason, mqtt::reason_code::success);
    mqtt::properties props;
    props.set_topic_alias(9);
    c.publish("t/a", "x", 0, false, props);
    auto d = c.next_of<mqtt::disconnect>();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->reason, mqtt::reason_code::topic_alias_invalid);
  }
  const auto alias = capture_->line_with({"event=protocol_error", "client_id=aliaser_1"});
  EXPECT_NE(alias.find("reason_code=0x94"), std::string::npos) << capture_->text();
  {
    // A malformed packet the transport's decoder refuses (PUBLISH with QoS 3): 0x81.
    raw_client c(mqtt_);
    ASSERT_EQ(c.connect("garbler_1", true).reason, mqtt::reason_code::success);
    const std::byte bad[] = {std::byte{0x36}, std::byte{0x04}, std::byte{0x00},
                             std::byte{0x01}, std::byte{'t'},  std::byte{0x00}};
    c.send_bytes(bad);
    auto d = c.next_of<mqtt::disconnect>();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->reason, mqtt::reason_code::malformed_packet);
  }
  const auto malformed = capture_->line_with({"event=protocol_error", "client_id=garbler_1"});
  EXPECT_NE(malformed.find("reason_code=0x81"), std::string::npos) << capture_->text();
  EXPECT_NE(malformed.find("reason=\"Malformed Packet\""), std::string::npos) << malformed;
  {
    // A malformed CONNECT (empty protocol name): refused before any session, one line
    // with the peer and no client id.
    raw_client c(mqtt_);
    const std::byte bad[] = {std::byte{0x10}, std::byte{0x03}, std::byte{0x00}, std::byte{0x00},
                             std::byte{0x00}};
    c.send_bytes(bad);
    while (c.next(2s)) {
    }
  }
  const auto early = capture_->line_with({"event=protocol_error", "client_id=\"\""});
  EXPECT_NE(early.find("peer=127.0.0.1"), std::string::npos) << capture_->text();
  EXPECT_NE(early.find("error="), std::string::npos) << early;
  std::istringstream all(capture_->text());
  int lines = 0;
  for (std::string line; std::getline(all, line);) {
    lines += line.find("event=protocol_error") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(lines, 4);  // one per refused client, none twice
}

TEST_F(OperatorLogEvents, CustomAuthorizerRefusalsNameAuthorizerAndReason) {
  write_file((std::filesystem::temp_directory_path() /
              ("iotblocks-deny-" + std::to_string(::getpid()) + ".json")),
             R"({"isAuthenticated":false})");
  const std::string deny = (std::filesystem::temp_directory_path() /
                            ("iotblocks-deny-" + std::to_string(::getpid()) + ".json"))
                               .string();
  start(R"(, "custom_authorizers": {
      "Denier": {"function": {"command": ["/bin/sh", "-c", "cat >/dev/null; cat )" +
        deny + R"("]}, "signing_disabled": true},
      "Broken": {"function": {"command": ["/bin/false"]}, "signing_disabled": true},
      "Garbled": {"function": {"command": ["/bin/echo", "not json"]}, "signing_disabled": true},
      "Off": {"function": {"command": ["/bin/true"]}, "signing_disabled": true,
              "status": "INACTIVE"}})");
  const auto connect = [&](const std::string& authorizer) {
    return run(tcp_client("mosquitto_pub", "-V 5 -i dev_" + authorizer +
                                               " -u '?x-amz-customauthorizer-name=" + authorizer +
                                               "&token=tok-SECRET' -P pass-SECRET -t t -m x"));
  };
  struct expectation {
    std::string authorizer, reason;
  };
  for (const auto& e :
       {expectation{"Denier", "isAuthenticated false"}, expectation{"Broken", "function failed"},
        expectation{"Garbled", "bad response document"}, expectation{"Off", "authorizer inactive"},
        expectation{"Nobody", "unknown authorizer"}}) {
    const auto out = connect(e.authorizer);
    const auto line =
        capture_->line_with({"event=custom_auth_refused", "authorizer=" + e.authorizer});
    EXPECT_NE(line.find(e.reason), std::string::npos) << e.authorizer << ": " << out << "\n"
                                                      << capture_->text();
    EXPECT_NE(line.find("client_id=dev_" + e.authorizer), std::string::npos) << line;
    EXPECT_NE(line.find("phase=connect"), std::string::npos) << line;
  }
  EXPECT_EQ(capture_->text().find("SECRET"), std::string::npos);  // neither token nor password
  std::filesystem::remove(deny);
}

}  // namespace
}  // namespace iotblocks::gateway::testing
