// Change observers: things, thing groups and thing types hand each committed change to their
// observer once, after the call returns (the observer may call back); failed and no-op calls
// hand nothing; a batch's changes arrive when it commits and never when it is rolled back.
#include "registry/fixture.hpp"

#include <iotblocks/registry/changes.hpp>
#include <iotblocks/registry/thing_groups.hpp>
#include <iotblocks/registry/thing_types.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace iotblocks::registry::test {
namespace {

/// "thing created t1 (type '')", "membership added g/t", … one line per change.
std::string describe(const change& c) {
  auto op = [](change_op o) {
    constexpr const char* names[] = {"created", "updated", "deleted", "added", "removed"};
    return std::string(names[static_cast<int>(o)]);
  };
  if (auto* t = std::get_if<thing_change>(&c)) {
    return "thing " + op(t->op) + " " + t->value.name + " v" + std::to_string(t->value.version) +
           " type '" + t->value.type + "' was '" + t->previous_type + "'";
  }
  if (auto* g = std::get_if<thing_group_change>(&c)) {
    std::string chain;
    for (const auto& a : g->ancestors) chain += "/" + a;
    return "group " + op(g->op) + " " + g->value.name + " under '" + chain + "'";
  }
  if (auto* m = std::get_if<membership_change>(&c)) {
    return "membership " + op(m->op) + " " + m->group + "/" + m->thing;
  }
  const auto& t = std::get<thing_type_change>(c);
  return "type " + op(t.op) + " " + t.value.name + (t.value.deprecated ? " deprecated" : "");
}

TEST_F(RegistryTest, ThingChangesReachTheObserverOnce) {
  auto reg = open();
  std::vector<std::string> seen;
  reg.on_change([&](const change& c) {
    seen.push_back(describe(c));
    (void)reg.list_things();  // the observer runs unlocked: calling back does not deadlock
  });
  reg.create_thing({.name = "t1", .type = "Lamp"}).value();
  reg.update_thing({.name = "t1", .type = "Pump", .attributes = {{"k", "v"}}}).value();
  EXPECT_EQ(reg.create_thing({.name = "t1"}).error(), error::already_exists);
  EXPECT_EQ(reg.update_thing({.name = "t1"}, 7).error(), error::version_conflict);
  reg.delete_thing("t1").value();
  EXPECT_EQ(seen, (std::vector<std::string>{"thing created t1 v1 type 'Lamp' was ''",
                                            "thing updated t1 v2 type 'Pump' was 'Lamp'",
                                            "thing deleted t1 v2 type 'Pump' was 'Pump'"}));

  seen.clear();
  reg.begin_batch().value();
  reg.create_thing({.name = "in-batch"}).value();
  EXPECT_TRUE(seen.empty()) << "nothing before the batch commits";
  reg.commit_batch().value();
  EXPECT_EQ(seen, std::vector<std::string>{"thing created in-batch v1 type '' was ''"});
  seen.clear();
  reg.begin_batch().value();
  reg.create_thing({.name = "dropped"}).value();
  reg.rollback_batch();
  reg.create_thing({.name = "after"}).value();
  EXPECT_EQ(seen, std::vector<std::string>{"thing created after v1 type '' was ''"});
}

TEST_F(RegistryTest, GroupChangesReachTheObserverOnce) {
  const std::string file = (std::filesystem::path(path()).parent_path() / "groups.db").string();
  auto g = thing_groups::open(file).value();
  std::vector<std::string> seen;
  g->on_change([&](const change& c) {
    seen.push_back(describe(c));
    (void)g->list();  // the observer runs unlocked: calling back does not deadlock
  });
  g->create({.name = "fleet"}).value();
  g->create({.name = "line", .parent = "fleet"}).value();
  g->create({.name = "line", .parent = "fleet"}).value();  // the same again: no change
  g->add_thing("line", "t1").value();
  g->add_thing("line", "t1").value();  // already in: no change
  g->add_thing("fleet", "t2").value();
  g->remove_thing("line", "t1").value();
  g->remove_thing("line", "t1").value();  // not in: no change
  g->add_thing("line", "t3").value();
  g->forget_thing("t2").value();
  EXPECT_EQ(g->remove("fleet").error(), error::in_use);
  g->remove("line").value();
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "group created fleet under ''", "group created line under '/fleet'",
                      "membership added line/t1", "membership added fleet/t2",
                      "membership removed line/t1", "membership added line/t3",
                      "membership removed fleet/t2", "membership removed line/t3",
                      "group deleted line under '/fleet'"}));

  seen.clear();
  g->begin_batch().value();
  g->add_thing("fleet", "x").value();
  g->rollback_batch();
  g->begin_batch().value();
  g->add_thing("fleet", "y").value();
  EXPECT_TRUE(seen.empty());
  g->commit_batch().value();
  EXPECT_EQ(seen, std::vector<std::string>{"membership added fleet/y"});
}

TEST_F(RegistryTest, TypeChangesReachTheObserverOnce) {
  const std::string file = (std::filesystem::path(path()).parent_path() / "types.db").string();
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  auto t = thing_types::open(file, clock).value();
  std::vector<std::string> seen;
  t->on_change([&](const change& c) { seen.push_back(describe(c)); });
  t->create({.name = "Lamp"}).value();
  EXPECT_EQ(t->create({.name = "Lamp"}).error(), error::already_exists);
  t->deprecate("Lamp", false).value();
  clock.advance(std::chrono::minutes(6));
  t->remove("Lamp").value();
  EXPECT_EQ(seen, (std::vector<std::string>{"type created Lamp", "type updated Lamp deprecated",
                                            "type deleted Lamp deprecated"}));
}

}  // namespace
}  // namespace iotblocks::registry::test
