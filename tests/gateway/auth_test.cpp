// Username/password for legacy devices: PBKDF2 hashes in SQLite, users from
// the config and the admin API; refusals are 0x86 (MQTT 5) and 4 (3.1.1).
#include <iotblocks/net/mqtt_client.hpp>

#include <boost/asio/io_context.hpp>

#include <cctype>

#include "auth_fixture.hpp"
#include "gateway/security.hpp"

namespace iotblocks::gateway::testing {
namespace {

/// The CONNACK reason a real client gets.
mqtt::reason_code connack(std::uint16_t port, mqtt::protocol_version v, const std::string& user,
                          const std::string& password) {
  boost::asio::io_context ioc;
  net::mqtt_client_options o;
  o.port = port;
  o.version = v;
  o.client_id = "legacy_probe";
  o.username = user;
  o.password = password;
  net::mqtt_client c{ioc.get_executor(), o};
  bool done = false;
  c.on_connect([&](std::error_code, bool) {
    done = true;
    c.disconnect();
  });
  c.connect();
  ioc.run_for(20s);
  EXPECT_TRUE(done);
  return c.connack_reason();
}

TEST(PasswordHash, Pbkdf2RoundTripAndConstantTimeCompare) {
  auto h = detail::hash_password("s3cret", 100'000);
  ASSERT_TRUE(h) << h.describe();
  EXPECT_TRUE(h->starts_with("pbkdf2-sha256$100000$"));
  EXPECT_TRUE(detail::verify_password(*h, "s3cret"));
  EXPECT_FALSE(detail::verify_password(*h, "s3cret "));
  EXPECT_FALSE(detail::verify_password(*h, ""));
  auto h2 = detail::hash_password("s3cret", 100'000);
  EXPECT_NE(*h, *h2);  // per-user salt
  EXPECT_FALSE(detail::verify_password("pbkdf2-sha256$abc$$", "s3cret"));
  EXPECT_FALSE(detail::verify_password("plain", "plain"));
  EXPECT_FALSE(detail::hash_password("x", 0));
}

TEST_F(SecureGateway, UsernamePasswordAcceptedAndRefused) {
  start();
  // Passwords turn on with the first user.
  ASSERT_EQ(http("PUT", "/admin/users/legacy", R"({"password":"s3cret"})").status, 200u);
  // mosquitto_pub, both protocol versions.
  for (const char* v : {"-V 311", "-V 5"}) {
    SCOPED_TRACE(v);
    EXPECT_EQ(
        run(tcp_client("mosquitto_pub", std::string(v) + " -u legacy -P s3cret -t legacy/t -m ok")),
        "");
    auto wrong =
        run(tcp_client("mosquitto_pub", std::string(v) + " -u legacy -P wrong -t legacy/t -m no"));
    for (auto& ch : wrong) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_NE(wrong.find("bad user name or password"), std::string::npos) << wrong;
    auto none = run(tcp_client("mosquitto_pub", std::string(v) + " -t legacy/t -m no"));
    for (auto& ch : none) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_NE(none.find("bad user name or password"), std::string::npos) << none;
  }
  // The exact reason codes.
  EXPECT_EQ(connack(mqtt_, mqtt::protocol_version::v5, "legacy", "s3cret"),
            mqtt::reason_code::success);
  EXPECT_EQ(connack(mqtt_, mqtt::protocol_version::v5, "legacy", "bad"),
            mqtt::reason_code::bad_user_name_or_password);
  EXPECT_EQ(static_cast<int>(connack(mqtt_, mqtt::protocol_version::v3_1_1, "nobody", "x")), 4);

  // Users through the admin API; the password is never echoed.
  const auto put = http("PUT", "/admin/users/newbie", R"({"password":"fresh-pass"})");
  ASSERT_EQ(put.status, 200u) << put.body;
  EXPECT_EQ(http("GET", "/admin/users").body, R"({"users":["legacy","newbie"]})");
  EXPECT_EQ(connack(mqtt_, mqtt::protocol_version::v5, "newbie", "fresh-pass"),
            mqtt::reason_code::success);
  EXPECT_EQ(http("PUT", "/admin/users/x", R"({"password":""})").status, 400u);
  ASSERT_EQ(http("DELETE", "/admin/users/newbie").status, 200u);
  EXPECT_EQ(http("DELETE", "/admin/users/newbie").status, 404u);
  EXPECT_EQ(connack(mqtt_, mqtt::protocol_version::v5, "newbie", "fresh-pass"),
            mqtt::reason_code::bad_user_name_or_password);
}

TEST_F(SecureGateway, PasswordsOffByDefault) {
  start();
  EXPECT_EQ(run(tcp_client("mosquitto_pub", "-t open/t -m ok")), "");
  EXPECT_EQ(connack(mqtt_, mqtt::protocol_version::v5, "anyone", "anything"),
            mqtt::reason_code::success);
}

}  // namespace
}  // namespace iotblocks::gateway::testing
