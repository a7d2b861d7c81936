// The registry and the policy store on PostgreSQL: two instances on one database stand
// for two processes. A change made through one is seen by the other, racing creates give
// one success and one "exists", stale versions are refused, and the schema is versioned.
#include <iotblocks/policy/error.hpp>
#include <iotblocks/policy/store.hpp>
#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/policy_persistence.hpp>
#include <iotblocks/postgres/registry_store.hpp>
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/x509/issue.hpp>

#include "postgres/shared_server.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace iotblocks::postgres {
namespace {

using namespace std::chrono_literals;

registry::registry open_registry(const std::string& url, std::chrono::milliseconds interval = 0ms) {
  auto s = registry_store::open(url);
  EXPECT_TRUE(s) << s.describe();
  registry::options o;
  o.sync_interval = interval;
  auto r = registry::registry::open(std::unique_ptr<registry::store>(std::move(*s)), o);
  EXPECT_TRUE(r) << r.describe();
  return std::move(*r);
}

policy::store open_policies(const std::string& url, std::chrono::milliseconds interval = 0ms) {
  auto p = policy_persistence::open(url);
  EXPECT_TRUE(p) << p.describe();
  policy::store_options o;
  o.sync_interval = interval;
  auto s = policy::store::open(std::unique_ptr<policy::persistence>(std::move(*p)), o);
  EXPECT_TRUE(s) << s.describe();
  return std::move(*s);
}

struct pki {
  x509::private_key ca_key = x509::private_key::generate(x509::key_algorithm::p256).value();
  x509::certificate ca =
      x509::issue({.subject = {{{"CN", "Plant CA"}}}, .ca = true}, ca_key).value();
  x509::certificate leaf(const std::string& cn) const {
    auto k = x509::private_key::generate(x509::key_algorithm::p256).value();
    return x509::issue({.subject = {{{"CN", cn}}}}, k, &ca, &ca_key).value();
  }
  std::string verification(const std::string& code) const { return leaf(code).pem(); }
};

TEST(PostgresRegistry, ACertificateRegisteredOrRevokedThroughOneIsAcceptedOrRefusedByTheOther) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  auto a = open_registry(url), b = open_registry(url);
  pki p;
  const auto code = a.registration_code().value();
  EXPECT_EQ(b.registration_code().value(), code);  // one code for the shared registry
  const auto ca_id = a.register_ca(p.ca.pem(), p.verification(code), {.active = true}).value();
  const auto device = p.leaf("pump-7");
  const auto id =
      a.register_certificate(device.pem(), registry::certificate_status::active).value();
  const bytes_view chain[] = {device.der()};

  EXPECT_TRUE(b.describe_ca(ca_id));
  auto seen = b.authenticate(chain);
  EXPECT_TRUE(seen.accepted()) << seen.message;
  ASSERT_TRUE(a.update_certificate(id, registry::certificate_status::revoked));
  auto refused = b.authenticate(chain);
  EXPECT_FALSE(refused.accepted());
  EXPECT_EQ(refused.reason, registry::error::certificate_revoked) << refused.message;

  // Registered again through B: A's insert meets B's row.
  EXPECT_EQ(b.register_certificate(device.pem()).error(), registry::error::already_exists);
  // A third process opening the database later loads the same state.
  auto c = open_registry(url);
  ASSERT_TRUE(c.find_certificate(id));
  EXPECT_EQ(c.find_certificate(id)->status, registry::certificate_status::revoked);
}

TEST(PostgresRegistry, ReadsWaitForTheSyncIntervalAndWritesLookFirst) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  auto a = open_registry(url), b = open_registry(url, 1h);
  ASSERT_TRUE(a.create_thing({.name = "lamp"}));
  EXPECT_FALSE(b.describe_thing("lamp"));  // the in-memory view, younger than the interval
  // A write looks first: B learns that "lamp" exists and refuses to create it again.
  EXPECT_EQ(b.create_thing({.name = "lamp"}).error(), registry::error::already_exists);
  EXPECT_TRUE(b.describe_thing("lamp"));
}

TEST(PostgresRegistry, ConcurrentCreatesGiveOneSuccessAndOneAlreadyExists) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  auto a = open_registry(url), b = open_registry(url);
  constexpr int n = 40;
  std::vector<std::error_code> from_a(n), from_b(n);
  auto create = [](registry::registry& r, std::vector<std::error_code>& out, const char* site) {
    for (int i = 0; i < n; ++i) {
      registry::thing t{.name = "valve-" + std::to_string(i)};
      t.attributes["site"] = site;
      out[static_cast<std::size_t>(i)] = r.create_thing(t).error();
    }
  };
  std::thread ta(create, std::ref(a), std::ref(from_a), "north");
  std::thread tb(create, std::ref(b), std::ref(from_b), "south");
  ta.join();
  tb.join();
  auto c = open_registry(url);
  for (std::size_t i = 0; i < n; ++i) {
    const bool a_won = !from_a[i];
    EXPECT_NE(a_won, !from_b[i]) << i;  // exactly one success
    EXPECT_EQ(a_won ? from_b[i] : from_a[i], registry::error::already_exists) << i;
    const auto stored = c.describe_thing("valve-" + std::to_string(i)).value();
    EXPECT_EQ(stored.attributes.at("site"), a_won ? "north" : "south");  // the winner's
  }
}

TEST(PostgresRegistry, AStaleThingVersionIsAConflictNotALostUpdate) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  auto a = open_registry(url), b = open_registry(url);
  ASSERT_TRUE(a.create_thing({.name = "door"}));
  ASSERT_TRUE(b.update_thing({.name = "door", .attributes = {{"by", "b"}}}, 1));
  EXPECT_EQ(a.update_thing({.name = "door", .attributes = {{"by", "a"}}}, 1).error(),
            registry::error::version_conflict);
  EXPECT_EQ(a.describe_thing("door")->attributes.at("by"), "b");
  EXPECT_EQ(a.describe_thing("door")->version, 2);
}

TEST(PostgresPolicyStore, APolicyCreatedAndAttachedThroughOneGovernsSessionsOfTheOther) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  auto a = open_policies(url), b = open_policies(url);
  const std::string doc = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:1:topic/plant/*"}]})";
  const policy::request publish{policy::actions::publish, "arn:aws:iot:us-east-1:1:topic/plant/x"};
  policy::session s{b, "cert-1", {}};
  EXPECT_FALSE(s.authorize(publish).allowed());
  ASSERT_TRUE(a.create_policy("Plant", doc));
  ASSERT_TRUE(a.attach_policy("Plant", "cert-1"));
  EXPECT_TRUE(s.authorize(publish).allowed());  // B loaded A's change
  EXPECT_EQ(b.create_policy("Plant", doc).error(), policy::error::policy_exists);
  ASSERT_TRUE(a.detach_policy("Plant", "cert-1"));
  EXPECT_FALSE(s.authorize(publish).allowed());
  // A new default version through B governs A's sessions.
  ASSERT_TRUE(b.attach_policy("Plant", "cert-2"));
  const std::string deny = R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny",
    "Action":"iot:Publish","Resource":"*"}]})";
  ASSERT_EQ(b.create_policy_version("Plant", deny, true).value(), 2u);
  policy::session on_a{a, "cert-2", {}};
  EXPECT_FALSE(on_a.authorize(publish).allowed());
  // A still saw version 1 as the last one: its version 2 loses to B's.
  EXPECT_EQ(a.get_policy("Plant")->default_version, 2u);
  EXPECT_EQ(a.create_policy_version("Plant", doc, false).value(), 3u);
}

TEST(PostgresPolicyStore, ConcurrentCreatesOfOnePolicyGiveOneSuccess) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  auto a = open_policies(url), b = open_policies(url);
  const std::string doc = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Action":"iot:Connect","Resource":"*"}]})";
  constexpr int n = 30;
  std::vector<std::error_code> from_a(n), from_b(n);
  auto create = [&](policy::store& s, std::vector<std::error_code>& out) {
    for (int i = 0; i < n; ++i) {
      out[static_cast<std::size_t>(i)] = s.create_policy("P" + std::to_string(i), doc).error();
    }
  };
  std::thread ta(create, std::ref(a), std::ref(from_a));
  std::thread tb(create, std::ref(b), std::ref(from_b));
  ta.join();
  tb.join();
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_NE(!from_a[i], !from_b[i]) << i;
    EXPECT_EQ(!from_a[i] ? from_b[i] : from_a[i], policy::error::policy_exists) << i;
  }
  EXPECT_EQ(open_policies(url).list_policies().size(), std::size_t{n});
}

// A batch is one transaction: the other process sees none of its writes before
// commit_batch() and all after; a write refused inside it (a unique key, under its savepoint)
// leaves the rest; a rolled-back batch leaves nothing.
TEST(PostgresRegistry, ABatchIsOneTransaction) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  auto a = open_registry(url), b = open_registry(url);
  pki p;
  a.register_ca(p.ca.pem(), p.verification(a.registration_code().value()), {.active = true})
      .value();
  ASSERT_TRUE(a.begin_batch());
  const auto id = a.register_certificate(p.leaf("lamp-1").pem()).value();
  a.create_thing({.name = "lamp-1"}).value();
  // B commits lamp-x meanwhile: A's insert of it fails in the database, under its savepoint.
  b.create_thing({.name = "lamp-x"}).value();
  EXPECT_EQ(a.create_thing({.name = "lamp-x"}).error(), registry::error::already_exists);
  a.attach_thing("lamp-1", id).value();
  a.update_certificate(id, registry::certificate_status::active).value();
  EXPECT_EQ(b.describe_thing("lamp-1").error(), registry::error::not_found);
  ASSERT_TRUE(a.commit_batch());
  EXPECT_EQ(b.list_thing_principals("lamp-1").value(), std::vector<std::string>{id});
  EXPECT_EQ(b.find_certificate(id)->status, registry::certificate_status::active);

  ASSERT_TRUE(a.begin_batch());
  a.create_thing({.name = "lamp-2"}).value();
  a.rollback_batch();
  EXPECT_EQ(a.describe_thing("lamp-2").error(), registry::error::not_found);
  EXPECT_EQ(b.describe_thing("lamp-2").error(), registry::error::not_found);

  auto pa = open_policies(url), pb = open_policies(url);
  ASSERT_TRUE(pa.begin_batch());
  ASSERT_TRUE(pa.create_policy("device", R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]})"));
  ASSERT_TRUE(pa.attach_policy("device", id));
  EXPECT_EQ(pa.attach_policy("none", id).error(), policy::error::no_such_policy);
  EXPECT_EQ(pb.attached_policies(id), std::vector<std::string>{});
  ASSERT_TRUE(pa.commit_batch());
  EXPECT_EQ(pb.attached_policies(id), std::vector<std::string>{"device"});
}

TEST(PostgresRegistry, ConnectionsTheServerDroppedAreReplacedAtTheNextLook) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  auto a = open_registry(url), b = open_registry(url);
  auto pa = open_policies(url), pb = open_policies(url);
  ASSERT_TRUE(a.create_thing({.name = "before"}));
  ASSERT_TRUE(b.describe_thing("before"));
  // The server ends every other session on the database (as a restart or a failover would).
  const std::string terminate =
      "psql -q '" + url +
      "' -c \"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()\" >/dev/null";
  ASSERT_EQ(std::system(terminate.c_str()), 0);
  // Every connection is gone: each store's next look replaces its connection.
  EXPECT_TRUE(b.describe_thing("before"));
  EXPECT_TRUE(a.create_thing({.name = "after"}));
  EXPECT_TRUE(b.describe_thing("after"));
  const std::string doc = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Action":"iot:Connect","Resource":"*"}]})";
  ASSERT_TRUE(pa.create_policy("After", doc));
  EXPECT_TRUE(pb.get_policy("After"));
}

TEST(PostgresRegistry, SchemaVersionsAreCheckedPerComponent) {
  const auto url = testing::fresh_database();
  ASSERT_FALSE(url.empty());
  ASSERT_TRUE(registry_store::open(url));
  ASSERT_TRUE(registry_store::open(url));  // opening again migrates nothing
  ASSERT_TRUE(policy_persistence::open(url));
  const std::string bump = "psql -q '" + url +
                           "' -c \"UPDATE iotblocks_schema SET version = 99 "
                           "WHERE component IN ('registry', 'policy')\" >/dev/null";
  ASSERT_EQ(std::system(bump.c_str()), 0);
  EXPECT_EQ(registry_store::open(url).error(), error::schema_too_new);
  EXPECT_EQ(policy_persistence::open(url).error(), error::schema_too_new);
  const auto refused = registry_store::open("postgresql://iot@127.0.0.1:1/iot?connect_timeout=5");
  EXPECT_EQ(refused.error(), error::connection_failed);
}

}  // namespace
}  // namespace iotblocks::postgres
