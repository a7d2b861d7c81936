// OverrideSettings on an existing thing: every mode of every property, and a new thing.
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/overrides.hpp>

#include <gtest/gtest.h>

namespace {

using namespace iotblocks::provisioning;
using attrs = std::map<std::string, std::string>;
using names = std::vector<std::string>;

thing_plan plan(override_mode m) {
  thing_plan t;
  t.logical_name = "thing";
  t.name = "lamp-1";
  t.type_name = "new-type";
  t.attributes = attrs{{"a", "new"}, {"c", "3"}};
  t.groups = names{"b", "c"};
  t.type_override = m == override_mode::merge ? override_mode::replace : m;
  t.attributes_override = m;
  t.groups_override = m;
  return t;
}

const existing_thing now{"old-type", {{"a", "old"}, {"b", "2"}}, {"a", "b"}};

TEST(ProvisioningOverrides, NewThingTakesEverything) {
  auto c = thing_changes_for(plan(override_mode::fail), nullptr);
  ASSERT_TRUE(c) << c.describe();
  EXPECT_EQ(c->type, "new-type");
  EXPECT_EQ(c->attributes, (attrs{{"a", "new"}, {"c", "3"}}));
  EXPECT_TRUE(c->type_or_attributes_change);
  EXPECT_EQ(c->add_groups, (names{"b", "c"}));
  EXPECT_TRUE(c->drop_groups.empty());
}

TEST(ProvisioningOverrides, DoNothingKeeps) {
  auto c = thing_changes_for(plan(override_mode::do_nothing), &now);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->type, "old-type");
  EXPECT_EQ(c->attributes, now.attributes);
  EXPECT_FALSE(c->type_or_attributes_change);
  EXPECT_TRUE(c->add_groups.empty());
  EXPECT_TRUE(c->drop_groups.empty());
}

TEST(ProvisioningOverrides, ReplaceReplaces) {
  auto c = thing_changes_for(plan(override_mode::replace), &now);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->type, "new-type");
  EXPECT_EQ(c->attributes, (attrs{{"a", "new"}, {"c", "3"}}));
  EXPECT_TRUE(c->type_or_attributes_change);
  EXPECT_EQ(c->add_groups, (names{"c"}));
  EXPECT_EQ(c->drop_groups, (names{"a"}));
}

TEST(ProvisioningOverrides, MergeAdds) {
  auto c = thing_changes_for(plan(override_mode::merge), &now);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->attributes, (attrs{{"a", "new"}, {"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(c->add_groups, (names{"c"}));
  EXPECT_TRUE(c->drop_groups.empty());
}

TEST(ProvisioningOverrides, FailRefusesADifference) {
  auto c = thing_changes_for(plan(override_mode::fail), &now);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), error::resource_conflict);
  EXPECT_EQ(c.describe(),
            "Resources.thing.Properties.ThingTypeName: thing 'lamp-1' exists with another value "
            "(OverrideSettings FAIL)");
  // The same values pass.
  thing_plan same = plan(override_mode::fail);
  same.type_name = now.type;
  same.attributes = now.attributes;
  same.groups = names{"b", "a"};
  auto ok = thing_changes_for(same, &now);
  ASSERT_TRUE(ok) << ok.describe();
  EXPECT_FALSE(ok->type_or_attributes_change);
  same.groups = names{"a"};
  EXPECT_NE(thing_changes_for(same, &now).describe().find("ThingGroups"), std::string::npos);
}

}  // namespace
