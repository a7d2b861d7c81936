#include "registry/fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace iotblocks::registry::test {
namespace {

TEST_F(RegistryTest, ThingLifecycle) {
  auto reg = open({.max_attributes = 3});
  reg.create_thing({.name = "sensor-1", .type = "thermostat", .attributes = {{"room", "kitchen"}}})
      .value();
  auto t = reg.describe_thing("sensor-1").value();
  EXPECT_EQ(t.type, "thermostat");
  EXPECT_EQ(t.version, 1);
  EXPECT_EQ(reg.create_thing({.name = "sensor-1"}).error(), error::already_exists);

  t.attributes["floor"] = "2";
  reg.update_thing(t, 1).value();
  EXPECT_EQ(reg.describe_thing("sensor-1").value().version, 2);
  EXPECT_EQ(reg.update_thing(t, 1).error(), error::version_conflict);
  EXPECT_EQ(reg.update_thing({.name = "ghost"}).error(), error::not_found);

  EXPECT_EQ(reg.create_thing({.name = "bad name"}).error(), error::invalid_name);
  EXPECT_EQ(reg.create_thing({.name = std::string(129, 'a')}).error(), error::invalid_name);
  EXPECT_EQ(reg.create_thing({.name = "x", .type = "bad/type"}).error(), error::invalid_name);
  EXPECT_EQ(reg.create_thing({.name = "x", .attributes = {{"k", "spaces are out"}}}).error(),
            error::invalid_name);
  EXPECT_EQ(reg.create_thing({.name = "x", .attributes = {{"", "v"}}}).error(),
            error::invalid_name);
  EXPECT_EQ(reg.create_thing(
                   {.name = "x", .attributes = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}})
                .error(),
            error::limit_exceeded);
  EXPECT_TRUE(reg.create_thing({.name = "x:y_z-1", .attributes = {{"serial/no", "a@b.c#1,2:3"}}}));

  EXPECT_EQ(reg.delete_thing("sensor-1", 1).error(), error::version_conflict);
  reg.delete_thing("sensor-1", 2).value();
  EXPECT_EQ(reg.describe_thing("sensor-1").error(), error::not_found);
  EXPECT_EQ(reg.list_things().size(), 1u);
}

TEST_F(RegistryTest, ThingsAttachedToCertificatesReachTheirRecords) {
  auto reg = open({.max_things_per_certificate = 2});
  const issued ca = make_ca("Acme CA");
  register_ca(reg, ca, {.active = true});
  const issued dev = make_device("dev", ca);
  const std::string id =
      reg.register_certificate(dev.cert.pem(), certificate_status::active).value();
  reg.create_thing({.name = "pump-7", .type = "pump", .attributes = {{"site", "north"}}}).value();
  reg.create_thing({.name = "pump-8"}).value();
  reg.create_thing({.name = "pump-9"}).value();

  EXPECT_EQ(reg.attach_thing("nope", id).error(), error::not_found);
  EXPECT_EQ(reg.attach_thing("pump-7", "nope").error(), error::not_found);
  reg.attach_thing("pump-7", id).value();
  reg.attach_thing("pump-7", id).value();  // idempotent
  reg.attach_thing("pump-8", id).value();
  EXPECT_EQ(reg.attach_thing("pump-9", id).error(), error::limit_exceeded);

  auto a = reg.authenticate(chain({&dev}));
  ASSERT_TRUE(a.accepted());
  ASSERT_EQ(a.principal->things.size(), 2u);
  EXPECT_EQ(a.principal->things[0].name, "pump-7");
  EXPECT_EQ(a.principal->things[0].type, "pump");
  EXPECT_EQ(a.principal->things[0].attributes.at("site"), "north");
  EXPECT_THAT(reg.list_thing_principals("pump-7").value(), ::testing::ElementsAre(id));

  // Updating the thing updates what authentication returns; the old snapshot stays as it was.
  reg.update_thing({.name = "pump-7", .type = "pump", .attributes = {{"site", "south"}}}).value();
  EXPECT_EQ(reg.authenticate(chain({&dev})).principal->things[0].attributes.at("site"), "south");
  EXPECT_EQ(a.principal->things[0].attributes.at("site"), "north");

  EXPECT_EQ(reg.delete_thing("pump-7").error(), error::in_use);
  reg.detach_thing("pump-7", id).value();
  reg.detach_thing("pump-7", id).value();  // idempotent
  EXPECT_EQ(reg.find_certificate(id)->things.size(), 1u);

  // Attachments persist.
  reg = open();
  EXPECT_EQ(reg.find_certificate(id)->things.size(), 1u);
  EXPECT_EQ(reg.find_certificate(id)->things[0].name, "pump-8");
  EXPECT_THAT(reg.list_thing_principals("pump-8").value(), ::testing::ElementsAre(id));
  EXPECT_TRUE(reg.list_thing_principals("pump-7").value().empty());
  EXPECT_EQ(reg.describe_thing("pump-7").value().attributes.at("site"), "south");
}

}  // namespace
}  // namespace iotblocks::registry::test
