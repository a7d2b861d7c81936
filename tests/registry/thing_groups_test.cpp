// Thing groups: hierarchy, attributes, memberships and AWS's limits, and everything back
// after the file is opened again.
#include <iotblocks/registry/thing_groups.hpp>

#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

namespace {

using namespace iotblocks::registry;
using strings = std::vector<std::string>;

struct ThingGroups : ::testing::Test {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("iotblocks-groups-" + std::to_string(::getpid()) + ".db"))
                         .string();
  std::unique_ptr<thing_groups> g;
  void SetUp() override {
    clean();
    reopen();
  }
  void TearDown() override {
    g.reset();
    clean();
  }
  void clean() {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  }
  void reopen() {
    g.reset();
    auto opened = thing_groups::open(path);
    ASSERT_TRUE(opened) << opened.describe();
    g = std::move(*opened);
  }
};

TEST_F(ThingGroups, HierarchyAndMembershipSurviveReopen) {
  ASSERT_TRUE(g->create({.name = "building", .attributes = {{"city", "Lyon"}}}));
  ASSERT_TRUE(g->create({.name = "floor-1", .parent = "building", .description = "first"}));
  ASSERT_TRUE(g->create({.name = "room-12", .parent = "floor-1"}));
  ASSERT_TRUE(g->create({.name = "spares"}));
  ASSERT_TRUE(g->add_thing("room-12", "lamp"));
  ASSERT_TRUE(g->add_thing("floor-1", "fan"));
  ASSERT_TRUE(g->add_thing("spares", "lamp"));
  reopen();
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
  reopen();
  EXPECT_EQ(g->groups_of("lamp"), strings{"room-12"});
}

TEST_F(ThingGroups, Refusals) {
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
  reopen();
  EXPECT_TRUE(g->groups_of("lamp").empty());
  EXPECT_TRUE(g->things_in("l3").empty());
}

}  // namespace
