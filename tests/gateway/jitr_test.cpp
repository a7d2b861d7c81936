// Just-in-time registration over real TLS with mosquitto clients, and a policy
// decided by certificate variables.
#include "auth_fixture.hpp"

namespace iotblocks::gateway::testing {
namespace {

// Watchers without a certificate (default policy) may read events and Greenhouse topics.
constexpr std::string_view watcher_policy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/watcher*"},
  {"Effect":"Allow","Action":"iot:Subscribe","Resource":["arn:aws:iot:*:*:topicfilter/$aws/events/*",
    "arn:aws:iot:*:*:topicfilter/Greenhouse/*"]},
  {"Effect":"Allow","Action":"iot:Receive","Resource":"arn:aws:iot:*:*:topic/*"}]})";

// Devices: the client id must be the certificate's Common Name; publish under
// Greenhouse/<Organization>/<client id> only.
constexpr std::string_view device_policy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect",
   "Resource":"arn:aws:iot:*:*:client/${iot:Certificate.Subject.CommonName}"},
  {"Effect":"Allow","Action":"iot:Publish",
   "Resource":"arn:aws:iot:*:*:topic/Greenhouse/${iot:Certificate.Subject.Organization}/${iot:ClientId}"}]})";

std::string config_extra() {
  return R"(,"authorize":true,"default_policies":["Watcher"],"policies":{"Watcher":)" +
         std::string(watcher_policy) + R"(,"Device":)" + std::string(device_policy) + "}";
}

TEST_F(SecureGateway, JustInTimeRegistrationEndToEnd) {
  start(config_extra());
  // 1. A CA of our own, proven with the registration code, registered with auto-registration.
  auto ca = test_ca::make("Acme Devices CA");
  const auto code_reply = http("GET", "/admin/registration-code");
  ASSERT_EQ(code_reply.status, 200u) << code_reply.body;
  const std::string code = field(code_reply.body, "registrationCode");
  ASSERT_EQ(code.size(), 64u);
  auto [verification, vkey] = ca.issue({.subject = {{{"CN", code}}}});
  rapidjson::Document body;
  body.SetObject();
  auto& a = body.GetAllocator();
  body.AddMember("caPem", json::string_value(ca.cert.pem(), a), a);
  body.AddMember("verificationPem", json::string_value(verification.pem(), a), a);
  body.AddMember("status", "ACTIVE", a);
  body.AddMember("autoRegistration", true, a);
  // A wrong verification certificate is refused.
  auto [bad_verification, bkey] = ca.issue({.subject = {{{"CN", "not-the-code"}}}});
  body["verificationPem"] = json::string_value(bad_verification.pem(), a);
  const auto refused_ca = http("POST", "/admin/cas", json::write(body));
  EXPECT_EQ(refused_ca.status, 400u) << refused_ca.body;
  EXPECT_NE(refused_ca.body.find("iotblocks.registry:"), std::string::npos) << refused_ca.body;
  body["verificationPem"] = json::string_value(verification.pem(), a);

  const auto reg = http("POST", "/admin/cas", json::write(body));
  ASSERT_EQ(reg.status, 200u) << reg.body;
  const std::string ca_id = field(reg.body, "caId");
  EXPECT_EQ(ca_id, ca.cert.id());

  // 2. The rule that plays AWS's Lambda: activate, attach the policy, make the thing.
  const auto rule = http("PUT", "/admin/rules/Jitr",
                         R"({"sql":"SELECT * FROM '$aws/events/certificates/registered/+'",
      "actions":[{"iot_registry":{"certificateId":"${certificateId}","attachPolicy":"Device",
                                  "thingFromCommonName":true}}]})");
  ASSERT_EQ(rule.status, 200u) << rule.body;

  // 3. A new device certificate: the first connection is refused, the event is published.
  auto [device, device_key] =
      ca.issue({.subject = {{{"O", "north"}, {"CN", "probe_1"}}}, .client_auth = true});
  write_file(file("probe_1.pem"), device.pem());
  write_file(file("probe_1.key"), device_key.pem());
  const auto event = until_received(
      tcp_client("mosquitto_sub",
                 "-i watcher1 -t '$aws/events/certificates/registered/#' -C 1 "
                 "-W 20 -v"),
      [&] {
        const auto out = run(
            tls_client("mosquitto_pub", "probe_1", "-i probe_1 -t Greenhouse/north/probe_1 -m x"));
        EXPECT_FALSE(out.empty()) << "the first connection must fail";
      });
  EXPECT_NE(event.find("$aws/events/certificates/registered/" + ca_id), std::string::npos) << event;
  EXPECT_NE(event.find("\"certificateId\":\"" + device.id() + "\""), std::string::npos) << event;
  EXPECT_NE(event.find("\"certificateStatus\":\"PENDING_ACTIVATION\""), std::string::npos);

  // 4. The rule ran: ACTIVE, policy attached, thing probe_1 attached.
  std::string status;
  for (int i = 0; i < 200 && status != "ACTIVE"; ++i) {
    status = field(http("GET", "/admin/certificates/" + device.id()).body, "status");
    if (status != "ACTIVE") std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(status, "ACTIVE");
  const auto described = http("GET", "/admin/certificates/" + device.id()).body;
  EXPECT_NE(described.find(R"("policies":["Device"])"), std::string::npos) << described;
  EXPECT_NE(described.find(R"("things":["probe_1"])"), std::string::npos) << described;

  // 5. Reconnect: accepted, the message arrives.
  const auto got = until_received(
      tcp_client("mosquitto_sub", "-i watcher2 -t 'Greenhouse/#' -C 1 -W 20 -v"), [&] {
        run(tls_client("mosquitto_pub", "probe_1",
                       "-i probe_1 -t Greenhouse/north/probe_1 -m lux"));
      });
  EXPECT_EQ(got, "Greenhouse/north/probe_1 lux\n");

  // 6. Revoked: refused at the handshake again.
  ASSERT_EQ(http("PUT", "/admin/certificates/" + device.id(), R"({"status":"REVOKED"})").status,
            200u);
  const auto refused =
      run(tls_client("mosquitto_pub", "probe_1", "-i probe_1 -t Greenhouse/north/probe_1 -m no"));
  EXPECT_FALSE(refused.empty()) << "a revoked certificate must be refused";
  EXPECT_EQ(field(http("GET", "/admin/certificates/" + device.id()).body, "status"), "REVOKED");
}

TEST_F(SecureGateway, PolicyDecidesByCertificateVariables) {
  start(config_extra());
  // Issued by the gateway's device CA through the admin API, with the Device policy.
  const auto issued = http("POST", "/admin/things/probe_2/certificate", R"({"policy":"Device"})");
  ASSERT_EQ(issued.status, 200u) << issued.body;
  write_file(file("probe_2.pem"), field(issued.body, "certificatePem"));
  write_file(file("probe_2.key"), field(issued.body, "privateKey"));
  // The device CA's subject has O=iotblocks: Greenhouse/iotblocks/probe_2 is allowed,
  // another organisation's topic is denied and never delivered.
  const auto out = until_received(
      tcp_client("mosquitto_sub", "-i watcher3 -t 'Greenhouse/#' -C 1 -W 20 -v"), [&] {
        run(tls_client("mosquitto_pub", "probe_2",
                       "-V 5 -q 1 -i probe_2 -t Greenhouse/south/probe_2 -m forged"));
        run(tls_client("mosquitto_pub", "probe_2",
                       "-V 5 -q 1 -i probe_2 -t Greenhouse/iotblocks/probe_2 -m real"));
      });
  EXPECT_EQ(out, "Greenhouse/iotblocks/probe_2 real\n");
  // A client id that is not the certificate's Common Name cannot connect (0x87).
  const auto refused = run(tls_client("mosquitto_pub", "probe_2",
                                      "-V 5 -i intruder -t Greenhouse/iotblocks/intruder -m x"));
  EXPECT_NE(refused.find("Not authorized"), std::string::npos) << refused;
}

}  // namespace
}  // namespace iotblocks::gateway::testing
