// The template store: AWS's quotas and errors, versions and the default version, the parsed
// default version for RegisterThing, and everything back after the file is opened again.
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/template_store.hpp>

#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

namespace {

using namespace iotblocks::provisioning;
using iotblocks::from_unix_ms;
using iotblocks::manual_clock;

const std::string role = "arn:aws:iam::123456789012:role/provisioning";

std::string body(const std::string& prefix) {
  return R"({"Parameters":{"S":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing",)"
         R"("Properties":{"ThingName":{"Fn::Join":["-",[")" +
         prefix + R"(",{"Ref":"S"}]]}}}}})";
}

std::string thing_of(const template_store& s, const std::string& name) {
  auto t = s.active(name);
  if (!t) return "ERROR " + t.describe();
  auto p = evaluate(t->parsed, {{"S", "1"}});
  if (!p) return "ERROR " + p.describe();
  return p->thing->name;
}

struct TemplateStore : ::testing::Test {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("iotblocks-templates-" + std::to_string(::getpid()) + ".db"))
                         .string();
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  std::unique_ptr<template_store> s;
  void SetUp() override {
    clean();
    reopen();
  }
  void TearDown() override {
    s.reset();
    clean();
  }
  void clean() {
    for (const char* x : {"", "-wal", "-shm"}) std::filesystem::remove(path + x);
  }
  void reopen() {
    s.reset();
    auto opened = template_store::open(path, clock);
    ASSERT_TRUE(opened) << opened.describe();
    s = std::move(*opened);
  }
  stored_template named(const std::string& name) {
    return {.name = name, .enabled = true, .role_arn = role};
  }
};

TEST_F(TemplateStore, CreateChecksTheBodyAndSettings) {
  auto t = s->create(named("fleet"), body("a"));
  ASSERT_TRUE(t) << t.describe();
  EXPECT_EQ(t->default_version, 1);
  EXPECT_EQ(t->type, "FLEET_PROVISIONING");
  EXPECT_EQ(t->created_ms, 1'700'000'000'000);
  EXPECT_EQ(s->create(named("fleet"), body("a")).error(), error::template_exists);
  auto bad = s->create(named("bad"), R"({"Resources":{"t":{"Type":"AWS::IoT::Thing",)"
                                     R"("Properties":{"ThingName":{"Fn::Nope":1}}}}})");
  EXPECT_EQ(bad.error(), error::invalid_template);
  EXPECT_EQ(bad.describe(),
            "templateBody: Resources.t.Properties.ThingName: unknown function 'Fn::Nope'");
  EXPECT_EQ(s->create(named("bad name!"), body("a")).error(), error::invalid_request);
  auto jitp = named("j");
  jitp.type = "JITP";
  jitp.hook = provisioning_hook{"arn:aws:lambda:us-east-1:1:function:f", ""};
  EXPECT_EQ(s->create(jitp, body("a")).error(), error::invalid_request);
  auto short_role = named("r");
  short_role.role_arn = "arn:x";
  EXPECT_EQ(s->create(short_role, body("a")).error(), error::invalid_request);
  EXPECT_EQ(s->describe("bad").error(), error::template_not_found);
  EXPECT_EQ(s->list().size(), 1u);
}

TEST_F(TemplateStore, VersionsAndTheDefault) {
  ASSERT_TRUE(s->create(named("fleet"), body("v1")));
  auto v2 = s->create_version("fleet", body("v2"), false);
  ASSERT_TRUE(v2) << v2.describe();
  EXPECT_EQ(v2->id, 2);
  EXPECT_EQ(thing_of(*s, "fleet"), "v1-1");
  ASSERT_TRUE(s->create_version("fleet", body("v3"), true));
  EXPECT_EQ(thing_of(*s, "fleet"), "v3-1");
  ASSERT_TRUE(s->create_version("fleet", body("v4"), false));
  ASSERT_TRUE(s->create_version("fleet", body("v5"), false));
  EXPECT_EQ(s->create_version("fleet", body("v6"), false).error(), error::version_limit);
  EXPECT_EQ(s->delete_version("fleet", 3).error(), error::delete_conflict);
  EXPECT_EQ(s->delete_version("fleet", 9).error(), error::template_not_found);
  ASSERT_TRUE(s->delete_version("fleet", 4));
  auto v6 = s->create_version("fleet", body("v6"), false);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->id, 6);  // ids are never reused
  EXPECT_EQ(s->update("fleet", {.default_version = 4}).error(), error::invalid_request);
  ASSERT_TRUE(s->update("fleet", {.default_version = 2}));
  EXPECT_EQ(thing_of(*s, "fleet"), "v2-1");

  reopen();
  auto t = s->describe("fleet");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->default_version, 2);
  std::vector<std::int64_t> ids;
  for (const auto& v : t->versions) ids.push_back(v.id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2, 3, 5, 6}));
  EXPECT_EQ(thing_of(*s, "fleet"), "v2-1");
}

TEST_F(TemplateStore, UpdateRemoveAndReopen) {
  ASSERT_TRUE(s->create(named("fleet"), body("a")));
  clock.advance(std::chrono::seconds(5));
  auto u =
      s->update("fleet", {.description = "lamps",
                          .enabled = false,
                          .hook = provisioning_hook{"arn:aws:lambda:us-east-1:1:function:f", ""}});
  ASSERT_TRUE(u) << u.describe();
  EXPECT_EQ(u->hook->payload_version, "2020-04-01");
  EXPECT_EQ(u->modified_ms, 1'700'000'005'000);
  EXPECT_EQ(s->update("none", {}).error(), error::template_not_found);
  reopen();
  auto a = s->active("fleet");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->enabled);
  ASSERT_TRUE(a->hook);
  EXPECT_EQ(a->hook->target_arn, "arn:aws:lambda:us-east-1:1:function:f");
  ASSERT_TRUE(s->update("fleet", {.remove_hook = true}));
  ASSERT_TRUE(s->remove("fleet"));
  EXPECT_EQ(s->remove("fleet").error(), error::template_not_found);
  reopen();
  EXPECT_TRUE(s->list().empty());
}

TEST_F(TemplateStore, CaRegistrationsForJitp) {
  EXPECT_EQ(s->jitp_template("ca1").error(), error::template_not_found);
  EXPECT_EQ(s->set_ca_registration("ca1", {.template_body = "{", .role_arn = role}).error(),
            error::invalid_request);
  ASSERT_TRUE(s->create(named("fleet"), body("f")));
  EXPECT_EQ(s->set_ca_registration("ca1", {.template_name = "fleet"}).error(),
            error::invalid_request);  // not a JITP template
  auto jitp = named("jitp");
  jitp.type = "JITP";
  ASSERT_TRUE(s->create(jitp, body("named")));
  ASSERT_TRUE(s->set_ca_registration("ca1", {.template_body = body("inline"), .role_arn = role}));
  ASSERT_TRUE(s->set_ca_registration("ca2", {.template_name = "jitp"}));
  reopen();
  auto one = s->jitp_template("ca1");
  ASSERT_TRUE(one) << one.describe();
  EXPECT_EQ(evaluate(one->parsed, {{"S", "1"}})->thing->name, "inline-1");
  EXPECT_EQ(s->ca_registration_of("ca1")->role_arn, role);
  EXPECT_EQ(thing_of(*s, "jitp"), "named-1");
  auto two = s->jitp_template("ca2");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->name, "jitp");
  ASSERT_TRUE(s->set_ca_registration("ca1", {}));  // removed
  EXPECT_FALSE(s->ca_registration_of("ca1"));
  reopen();
  EXPECT_FALSE(s->ca_registration_of("ca1"));
  EXPECT_TRUE(s->ca_registration_of("ca2"));
}

TEST_F(TemplateStore, AtMost256Templates) {
  for (int i = 0; i < 256; ++i) ASSERT_TRUE(s->create(named("t" + std::to_string(i)), body("a")));
  EXPECT_EQ(s->create(named("one-more"), body("a")).error(), error::limit_exceeded);
}

}  // namespace
