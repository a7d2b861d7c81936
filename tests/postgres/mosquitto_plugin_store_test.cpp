// The mosquitto plugin's decisions (lib/mosquitto_plugin, without mosquitto) on a registry and
// policies kept in PostgreSQL ("plugin_opt_registry postgresql://…"): another process
// registers, attaches a policy, revokes and changes policies in the database, and the plugin
// decides on what it finds there within refresh_ms.
#include <iotblocks/policy/store.hpp>
#include <iotblocks/postgres/policy_persistence.hpp>
#include <iotblocks/postgres/registry_store.hpp>
#include <iotblocks/registry/registry.hpp>

#include "mosquitto_plugin/authorizer.hpp"
#include "mosquitto_plugin/options.hpp"
#include "postgres/shared_server.hpp"
#include "x509/test_util.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iotblocks::postgres {
namespace {

using namespace std::chrono_literals;
using mosquitto_plugin::access;

constexpr std::string_view device_policy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect",
   "Resource":"arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}"},
  {"Effect":"Allow","Action":"iot:Publish",
   "Resource":"arn:aws:iot:eu-west-1:123456789012:topic/dev/${iot:ClientId}/*"}]})";

constexpr std::string_view deny_all = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Deny","Action":"iot:Publish","Resource":"*"}]})";

TEST(PostgresMosquittoPlugin, DecidesOnTheRegistryAndPoliciesInTheDatabase) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  const std::vector<mosquitto_plugin::option> settings{
      {"registry", url}, {"region", "eu-west-1"}, {"account_id", "123456789012"}};
  auto opts = mosquitto_plugin::parse_options(settings);
  ASSERT_TRUE(opts) << opts.describe();
  EXPECT_EQ(opts->policies_path, url);  // the policies live beside the registry
  opts->refresh = 1000ms;
  std::vector<std::string> log;
  mosquitto_plugin::authorizer plugin{
      *opts, [&](mosquitto_plugin::log_level, const std::string& s) { log.push_back(s); },
      [](const registry::registration_event&) {}};

  // Another process (a gateway, an operator's program) keeps the database.
  auto reg = registry::registry::open(registry_store::open(url).value()).value();
  auto policies = policy::store::open(policy_persistence::open(url).value()).value();
  const auto ca = x509::test::make_ca("Devices CA");
  const auto dev1 =
      x509::test::make_leaf("dev1", ca, x509::key_algorithm::p256, {.client_auth = true});
  const int key1 = 1, key2 = 2, key3 = 3;
  const auto t0 = std::chrono::steady_clock::now();

  EXPECT_FALSE(plugin.connect(&key1, "dev1", "127.0.0.1", &dev1.cert, t0));  // unknown
  const auto verification = x509::test::make_leaf(reg.registration_code().value(), ca);
  reg.register_ca(ca.cert.pem(), verification.cert.pem(), {.active = true}).value();
  reg.register_certificate(dev1.cert.pem(), registry::certificate_status::active).value();
  reg.create_thing({.name = "dev1"}).value();
  reg.attach_thing("dev1", dev1.cert.id()).value();
  policies.create_policy("device", device_policy).value();
  policies.attach_policy("device", dev1.cert.id()).value();

  // A CONNECT always looks: registered in the database, accepted.
  ASSERT_TRUE(plugin.connect(&key1, "dev1", "127.0.0.1", &dev1.cert, t0 + 1ms));
  EXPECT_TRUE(plugin.authorize(&key1, access::publish, "dev/dev1/t", false, t0 + 2ms));
  EXPECT_FALSE(plugin.authorize(&key1, access::publish, "other/t", false, t0 + 3ms));
  EXPECT_FALSE(plugin.connect(&key2, "intruder", "127.0.0.1", &dev1.cert, t0 + 4ms));

  // A policy attached in the database governs the connected client from refresh_ms on.
  policies.create_policy("deny", deny_all).value();
  policies.attach_policy("deny", dev1.cert.id()).value();
  EXPECT_TRUE(plugin.authorize(&key1, access::publish, "dev/dev1/t", false, t0 + 500ms));
  EXPECT_FALSE(plugin.authorize(&key1, access::publish, "dev/dev1/t", false, t0 + 1010ms));
  policies.detach_policy("deny", dev1.cert.id()).value();
  EXPECT_TRUE(plugin.authorize(&key1, access::publish, "dev/dev1/t", false, t0 + 2020ms));

  // Revoked in the database: denied from the next look, refused at the next CONNECT.
  reg.update_certificate(dev1.cert.id(), registry::certificate_status::revoked).value();
  EXPECT_FALSE(plugin.authorize(&key1, access::publish, "dev/dev1/t", false, t0 + 3030ms));
  EXPECT_FALSE(plugin.connect(&key3, "dev1", "127.0.0.1", &dev1.cert, t0 + 3040ms));
}

TEST(PostgresMosquittoPlugin, RegistryAndPoliciesAreBothFilesOrBothUrls) {
  const std::vector<mosquitto_plugin::option> mixed{{"registry", "postgresql://iot@db/iot"},
                                                    {"policies", "/var/lib/iot/policies.db"}};
  auto o = mosquitto_plugin::parse_options(mixed);
  ASSERT_FALSE(o);
  EXPECT_NE(o.describe().find("both files or both PostgreSQL URLs"), std::string::npos);
}

}  // namespace
}  // namespace iotblocks::postgres
