// The plugin's decisions without mosquitto: registry and policy files changed by another
// handle (as another process would), the bound on how long a connected client is decided on
// a stale view, the policy variables of the connection, and refusals when nothing can be
// checked. tests/mosquitto_plugin/mosquitto_plugin_test.py runs the same inside mosquitto.
#include "mosquitto_plugin/authorizer.hpp"
#include "mosquitto_plugin/shared_store.hpp"

#include "x509/test_util.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace iotblocks::mosquitto_plugin {
namespace {

using namespace std::chrono_literals;
using x509::test::issued;

constexpr std::string_view device_policy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect",
   "Resource":"arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}"},
  {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],
   "Resource":"arn:aws:iot:eu-west-1:123456789012:topic/dev/${iot:ClientId}/*"},
  {"Effect":"Allow","Action":"iot:Subscribe",
   "Resource":"arn:aws:iot:eu-west-1:123456789012:topicfilter/dev/${iot:ClientId}/*"},
  {"Effect":"Allow","Action":"iot:RetainPublish",
   "Resource":"arn:aws:iot:eu-west-1:123456789012:topic/dev/${iot:ClientId}/state"}]})";

constexpr std::string_view deny_alarm = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Deny","Action":"iot:Publish","Resource":"*"}]})";

class Authorizer : public ::testing::Test {
 protected:
  Authorizer() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("iotblocks-mosquitto-plugin-" + std::string(info->name()) + "-" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    opts_.registry_path = (dir_ / "registry.db").string();
    opts_.policies_path = (dir_ / "policies.db").string();
    opts_.region = "eu-west-1";
    opts_.account_id = "123456789012";
  }
  ~Authorizer() override { std::filesystem::remove_all(dir_); }

  /// The stores as an operator's process makes them: CA, dev1 ACTIVE with thing "dev1".
  void make_stores() {
    reg_.emplace(registry::registry::open(opts_.registry_path).value());
    policies_.emplace(policy::store::open(opts_.policies_path).value());
    const auto verification = x509::test::make_leaf(reg_->registration_code().value(), ca_);
    reg_->register_ca(ca_.cert.pem(), verification.cert.pem(), {.active = true}).value();
    reg_->register_certificate(dev1_.cert.pem(), registry::certificate_status::active).value();
    reg_->create_thing({.name = "dev1"}).value();
    reg_->attach_thing("dev1", dev1_.cert.id()).value();
    policies_->create_policy("device", device_policy).value();
    policies_->attach_policy("device", dev1_.cert.id()).value();
  }

  authorizer make() {
    return authorizer{opts_, [this](log_level, const std::string& s) { log_.push_back(s); },
                      [this](const registry::registration_event& e) { events_.push_back(e); }};
  }

  bool logged(std::string_view needle) const {
    for (const auto& l : log_) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  std::filesystem::path dir_;
  plugin_options opts_;
  issued ca_ = x509::test::make_ca("Devices CA");
  issued dev1_ =
      x509::test::make_leaf("dev1", ca_, x509::key_algorithm::p256, {.client_auth = true});
  std::optional<registry::registry> reg_;
  std::optional<policy::store> policies_;
  std::vector<std::string> log_;
  std::vector<registry::registration_event> events_;
  const authorizer::time_point t0_ = std::chrono::steady_clock::now();
  const int key1_ = 1, key2_ = 2;  // stand-ins for mosquitto's client pointers
};

TEST_F(Authorizer, StoresMissingRefuseAndCreateNothing) {
  auto a = make();
  EXPECT_FALSE(a.connect(&key1_, "dev1", "127.0.0.1", &dev1_.cert, t0_));
  EXPECT_TRUE(logged("does not exist")) << log_.front();
  EXPECT_FALSE(std::filesystem::exists(opts_.registry_path));
  EXPECT_FALSE(a.authorize(&key1_, access::publish, "dev/dev1/t", false, t0_));
  // Once the files exist, the next CONNECT opens them.
  make_stores();
  EXPECT_TRUE(a.connect(&key1_, "dev1", "127.0.0.1", &dev1_.cert, t0_ + 1ms));
}

TEST_F(Authorizer, UnreadableRegistryRefuses) {
  std::filesystem::create_directories(dir_);
  {
    std::ofstream junk(opts_.registry_path);
    junk << "not a database";
  }
  policy::store::open(opts_.policies_path).value();
  auto a = make();
  EXPECT_FALSE(a.connect(&key1_, "dev1", "127.0.0.1", &dev1_.cert, t0_));
  EXPECT_TRUE(logged("registry " + opts_.registry_path));
}

TEST_F(Authorizer, NoCertificateOrUnknownConnectionRefused) {
  make_stores();
  auto a = make();
  EXPECT_FALSE(a.connect(&key1_, "dev1", "127.0.0.1", nullptr, t0_));
  EXPECT_TRUE(logged("require_certificate true"));
  EXPECT_FALSE(a.authorize(&key2_, access::publish, "dev/dev1/t", false, t0_));
  EXPECT_EQ(a.connections(), 0u);
}

TEST_F(Authorizer, PolicyDecisionsWithConnectionVariables) {
  make_stores();
  auto a = make();
  // iot:Connect names the thing: another client id has no thing attached.
  EXPECT_FALSE(a.connect(&key2_, "other", "127.0.0.1", &dev1_.cert, t0_));
  ASSERT_TRUE(a.connect(&key1_, "dev1", "127.0.0.1", &dev1_.cert, t0_));
  EXPECT_EQ(a.connections(), 1u);
  EXPECT_TRUE(a.authorize(&key1_, access::publish, "dev/dev1/t", false, t0_));
  EXPECT_FALSE(a.authorize(&key1_, access::publish, "dev/dev2/t", false, t0_));
  EXPECT_TRUE(a.authorize(&key1_, access::receive, "dev/dev1/t", false, t0_));
  EXPECT_FALSE(a.authorize(&key1_, access::receive, "dev/dev2/t", false, t0_));
  EXPECT_TRUE(a.authorize(&key1_, access::subscribe, "dev/dev1/#", false, t0_));
  EXPECT_FALSE(a.authorize(&key1_, access::subscribe, "dev/#", false, t0_));
  // Retained publishes also need iot:RetainPublish.
  EXPECT_TRUE(a.authorize(&key1_, access::publish, "dev/dev1/state", true, t0_));
  EXPECT_FALSE(a.authorize(&key1_, access::publish, "dev/dev1/t", true, t0_));
  EXPECT_TRUE(a.authorize(&key1_, access::unsubscribe, "anything/#", false, t0_));
  EXPECT_TRUE(
      logged("IMPLICIT_DENY iot:Publish arn:aws:iot:eu-west-1:123456789012:topic/dev/dev2/t"));
  a.disconnect(&key1_);
  EXPECT_EQ(a.connections(), 0u);
  // Closed: its will is still decided by its policies (mosquitto checks it after the
  // disconnection event), nothing else is allowed.
  EXPECT_TRUE(a.authorize(&key1_, access::publish, "dev/dev1/will", false, t0_));
  EXPECT_FALSE(a.authorize(&key1_, access::publish, "dev/dev2/will", false, t0_));
  EXPECT_FALSE(a.authorize(&key1_, access::receive, "dev/dev1/t", false, t0_));
  EXPECT_FALSE(a.authorize(&key1_, access::subscribe, "dev/dev1/#", false, t0_));
}

TEST_F(Authorizer, ClosedConnectionsKeptForWillsAreBounded) {
  make_stores();
  auto a = make();
  std::vector<int> keys(authorizer::closed_capacity + 1);
  for (auto& k : keys) {
    ASSERT_TRUE(a.connect(&k, "dev1", "127.0.0.1", &dev1_.cert, t0_));
    a.disconnect(&k);
  }
  EXPECT_FALSE(a.authorize(&keys.front(), access::publish, "dev/dev1/will", false, t0_));
  EXPECT_TRUE(a.authorize(&keys.back(), access::publish, "dev/dev1/will", false, t0_));
  // A new connection under a reused key starts afresh.
  ASSERT_TRUE(a.connect(&keys.back(), "dev1", "127.0.0.1", &dev1_.cert, t0_));
  a.disconnect(&keys.back());
  EXPECT_TRUE(a.authorize(&keys.back(), access::publish, "dev/dev1/will", false, t0_));
}

TEST_F(Authorizer, RevocationSeenWithinTheRefreshBound) {
  make_stores();
  opts_.refresh = 1000ms;
  auto a = make();
  ASSERT_TRUE(a.connect(&key1_, "dev1", "127.0.0.1", &dev1_.cert, t0_));
  EXPECT_TRUE(a.authorize(&key1_, access::publish, "dev/dev1/t", false, t0_));
  reg_->update_certificate(dev1_.cert.id(), registry::certificate_status::revoked).value();
  // Within refresh_ms the connected client is decided on what was read.
  EXPECT_TRUE(a.authorize(&key1_, access::publish, "dev/dev1/t", false, t0_ + 999ms));
  // At refresh_ms the files are looked at again: denied from then on.
  EXPECT_FALSE(a.authorize(&key1_, access::publish, "dev/dev1/t", false, t0_ + 1000ms));
  EXPECT_TRUE(logged("is now REVOKED"));
  // A CONNECT always looks.
  EXPECT_FALSE(a.connect(&key2_, "dev1", "127.0.0.1", &dev1_.cert, t0_ + 1001ms));
  EXPECT_TRUE(logged("certificate is revoked"));
}

TEST_F(Authorizer, PolicyChangeSeenWithinTheRefreshBound) {
  make_stores();
  opts_.refresh = 1000ms;
  auto a = make();
  ASSERT_TRUE(a.connect(&key1_, "dev1", "127.0.0.1", &dev1_.cert, t0_));
  EXPECT_TRUE(a.authorize(&key1_, access::publish, "dev/dev1/t", false, t0_));
  policies_->create_policy("deny", deny_alarm).value();
  policies_->attach_policy("deny", dev1_.cert.id()).value();
  EXPECT_TRUE(a.authorize(&key1_, access::publish, "dev/dev1/t", false, t0_ + 500ms));
  EXPECT_FALSE(a.authorize(&key1_, access::publish, "dev/dev1/t", false, t0_ + 1000ms));
  EXPECT_TRUE(logged("EXPLICIT_DENY iot:Publish"));
  // Nothing changed on disk: the next look keeps the decisions (no re-open).
  EXPECT_TRUE(a.authorize(&key1_, access::receive, "dev/dev1/t", false, t0_ + 2000ms));
}

TEST_F(Authorizer, StoresOpenedAgainOnlyWhenTheyChange) {
  make_stores();
  shared_store s{opts_};
  EXPECT_TRUE(s.refresh(t0_, true));
  ASSERT_TRUE(s.available()) << s.problem();
  // Opening may itself move the files (WAL); it settles at the next look at the latest.
  s.refresh(t0_, true);
  const auto epoch = s.epoch();
  EXPECT_FALSE(s.refresh(t0_, true));
  EXPECT_FALSE(s.refresh(t0_ + 5s, false));
  EXPECT_EQ(s.epoch(), epoch);
  reg_->create_thing({.name = "dev2"}).value();
  EXPECT_FALSE(s.refresh(t0_ + 5s + 999ms, false));  // within refresh_ms of the last look
  EXPECT_TRUE(s.refresh(t0_ + 6s, false));
  EXPECT_EQ(s.epoch(), epoch + 1);
  EXPECT_TRUE(s.reg()->describe_thing("dev2"));
}

TEST_F(Authorizer, JustInTimeRegistrationPublishesTheEvent) {
  make_stores();
  const auto jitr_ca = x509::test::make_ca("JITR CA");
  const auto verification = x509::test::make_leaf(reg_->registration_code().value(), jitr_ca);
  const auto ca_id = reg_->register_ca(jitr_ca.cert.pem(), verification.cert.pem(),
                                       {.active = true, .auto_registration = true})
                         .value();
  const auto dev3 =
      x509::test::make_leaf("dev3", jitr_ca, x509::key_algorithm::p256, {.client_auth = true});
  auto a = make();
  EXPECT_FALSE(a.connect(&key1_, "dev3", "127.0.0.1", &dev3.cert, t0_));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].topic, "$aws/events/certificates/registered/" + ca_id);
  EXPECT_EQ(events_[0].certificate_id, dev3.cert.id());
  // The registration is in the file, for the operator's process to see.
  auto fresh = registry::registry::open(opts_.registry_path).value();
  EXPECT_EQ(fresh.find_certificate(dev3.cert.id())->status,
            registry::certificate_status::pending_activation);
}

TEST_F(Authorizer, PasswordUsersWithTheUsersPolicies) {
  make_stores();
  const std::string user = "sensor7", right = "s3cret", wrong = "guess";
  {  // no plugin_opt_users: certificates only
    auto a = make();
    EXPECT_FALSE(a.connect_with_password(&key1_, "sensor7", "127.0.0.1", &user, &right, t0_));
    EXPECT_TRUE(logged("no plugin_opt_users"));
  }
  opts_.users_path = (dir_ / "users.db").string();
  auto a = make();
  EXPECT_FALSE(a.connect_with_password(&key1_, "sensor7", "127.0.0.1", &user, &right, t0_));
  EXPECT_TRUE(logged("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(opts_.users_path));  // never created
  // The gateway's users file, and a policy on the users' principal (default_policies).
  auto users = registry::user_store::open(opts_.users_path, 1000).value();
  users->put("sensor7", "s3cret").value();
  policies_
      ->create_policy("users", R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
    {"Effect":"Allow","Action":"iot:Publish",
     "Resource":"arn:aws:iot:eu-west-1:123456789012:topic/u/${iot:ClientId}/*"}]})")
      .value();
  policies_->attach_policy("users", registry::users_principal).value();
  EXPECT_FALSE(a.connect_with_password(&key1_, "sensor7", "127.0.0.1", &user, &wrong, t0_));
  EXPECT_TRUE(logged("wrong username or password for user \"sensor7\""));
  EXPECT_FALSE(a.connect_with_password(&key1_, "sensor7", "127.0.0.1", &user, nullptr, t0_));
  EXPECT_FALSE(a.connect_with_password(&key1_, "sensor7", "127.0.0.1", nullptr, nullptr, t0_));
  ASSERT_TRUE(a.connect_with_password(&key1_, "sensor7", "127.0.0.1", &user, &right, t0_));
  EXPECT_TRUE(a.authorize(&key1_, access::publish, "u/sensor7/t", false, t0_));
  EXPECT_FALSE(a.authorize(&key1_, access::publish, "u/other/t", false, t0_));
  EXPECT_FALSE(a.authorize(&key1_, access::subscribe, "u/#", false, t0_));
  // Removed: the connected client is denied from refresh_ms on, a new CONNECT refused.
  users->remove("sensor7").value();
  EXPECT_TRUE(a.authorize(&key1_, access::publish, "u/sensor7/t", false, t0_ + 500ms));
  EXPECT_FALSE(a.authorize(&key1_, access::publish, "u/sensor7/t", false, t0_ + 1000ms));
  EXPECT_TRUE(logged("user \"sensor7\" is no longer a user"));
  EXPECT_FALSE(a.connect_with_password(&key2_, "sensor7", "127.0.0.1", &user, &right, t0_));
}

}  // namespace
}  // namespace iotblocks::mosquitto_plugin
