// Registry event payloads (sans-I/O): the topics and JSON of AWS IoT's registry events for each
// kind of change, with the ids the AWS API answers with.
#include "gateway/registry_events.hpp"
#include "core/json.hpp"
#include "gateway/aws_api_iot.hpp"

#include <gtest/gtest.h>

namespace iotblocks::gateway {
namespace {

using registry::change_op;

event_context context() {
  event_context ctx{"123456789012", "eu-west-1", 1'700'000'000'123, {}};
  ctx.event_id = [n = 0]() mutable { return "id-" + std::to_string(++n); };
  return ctx;
}

rapidjson::Document parsed(const event_message& m) {
  auto d = json::parse(m.payload);
  EXPECT_TRUE(d) << m.payload;
  return d ? std::move(*d) : rapidjson::Document{};
}

std::string str(const rapidjson::Value& d, const char* k) {
  const auto* v = json::find(d, k);
  return v != nullptr && v->IsString() ? std::string(json::view(*v)) : std::string("<absent>");
}

TEST(RegistryEvents, ThingCreatedWithAType) {
  registry::thing_change c{
      change_op::created,
      {.name = "lamp", .type = "Lamp", .attributes = {{"w", "60"}}, .version = 1},
      {}};
  const auto out = registry_event_messages(c, context());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].type, "THING");
  EXPECT_EQ(out[0].topic, "$aws/events/thing/lamp/created");
  const auto d = parsed(out[0]);
  EXPECT_EQ(str(d, "eventType"), "THING_EVENT");
  EXPECT_EQ(str(d, "eventId"), "id-1");
  EXPECT_EQ(d["timestamp"].GetInt64(), 1'700'000'000'123);
  EXPECT_EQ(str(d, "operation"), "CREATED");
  EXPECT_EQ(str(d, "accountId"), "123456789012");
  EXPECT_EQ(str(d, "thingId"), aws::uuid_from("lamp"));  // describe-thing's thingId
  EXPECT_EQ(str(d, "thingName"), "lamp");
  EXPECT_EQ(d["versionNumber"].GetInt64(), 1);
  EXPECT_EQ(str(d, "thingTypeName"), "Lamp");
  EXPECT_EQ(json::write(d["attributes"]), R"({"w":"60"})");

  EXPECT_EQ(out[1].type, "THING_TYPE_ASSOCIATION");
  EXPECT_EQ(out[1].topic, "$aws/events/thingTypeAssociation/thing/lamp/Lamp");
  const auto a = parsed(out[1]);
  EXPECT_EQ(str(a, "eventType"), "THING_TYPE_ASSOCIATION_EVENT");
  EXPECT_EQ(str(a, "eventId"), "id-2") << "each event has its own id";
  EXPECT_EQ(str(a, "operation"), "CREATED");
  EXPECT_EQ(str(a, "thingTypeName"), "Lamp");
  EXPECT_EQ(str(a, "thingId"), aws::uuid_from("lamp"));
}

TEST(RegistryEvents, ThingTypeChangedAndUntypedThing) {
  registry::thing_change c{
      change_op::updated, {.name = "lamp", .type = "Pump", .version = 3}, "Lamp"};
  const auto out = registry_event_messages(c, context());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].topic, "$aws/events/thing/lamp/updated");
  EXPECT_EQ(str(parsed(out[1]), "operation"), "DELETED");
  EXPECT_EQ(str(parsed(out[1]), "thingTypeName"), "Lamp");
  EXPECT_EQ(str(parsed(out[2]), "operation"), "CREATED");
  EXPECT_EQ(str(parsed(out[2]), "thingTypeName"), "Pump");

  registry::thing_change plain{change_op::deleted, {.name = "bare", .version = 2}, ""};
  const auto one = registry_event_messages(plain, context());
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].topic, "$aws/events/thing/bare/deleted");
  EXPECT_TRUE(parsed(one[0])["thingTypeName"].IsNull());
}

TEST(RegistryEvents, GroupWithAncestorsAndHierarchy) {
  registry::thing_group_change c{change_op::created,
                                 {.name = "line",
                                  .parent = "site",
                                  .description = "d",
                                  .attributes = {{"k", "v"}},
                                  .version = 1},
                                 {"root", "site"}};
  const auto out = registry_event_messages(c, context());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].topic, "$aws/events/thingGroup/line/created");
  const auto d = parsed(out[0]);
  EXPECT_EQ(str(d, "eventType"), "THING_GROUP_EVENT");
  EXPECT_EQ(str(d, "thingGroupId"), aws::uuid_from("thinggroup/line"));
  EXPECT_EQ(str(d, "parentGroupName"), "site");
  EXPECT_EQ(str(d, "parentGroupId"), aws::uuid_from("thinggroup/site"));
  EXPECT_EQ(str(d, "description"), "d");
  EXPECT_TRUE(d["dynamicGroupMappingId"].IsNull());
  ASSERT_EQ(d["rootToParentThingGroups"].Size(), 2u);
  EXPECT_EQ(str(d["rootToParentThingGroups"][0], "groupArn"),
            "arn:aws:iot:eu-west-1:123456789012:thinggroup/root");
  EXPECT_EQ(str(d["rootToParentThingGroups"][1], "groupId"), aws::uuid_from("thinggroup/site"));

  EXPECT_EQ(out[1].type, "THING_GROUP_HIERARCHY");
  EXPECT_EQ(out[1].topic,
            "$aws/events/thingGroupHierarchy/thingGroup/site/childThingGroup/line/added");
  const auto h = parsed(out[1]);
  EXPECT_EQ(str(h, "operation"), "ADDED");
  EXPECT_EQ(str(h, "thingGroupName"), "site");
  EXPECT_EQ(str(h, "childGroupName"), "line");
  EXPECT_EQ(str(h, "childGroupId"), aws::uuid_from("thinggroup/line"));

  c.op = change_op::deleted;
  const auto gone = registry_event_messages(c, context());
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone[1].topic,
            "$aws/events/thingGroupHierarchy/thingGroup/site/childThingGroup/line/removed");

  registry::thing_group_change root{change_op::created, {.name = "root", .version = 1}, {}};
  const auto r = registry_event_messages(root, context());
  ASSERT_EQ(r.size(), 1u) << "no hierarchy event for a root group";
  EXPECT_TRUE(parsed(r[0])["parentGroupName"].IsNull());
}

TEST(RegistryEvents, MembershipAndThingType) {
  const auto m = registry_event_messages(
      registry::membership_change{change_op::removed, "line", "lamp"}, context());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].topic, "$aws/events/thingGroupMembership/thingGroup/line/thing/lamp/removed");
  const auto d = parsed(m[0]);
  EXPECT_EQ(str(d, "eventType"), "THING_GROUP_MEMBERSHIP_EVENT");
  EXPECT_EQ(str(d, "operation"), "REMOVED");
  EXPECT_EQ(str(d, "groupArn"), "arn:aws:iot:eu-west-1:123456789012:thinggroup/line");
  EXPECT_EQ(str(d, "thingArn"), "arn:aws:iot:eu-west-1:123456789012:thing/lamp");
  EXPECT_EQ(str(d, "membershipId").size(), 36u);

  registry::thing_type t{.name = "Lamp", .description = "bulbs", .searchable_attributes = {"w"}};
  t.deprecated = true;
  t.deprecated_ms = 1'700'000'000'000;
  const auto out =
      registry_event_messages(registry::thing_type_change{change_op::updated, t}, context());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "$aws/events/thingType/Lamp/updated");
  const auto p = parsed(out[0]);
  EXPECT_EQ(str(p, "eventType"), "THING_TYPE_EVENT");
  EXPECT_EQ(str(p, "thingTypeId"), aws::uuid_from("thingtype/Lamp"));
  EXPECT_TRUE(p["isDeprecated"].GetBool());
  EXPECT_EQ(p["deprecationDate"].GetInt64(), 1'700'000'000'000);
  EXPECT_EQ(json::write(p["searchableAttributes"]), R"(["w"])");
  EXPECT_EQ(str(p, "description"), "bulbs");
}

}  // namespace
}  // namespace iotblocks::gateway
