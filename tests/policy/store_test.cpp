// The policy store on a real SQLite file: versions, defaults, attachments,
// limits, persistence across reopen, generations, sessions and their cache.
#include <iotblocks/policy.hpp>

#include "sqlite/database.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace iotblocks::policy {
namespace {

constexpr std::string_view allow_connect = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:000000000000:client/${iot:ClientId}"}]})";
constexpr std::string_view allow_publish = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["iot:Connect","iot:Publish"],"Resource":"*"}]})";
constexpr std::string_view deny_publish = R"({"Version":"2012-10-17","Statement":[
  {"Sid":"NoPublish","Effect":"Deny","Action":"iot:Publish","Resource":"*"}]})";

class PolicyStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("iotblocks_policy_store_" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "policies.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  store open(const store_options& o = {}) {
    auto s = store::open(path_, o, clock_);
    EXPECT_TRUE(s) << s.describe();
    return std::move(s).value();
  }
  std::filesystem::path dir_;
  std::string path_;
  manual_clock clock_{from_unix_ms(1'700'000'000'000)};
};

TEST_F(PolicyStore, CreateVersionsAndDefaults) {
  store s = open();
  auto created = s.create_policy("greenhouse_lux_policy", allow_connect);
  ASSERT_TRUE(created) << created.describe();
  EXPECT_EQ(created->default_version, 1u);
  EXPECT_EQ(s.create_policy("greenhouse_lux_policy", allow_connect).error(), error::policy_exists);
  EXPECT_EQ(s.create_policy("bad name", allow_connect).error(), error::invalid_name);
  auto bad =
      s.create_policy("broken", R"({"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]})");
  EXPECT_EQ(bad.error(), error::invalid_effect);
  EXPECT_TRUE(bad.fail().where.known());
  auto v2 = s.create_policy_version("greenhouse_lux_policy", allow_publish, false);
  ASSERT_TRUE(v2);
  EXPECT_EQ(*v2, 2u);
  EXPECT_EQ(s.get_policy("greenhouse_lux_policy")->default_version, 1u);
  ASSERT_TRUE(s.set_default_version("greenhouse_lux_policy", 2));
  EXPECT_EQ(s.set_default_version("greenhouse_lux_policy", 9).error(), error::no_such_version);
  EXPECT_EQ(s.delete_policy_version("greenhouse_lux_policy", 2).error(), error::default_version);
  ASSERT_TRUE(s.delete_policy_version("greenhouse_lux_policy", 1));
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(s.create_policy_version("greenhouse_lux_policy", allow_connect, false));
  EXPECT_EQ(s.create_policy_version("greenhouse_lux_policy", allow_connect, true).error(),
            error::version_limit);
  const auto info = s.get_policy("greenhouse_lux_policy").value();
  ASSERT_EQ(info.versions.size(), 5u);
  EXPECT_EQ(info.versions.front().version, 2u);  // numbers are never reused
  EXPECT_EQ(info.versions.back().version, 6u);
  EXPECT_TRUE(info.versions.front().is_default);
  EXPECT_EQ(info.versions.front().created_ms, 1'700'000'000'000);
  EXPECT_EQ(s.get_policy("nope").error(), error::no_such_policy);
  EXPECT_EQ(s.list_policies(), std::vector<std::string>{"greenhouse_lux_policy"});
}

TEST_F(PolicyStore, AttachmentsAndDeletion) {
  store s = open({.max_policies_per_principal = 2});
  ASSERT_TRUE(s.create_policy("a", allow_connect));
  ASSERT_TRUE(s.create_policy("b", allow_publish));
  ASSERT_TRUE(s.create_policy("c", deny_publish));
  EXPECT_EQ(s.attach_policy("zzz", "cert-1").error(), error::no_such_policy);
  ASSERT_TRUE(s.attach_policy("a", "cert-1"));
  ASSERT_TRUE(s.attach_policy("a", "cert-1"));  // idempotent
  ASSERT_TRUE(s.attach_policy("b", "cert-1"));
  EXPECT_EQ(s.attach_policy("c", "cert-1").error(), error::attachment_limit);
  EXPECT_EQ(s.attach_policy("c", "").error(), core::error::invalid_argument);
  EXPECT_EQ(s.attached_policies("cert-1"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.targets_for_policy("a"), std::vector<std::string>{"cert-1"});
  EXPECT_EQ(s.delete_policy("a").error(), error::policy_in_use);
  ASSERT_TRUE(s.create_policy_version("c", allow_connect, false));
  EXPECT_EQ(s.delete_policy("c").error(), error::policy_in_use);  // other versions exist
  ASSERT_TRUE(s.detach_policy("a", "cert-1"));
  ASSERT_TRUE(s.detach_policy("a", "cert-1"));  // idempotent
  ASSERT_TRUE(s.delete_policy("a"));
  EXPECT_EQ(s.list_policies(), (std::vector<std::string>{"b", "c"}));
}

// A batch's changes are one transaction: none in the file before commit_batch(), all after;
// a refused change inside it changes nothing, a rolled-back batch leaves nothing behind.
TEST_F(PolicyStore, BatchIsOneTransaction) {
  auto attachments_in_file = [&] {
    auto db = sqlite::database::open(path_, {.read_only = true}).value();
    auto q = db.prepare("SELECT count(*) FROM policy_attachment").value();
    EXPECT_TRUE(q.step().value());
    return q.column_int64(0);
  };
  store s = open();
  ASSERT_TRUE(s.create_policy("p", allow_connect));
  ASSERT_TRUE(s.begin_batch());
  ASSERT_TRUE(s.create_policy("q", deny_publish));
  ASSERT_TRUE(s.attach_policy("p", "cert-1"));
  ASSERT_TRUE(s.attach_policy("q", "cert-1"));
  EXPECT_EQ(s.attach_policy("none", "cert-1").error(), error::no_such_policy);
  EXPECT_EQ(s.attached_policies("cert-1"), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(attachments_in_file(), 0);
  ASSERT_TRUE(s.commit_batch());
  EXPECT_EQ(attachments_in_file(), 2);
  ASSERT_TRUE(s.begin_batch());
  ASSERT_TRUE(s.detach_policy("q", "cert-1"));
  ASSERT_TRUE(s.create_policy("r", allow_publish));
  s.rollback_batch();
  EXPECT_EQ(s.attached_policies("cert-1"), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(s.get_policy("r").error(), error::no_such_policy);
  store again = open();
  EXPECT_EQ(again.attached_policies("cert-1"), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(again.list_policies(), (std::vector<std::string>{"p", "q"}));
}

TEST_F(PolicyStore, SurvivesReopen) {
  {
    store s = open();
    ASSERT_TRUE(s.create_policy("p", allow_connect));
    ASSERT_TRUE(s.create_policy_version("p", allow_publish, true));
    ASSERT_TRUE(s.create_policy("q", deny_publish));
    ASSERT_TRUE(s.attach_policy("p", "cert-1"));
    ASSERT_TRUE(s.attach_policy("q", "cert-1"));
    ASSERT_TRUE(
        s.add_permission({.statement_id = "s1",
                          .action = "lambda:InvokeFunction",
                          .destination_arn = "arn:aws:lambda:us-east-1:987654321012:function:F",
                          .source_account = "123456789012",
                          .source_arn = "arn:aws:iot:us-east-1:123456789012:rule/R"}));
  }
  store s = open();
  const auto info = s.get_policy("p").value();
  EXPECT_EQ(info.default_version, 2u);
  EXPECT_EQ(info.versions.size(), 2u);
  EXPECT_EQ(info.versions[0].document, allow_connect);
  EXPECT_EQ(s.attached_policies("cert-1"), (std::vector<std::string>{"p", "q"}));
  std::uint64_t generation = 0;
  auto set = s.effective_policies("cert-1", &generation);
  ASSERT_EQ(set->entries().size(), 2u);
  EXPECT_EQ(set->entries()[0].version, 2u);
  EXPECT_EQ(generation, s.generation());
  context ctx;
  const auto d = evaluate(*set, {actions::publish, "arn:aws:iot:us-east-1:0:topic/x"}, ctx);
  EXPECT_EQ(d.result, outcome::explicit_deny);
  EXPECT_EQ(d.policy->name, "q");
  invocation inv;
  inv.action = "lambda:InvokeFunction";
  inv.destination_arn = "arn:aws:lambda:us-east-1:987654321012:function:F";
  inv.source_arn = "arn:aws:iot:us-east-1:123456789012:rule/R";
  EXPECT_TRUE(s.authorize_invocation(inv).allowed());
  ASSERT_TRUE(s.remove_permission(inv.destination_arn, "s1"));
  EXPECT_FALSE(s.authorize_invocation(inv).allowed());
  ASSERT_TRUE(s.remove_resource_policy(inv.destination_arn));
  EXPECT_FALSE(s.resource_policy(inv.destination_arn));
  EXPECT_EQ(s.authorize_invocation(inv).reason, "the destination has no resource policy");
}

// Policies of other principals (a thing's groups) apply too, each policy once, and the list
// is asked again when the generation moves (membership changes call invalidate()).
TEST_F(PolicyStore, SessionAlsoEvaluatesThePoliciesOfOtherPrincipals) {
  store s = open();
  ASSERT_TRUE(s.create_policy("p", allow_publish));
  ASSERT_TRUE(s.create_policy("deny", deny_publish));
  ASSERT_TRUE(s.attach_policy("p", "thinggroup/floor"));
  ASSERT_TRUE(s.attach_policy("p", "thinggroup/building"));
  std::vector<std::string> groups;
  session conn{s, "cert-1", {}, 64};
  conn.also_principals([&groups] { return groups; });
  const request publish{actions::publish, "arn:aws:iot:us-east-1:000000000000:topic/a"};
  EXPECT_EQ(conn.authorize(publish).result, outcome::implicit_deny);  // in no group
  groups = {"thinggroup/floor", "thinggroup/building"};
  EXPECT_EQ(conn.authorize(publish).result, outcome::implicit_deny);  // not asked again yet
  s.invalidate();
  EXPECT_TRUE(conn.authorize(publish).allowed());
  const std::string both[] = {"cert-1", "thinggroup/floor", "thinggroup/building"};
  EXPECT_EQ(s.effective_policies(both)->entries().size(), 1u);  // "p" once
  ASSERT_TRUE(s.attach_policy("deny", "thinggroup/building"));  // a deny on the parent wins
  EXPECT_EQ(conn.authorize(publish).result, outcome::explicit_deny);
  ASSERT_TRUE(s.detach_policy("deny", "thinggroup/building"));
  ASSERT_TRUE(s.detach_policy("p", "thinggroup/floor"));
  ASSERT_TRUE(s.detach_policy("p", "thinggroup/building"));
  EXPECT_EQ(conn.authorize(publish).result, outcome::implicit_deny);
}

TEST_F(PolicyStore, SessionCachesUntilTheGenerationMoves) {
  store s = open();
  ASSERT_TRUE(s.create_policy("p", allow_publish));
  ASSERT_TRUE(s.attach_policy("p", "cert-1"));
  context ctx;
  ctx.client_id = "probe_1";
  session conn{s, "cert-1", ctx, 64};
  const request publish{actions::publish, "arn:aws:iot:us-east-1:000000000000:topic/a"};
  EXPECT_TRUE(conn.authorize(publish).allowed());
  EXPECT_TRUE(conn.authorize(publish).allowed());
  EXPECT_EQ(conn.cache().hits(), 1u);
  // A new attachment (a deny) moves the generation: the cached allow is not used.
  ASSERT_TRUE(s.create_policy("deny", deny_publish));
  ASSERT_TRUE(s.attach_policy("deny", "cert-1"));
  const auto d = conn.authorize(publish);
  EXPECT_EQ(d.result, outcome::explicit_deny);
  EXPECT_EQ(d.policy->name, "deny");
  EXPECT_EQ(conn.cache().hits(), 1u);
  ASSERT_TRUE(s.detach_policy("deny", "cert-1"));
  EXPECT_TRUE(conn.authorize(publish).allowed());
  // A new default version changes the answer too.
  ASSERT_TRUE(s.create_policy_version("p", allow_connect, true));
  EXPECT_EQ(conn.authorize(publish).result, outcome::implicit_deny);
  // The context matters: connect on client/${iot:ClientId}.
  const request connect{actions::connect, "arn:aws:iot:us-east-1:000000000000:client/probe_2"};
  EXPECT_FALSE(conn.authorize(connect).allowed());
  context other;
  other.client_id.emplace("probe_2");
  conn.set_context(other);
  EXPECT_TRUE(conn.authorize(connect).allowed());
  // invalidate() (e.g. the registry changed the thing) forces re-evaluation.
  const auto hits = conn.cache().hits();
  s.invalidate();
  EXPECT_TRUE(conn.authorize(connect).allowed());
  EXPECT_EQ(conn.cache().hits(), hits);
  EXPECT_TRUE(conn.authorize(connect).allowed());
  EXPECT_EQ(conn.cache().hits(), hits + 1);
}

// A file damaged outside the store (a default version or an attached policy
// missing) is refused at open with a code and message, never served.
TEST_F(PolicyStore, RefusesAFileWhoseDefaultVersionOrAttachedPolicyIsMissing) {
  const auto damage = [this](const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  };
  {
    store s = open();
    ASSERT_TRUE(s.create_policy("p", allow_connect));
    ASSERT_TRUE(s.create_policy_version("p", allow_publish, true));
    ASSERT_TRUE(s.attach_policy("p", "cert-1"));
  }
  damage("DELETE FROM policy_version WHERE name = 'p' AND version = 2");
  auto opened = store::open(path_, {}, clock_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), error::no_such_version);
  EXPECT_EQ(opened.fail().message, "stored policy 'p': its default version 2 is not stored");

  damage("UPDATE policy SET default_version = 1");
  ASSERT_TRUE(store::open(path_, {}, clock_));
  damage("INSERT INTO policy_attachment(principal, name) VALUES ('cert-2', 'gone')");
  opened = store::open(path_, {}, clock_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), error::no_such_policy);
  EXPECT_EQ(opened.fail().message, "stored attachment of 'gone' to 'cert-2': no such policy");
}

TEST_F(PolicyStore, UnknownPrincipalHasNoPolicies) {
  store s = open();
  EXPECT_TRUE(s.effective_policies("nobody")->empty());
  session conn{s, "nobody", {}};
  EXPECT_EQ(conn.authorize({actions::connect, "*"}).result, outcome::implicit_deny);
}

TEST(PolicyCache, EvictsAndKeysByActionAndResource) {
  decision_cache cache{4};
  EXPECT_EQ(cache.capacity(), 4u);
  decision allow;
  allow.result = outcome::allowed;
  const request a{actions::publish, "arn:aws:iot:r:1:topic/a"};
  const request b{actions::receive, "arn:aws:iot:r:1:topic/a"};
  EXPECT_EQ(cache.find(1, a), nullptr);
  cache.insert(1, a, allow);
  ASSERT_NE(cache.find(1, a), nullptr);
  EXPECT_EQ(cache.find(1, b), nullptr);
  EXPECT_EQ(cache.find(2, a), nullptr);  // another generation
  for (int i = 0; i < 100; ++i) {
    const std::string r = "arn:aws:iot:r:1:topic/" + std::to_string(i);
    cache.insert(1, {actions::publish, r}, allow);
    ASSERT_NE(cache.find(1, {actions::publish, r}), nullptr);
  }
  cache.clear();
  EXPECT_EQ(cache.find(1, a), nullptr);
  const request unknown = request::named("lambda:InvokeFunction", "x");
  cache.insert(1, unknown, allow);
  EXPECT_EQ(cache.find(1, unknown), nullptr);
  cache.max_resource_length(4);
  cache.insert(1, a, allow);
  EXPECT_EQ(cache.find(1, a), nullptr);
}

}  // namespace
}  // namespace iotblocks::policy
