// Thing groups' behaviour on any thing_group_store: hierarchy, memberships, AWS's limits,
// updates with expectedVersion, and everything back after the store is opened again. A
// backend (the type parameter) has `open()` returning a new registry::thing_groups on the
// same storage each time; thing_groups_test.cpp runs these on SQLite,
// tests/postgres/thing_groups_store_test.cpp on PostgreSQL.
#pragma once

#include <iotblocks/registry/thing_groups.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace iotblocks::registry::testing {

using strings = std::vector<std::string>;

template <class Backend>
struct ThingGroupsCases : ::testing::Test {
  Backend backend;
  std::unique_ptr<thing_groups> groups;
  void SetUp() override {
    ASSERT_TRUE(backend.ok());
    reopen();
  }
  void reopen() {
    groups.reset();
    auto opened = backend.open();
    ASSERT_TRUE(opened) << opened.describe();
    groups = std::move(*opened);
  }
};

TYPED_TEST_SUITE_P(ThingGroupsCases);

TYPED_TEST_P(ThingGroupsCases, HierarchyAndMembershipSurviveReopen) {
  auto& g = this->groups;
  ASSERT_TRUE(g->create({.name = "building", .attributes = {{"city", "Lyon"}}}));
  ASSERT_TRUE(g->create({.name = "floor-1", .parent = "building", .description = "first"}));
  ASSERT_TRUE(g->create({.name = "room-12", .parent = "floor-1"}));
  ASSERT_TRUE(g->create({.name = "spares"}));
  ASSERT_TRUE(g->add_thing("room-12", "lamp"));
  ASSERT_TRUE(g->add_thing("floor-1", "fan"));
  ASSERT_TRUE(g->add_thing("spares", "lamp"));
  ASSERT_TRUE(g->add_thing("spares", "lamp"));  // again: fine
  this->reopen();
  auto d = g->describe("floor-1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->parent, "building");
  EXPECT_EQ(d->description, "first");
  EXPECT_EQ(d->version, 1);
  EXPECT_EQ(g->describe("building")->attributes.at("city"), "Lyon");
  EXPECT_EQ(g->ancestors("room-12"), (strings{"building", "floor-1"}));
  EXPECT_EQ(g->things_in("building"), strings{});
  EXPECT_EQ(g->things_in("building", true), (strings{"fan", "lamp"}));
  EXPECT_EQ(g->things_in("floor-1", true), (strings{"fan", "lamp"}));
  EXPECT_EQ(g->groups_of("lamp"), (strings{"room-12", "spares"}));
  EXPECT_EQ(g->memberships("lamp"), (strings{"building", "floor-1", "room-12", "spares"}));
  EXPECT_EQ(g->list(), (strings{"building", "floor-1", "room-12", "spares"}));
  EXPECT_EQ(g->list("building", false), strings{"floor-1"});
  EXPECT_EQ(g->list("building", true), (strings{"floor-1", "room-12"}));
  ASSERT_TRUE(g->remove_thing("spares", "lamp"));
  ASSERT_TRUE(g->remove_thing("spares", "lamp"));  // absent: fine
  this->reopen();
  EXPECT_EQ(g->groups_of("lamp"), strings{"room-12"});
}

TYPED_TEST_P(ThingGroupsCases, Refusals) {
  auto& g = this->groups;
  ASSERT_TRUE(g->create({.name = "a"}));
  EXPECT_TRUE(g->create({.name = "a"}));  // the same again
  EXPECT_EQ(g->create({.name = "a", .description = "other"}).error(), error::already_exists);
  EXPECT_EQ(g->create({.name = "b", .parent = "nope"}).error(), error::not_found);
  EXPECT_EQ(g->create({.name = "bad name"}).error(), error::invalid_name);
  EXPECT_EQ(g->add_thing("nope", "lamp").error(), error::not_found);
  EXPECT_EQ(g->add_thing("a", "bad/thing").error(), error::invalid_name);
  // Seven levels at most.
  std::string parent = "a";
  for (int i = 2; i <= 7; ++i) {
    const std::string name = "l" + std::to_string(i);
    ASSERT_TRUE(g->create({.name = name, .parent = parent})) << name;
    parent = name;
  }
  EXPECT_EQ(g->create({.name = "l8", .parent = parent}).error(), error::limit_exceeded);
  // One group per hierarchy for a thing.
  ASSERT_TRUE(g->add_thing("l3", "lamp"));
  EXPECT_EQ(g->add_thing("l5", "lamp").error(), error::hierarchy_conflict);
  // At most ten groups.
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(g->create({.name = "r" + std::to_string(i)}));
    ASSERT_TRUE(g->add_thing("r" + std::to_string(i), "lamp"));
  }
  ASSERT_TRUE(g->create({.name = "r9"}));
  EXPECT_EQ(g->add_thing("r9", "lamp").error(), error::limit_exceeded);
  // A group with children stays; a leaf goes with its memberships.
  EXPECT_EQ(g->remove("l6").error(), error::in_use);
  ASSERT_TRUE(g->remove("r0"));
  EXPECT_EQ(g->groups_of("lamp").size(), 9u);
  ASSERT_TRUE(g->remove("r0"));  // missing: fine
  ASSERT_TRUE(g->forget_thing("lamp"));
  this->reopen();
  EXPECT_TRUE(g->groups_of("lamp").empty());
  EXPECT_TRUE(g->things_in("l3").empty());
  EXPECT_FALSE(g->describe("r0"));
}

TYPED_TEST_P(ThingGroupsCases, UpdateMovesTheVersionAndHonoursExpectedVersion) {
  auto& g = this->groups;
  ASSERT_TRUE(g->create({.name = "site", .attributes = {{"city", "Lyon"}, {"zone", "A"}}}));
  // Merge: set one, remove one (empty value), keep the rest.
  auto v2 = g->update("site", {.description = "HQ",
                               .attributes = {{{"zone", ""}, {"floor", "3"}}},
                               .merge = true,
                               .expected_version = 1});
  ASSERT_TRUE(v2) << v2.describe();
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->attributes, (std::map<std::string, std::string>{{"city", "Lyon"}, {"floor", "3"}}));
  // A stale expectedVersion changes nothing.
  auto stale = g->update("site", {.description = "lost", .expected_version = 1});
  EXPECT_EQ(stale.error(), error::version_conflict) << stale.describe();
  // Replace (no merge), no expectedVersion.
  auto v3 = g->update("site", {.attributes = {{{"owner", "ops"}}}});
  ASSERT_TRUE(v3) << v3.describe();
  EXPECT_EQ(v3->version, 3);
  EXPECT_EQ(g->update("nope", {.description = "x"}).error(), error::not_found);
  EXPECT_EQ(g->update("site", {.description = std::string(2029, 'd')}).error(),
            error::limit_exceeded);
  this->reopen();
  auto back = g->describe("site");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *v3);
  EXPECT_EQ(back->description, "HQ");
  // Delete at a stale version: refused, the group stays; at its version: gone.
  EXPECT_EQ(g->remove("site", 2).error(), error::version_conflict);
  EXPECT_TRUE(g->describe("site"));
  ASSERT_TRUE(g->remove("site", 3));
  this->reopen();
  EXPECT_FALSE(g->describe("site"));
}

REGISTER_TYPED_TEST_SUITE_P(ThingGroupsCases, HierarchyAndMembershipSurviveReopen, Refusals,
                            UpdateMovesTheVersionAndHonoursExpectedVersion);

}  // namespace iotblocks::registry::testing
