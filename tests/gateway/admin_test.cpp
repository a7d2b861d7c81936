// The admin REST API against a running gateway: things, issued certificates
// (used by mosquitto_pub over TLS), certificates, CAs, policies, rules, stats.
#include "auth_fixture.hpp"
#include "x509/test_util.hpp"

namespace iotblocks::gateway::testing {
namespace {

constexpr std::string_view open_device_policy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
  {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/elf/${iot:ClientId}"},
  {"Effect":"Allow","Action":["iot:Subscribe","iot:Receive"],"Resource":"*"}]})";

constexpr std::string_view watch_policy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/watcher"},
  {"Effect":"Allow","Action":["iot:Subscribe","iot:Receive"],"Resource":"*"}]})";

TEST_F(SecureGateway, AdminThingsCertificatesAndIssuedCertificateWork) {
  start(R"(,"authorize":true,"default_policies":["Watch"],"policies":{"Watch":)" +
        std::string(watch_policy) + "}");
  EXPECT_EQ(http("GET", "/admin/things", "", "").status, 401u);
  EXPECT_EQ(http("GET", "/admin/things", "", "nope").status, 401u);

  ASSERT_EQ(http("PUT", "/admin/policies/Elf", std::string(open_device_policy)).status, 200u);
  auto put = http("PUT", "/admin/things/elf_1", R"({"attributes":{"site":"north"}})");
  ASSERT_EQ(put.status, 200u) << put.body;
  EXPECT_EQ(http("PUT", "/admin/things/bad%20name", "{}").status, 400u);
  const auto one = http("GET", "/admin/things/elf_1");
  EXPECT_EQ(one.body,
            R"({"thingName":"elf_1","attributes":{"site":"north"},"version":1,"principals":[]})");
  EXPECT_EQ(http("GET", "/admin/things/nothing").status, 404u);

  // The gateway issues a certificate; the private key comes once.
  const auto issued = http("POST", "/admin/things/elf_1/certificate", R"({"policy":"Elf"})");
  ASSERT_EQ(issued.status, 200u) << issued.body;
  const std::string id = field(issued.body, "certificateId");
  ASSERT_EQ(id.size(), 64u);
  EXPECT_EQ(field(issued.body, "clientId"), "elf_1");
  EXPECT_NE(field(issued.body, "privateKey").find("BEGIN PRIVATE KEY"), std::string::npos);
  write_file(file("elf.pem"), field(issued.body, "certificatePem"));
  write_file(file("elf.key"), field(issued.body, "privateKey"));
  write_file(file("served-ca.pem"), field(issued.body, "caPem"));
  EXPECT_EQ(http("POST", "/admin/things/elf_1/certificate", R"({"policy":"Nope"})").status, 404u);

  // Nothing serves the key again.
  const auto cert = http("GET", "/admin/certificates/" + id);
  ASSERT_EQ(cert.status, 200u);
  EXPECT_EQ(cert.body.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(field(cert.body, "status"), "ACTIVE");
  EXPECT_NE(cert.body.find(R"("things":["elf_1"],"policies":["Elf"])"), std::string::npos)
      << cert.body;
  EXPECT_NE(field(cert.body, "certificatePem").find("BEGIN CERTIFICATE"), std::string::npos);
  const auto list = http("GET", "/admin/certificates");
  EXPECT_NE(list.body.find(id), std::string::npos);
  EXPECT_EQ(list.body.find("certificatePem"), std::string::npos);
  EXPECT_NE(http("GET", "/admin/things").body.find(R"("principals":[")" + id), std::string::npos);

  // mosquitto_pub with the issued files, trusting the CA the gateway served.
  const std::string pub = "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(mqtts_) + " --cafile " +
                          file("served-ca.pem") + " --cert " + file("elf.pem") + " --key " +
                          file("elf.key") + " -i elf_1 -q 1 -t elf/elf_1 -m hello";
  const auto got =
      until_received(tcp_client("mosquitto_sub", "-i watcher -t 'elf/#' -C 1 -W 20 -v"),
                     [&] { EXPECT_EQ(run(pub), ""); });
  EXPECT_EQ(got, "elf/elf_1 hello\n");
  // Without the default policy's client id, a client without certificate is refused.
  EXPECT_NE(run(tcp_client("mosquitto_pub", "-i stranger -t elf/x -m y")), "");

  // Deactivate: refused; certificates cannot be deleted while ACTIVE.
  EXPECT_EQ(http("DELETE", "/admin/certificates/" + id).status, 409u);
  ASSERT_EQ(http("PUT", "/admin/certificates/" + id, R"({"status":"INACTIVE"})").status, 200u);
  EXPECT_NE(run(pub), "");
  EXPECT_EQ(http("PUT", "/admin/certificates/" + id, R"({"status":"BOGUS"})").status, 400u);
  ASSERT_EQ(http("DELETE", "/admin/certificates/" + id).status, 200u);
  EXPECT_EQ(http("GET", "/admin/certificates/" + id).status, 404u);
  ASSERT_EQ(http("DELETE", "/admin/things/elf_1").status, 200u);
  EXPECT_EQ(http("GET", "/admin/things/elf_1").status, 404u);

  // CAs: the gateway's device CA is registered, ACTIVE, without auto-registration.
  const auto cas = http("GET", "/admin/cas");
  EXPECT_NE(cas.body.find(R"("status":"ACTIVE","autoRegistration":false)"), std::string::npos)
      << cas.body;
  EXPECT_EQ(http("POST", "/admin/cas", R"({"caPem":"x"})").status, 400u);
  EXPECT_EQ(http("GET", "/admin/cas/0000").status, 404u);
}

TEST_F(SecureGateway, AdminPoliciesRulesAndStats) {
  start();
  // Policy syntax errors come back with their position.
  const auto bad =
      http("PUT", "/admin/policies/P", "{\"Version\":\"2012-10-17\",\n\"Statement\":[}");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(bad.body.find(R"("position":{"line":2)"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find(R"("code":")"), std::string::npos) << bad.body;
  ASSERT_EQ(http("PUT", "/admin/policies/P", std::string(open_device_policy)).status, 200u);
  ASSERT_EQ(http("PUT", "/admin/policies/P", std::string(open_device_policy)).status, 200u);
  EXPECT_EQ(http("GET", "/admin/policies").body, R"({"policies":["P"]})");
  EXPECT_EQ(http("GET", "/admin/policies/P").body, open_device_policy);
  EXPECT_EQ(http("POST", "/admin/policies/P/attach", R"({"principal":"abc"})").status, 200u);
  EXPECT_EQ(http("DELETE", "/admin/policies/P").status, 409u);
  EXPECT_EQ(http("POST", "/admin/policies/P/detach", R"({"principal":"abc"})").status, 200u);
  EXPECT_EQ(http("POST", "/admin/policies/Q/attach", R"({"principal":"abc"})").status, 404u);
  EXPECT_EQ(http("DELETE", "/admin/policies/P").status, 200u);
  EXPECT_EQ(http("GET", "/admin/policies/P").status, 404u);

  // Rule SQL errors carry the position inside the SQL.
  const auto sql_error =
      http("PUT", "/admin/rules/r1", R"({"sql":"SELECT * FROM 'a' WHERE x >","actions":[]})");
  EXPECT_EQ(sql_error.status, 400u);
  EXPECT_NE(sql_error.body.find(R"("position":{"line":1,"column":)"), std::string::npos)
      << sql_error.body;
  ASSERT_EQ(
      http(
          "PUT", "/admin/rules/r1",
          R"({"sql":"SELECT get_thing_shadow(topic(2), 'arn:aws:iam::1:role/r') AS shadow FROM 'lamp/+'",
                     "actions":[{"republish":{"topic":"lamp_state","qos":0}}]})")
          .status,
      200u);
  const auto rule = http("GET", "/admin/rules/r1");
  EXPECT_NE(rule.body.find(R"("enabled":true)"), std::string::npos) << rule.body;
  EXPECT_NE(rule.body.find(R"("metrics":{)"), std::string::npos) << rule.body;
  EXPECT_NE(field(rule.body, "sql").find("get_thing_shadow"), std::string::npos);

  // get_thing_shadow reads the shadow the rule's message names.
  run(tcp_client(
      "mosquitto_pub",
      "-t '$aws/things/l1/shadow/update' -m '{\"state\":{\"reported\":{\"on\":true}}}'"));
  const auto state = until_received(tcp_client("mosquitto_sub", "-t lamp_state -C 1 -W 20"),
                                    [&] { run(tcp_client("mosquitto_pub", "-t lamp/l1 -m {}")); });
  EXPECT_NE(state.find(R"("shadow":{"state":{"reported":{"on":true}})"), std::string::npos)
      << state;

  ASSERT_EQ(http("POST", "/admin/rules/r1/disable").status, 200u);
  EXPECT_NE(http("GET", "/admin/rules/r1").body.find(R"("enabled":false)"), std::string::npos);
  ASSERT_EQ(http("POST", "/admin/rules/r1/enable").status, 200u);
  EXPECT_EQ(http("POST", "/admin/rules/none/enable").status, 404u);

  const auto stats = http("GET", "/admin/stats");
  ASSERT_EQ(stats.status, 200u);
  for (const char* key :
       {"connected", "connects", "disconnects", "messages_in", "messages_out", "dropped",
        "retained", "sessions", "rules_matched", "rules_failed", "shadow_updates"}) {
    EXPECT_NE(stats.body.find("\"" + std::string(key) + "\":"), std::string::npos) << key;
  }
  EXPECT_EQ(stats.body.find("\"shadow_updates\":0"), std::string::npos) << stats.body;
}

TEST_F(SecureGateway, AdminRuleChangesSurviveARestart) {
  start(R"(, "rules": {
      "from_config": {"sql": "SELECT * FROM 'c'", "actions": [{"republish": {"topic": "c2"}}]},
      "dropped": {"sql": "SELECT * FROM 'd'", "actions": [{"republish": {"topic": "d2"}}]}})");
  ASSERT_EQ(http("PUT", "/admin/rules/added",
                 R"({"sql":"SELECT x FROM 'a'","actions":[{"republish":{"topic":"a2"}}]})")
                .status,
            200u);
  ASSERT_EQ(http("POST", "/admin/rules/from_config/disable").status, 200u);
  ASSERT_EQ(http("DELETE", "/admin/rules/dropped").status, 200u);
  // Replaced twice: the last document is the one kept.
  ASSERT_EQ(http("PUT", "/admin/rules/added",
                 R"({"sql":"SELECT y FROM 'a'","actions":[{"republish":{"topic":"a3"}}]})")
                .status,
            200u);

  restart();
  EXPECT_EQ(http("GET", "/admin/rules").body, R"({"rules":["added","from_config"]})");
  const auto added = http("GET", "/admin/rules/added");
  EXPECT_EQ(field(added.body, "sql"), "SELECT y FROM 'a'");
  EXPECT_NE(added.body.find(R"("document":{"sql":"SELECT y FROM 'a'")"), std::string::npos)
      << added.body;
  EXPECT_NE(added.body.find(R"("topic":"a3")"), std::string::npos) << added.body;
  EXPECT_NE(http("GET", "/admin/rules/from_config").body.find(R"("enabled":false)"),
            std::string::npos);
  EXPECT_EQ(http("GET", "/admin/rules/dropped").status, 404u);

  // The restored rule runs: a message on 'a' comes out on a3.
  const auto out = until_received(tcp_client("mosquitto_sub", "-t a3 -C 1 -W 20"),
                                  [&] { run(tcp_client("mosquitto_pub", "-t a -m '{\"y\":7}'")); });
  EXPECT_EQ(out, "{\"y\":7}\n");
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    if (ch == '\n') {
      out += "\\n";
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

TEST_F(SecureGateway, AdminRegistersCertificatesAndAttachesThingPrincipals) {
  start("");
  const auto factory = x509::test::make_ca("Factory CA (not registered)");
  const auto device = x509::test::make_leaf("pump-1", factory);
  const std::string pem = json_string(device.cert.pem());
  // RegisterCertificate: no registered CA signed it.
  auto r = http("POST", "/admin/certificates", R"({"certificatePem":)" + pem + "}");
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_NE(r.body.find("CA"), std::string::npos) << r.body;
  // RegisterCertificateWithoutCA, ACTIVE.
  r = http("POST", "/admin/certificates",
           R"({"certificatePem":)" + pem + R"(,"status":"ACTIVE","withoutCa":true})");
  ASSERT_EQ(r.status, 200u) << r.body;
  const std::string id = field(r.body, "certificateId");
  EXPECT_EQ(id, device.cert.id());
  EXPECT_EQ(field(r.body, "status"), "ACTIVE");
  EXPECT_EQ(field(r.body, "caId"), "");
  EXPECT_EQ(
      http("POST", "/admin/certificates", R"({"certificatePem":)" + pem + R"(,"withoutCa":true})")
          .status,
      409u);
  EXPECT_EQ(http("POST", "/admin/certificates", R"({"status":"ACTIVE"})").status, 400u);
  // AttachThingPrincipal / DetachThingPrincipal.
  ASSERT_EQ(http("PUT", "/admin/things/pump-1", "{}").status, 200u);
  r = http("PUT", "/admin/things/pump-1/principals/" + id);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(http("GET", "/admin/things/pump-1").body.find(R"("principals":[")" + id),
            std::string::npos);
  EXPECT_EQ(http("PUT", "/admin/things/nothing/principals/" + id).status, 404u);
  r = http("DELETE", "/admin/things/pump-1/principals/" + id);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(http("GET", "/admin/things/pump-1").body.find(R"("principals":[])"), std::string::npos);
}

}  // namespace
}  // namespace iotblocks::gateway::testing
