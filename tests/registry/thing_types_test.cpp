// Thing types: AWS's syntax and limits, deprecation, the delete delay on an injected clock, and
// everything back after the file is opened again.
#include <iotblocks/registry/thing_types.hpp>

#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

namespace {

using namespace iotblocks::registry;
using iotblocks::from_unix_ms;
using iotblocks::manual_clock;

struct ThingTypes : ::testing::Test {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("iotblocks-types-" + std::to_string(::getpid()) + ".db"))
                         .string();
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  std::unique_ptr<thing_types> t;
  void SetUp() override {
    clean();
    reopen();
  }
  void TearDown() override {
    t.reset();
    clean();
  }
  void clean() {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  }
  void reopen() {
    t.reset();
    auto opened = thing_types::open(path, clock);
    ASSERT_TRUE(opened) << opened.describe();
    t = std::move(*opened);
  }
};

TEST_F(ThingTypes, CreatedTypeSurvivesReopen) {
  auto made = t->create({.name = "LightBulb",
                         .description = "light bulb type",
                         .searchable_attributes = {"wattage", "model"}});
  ASSERT_TRUE(made) << made.describe();
  EXPECT_EQ(made->created_ms, 1'700'000'000'000);
  EXPECT_FALSE(made->deprecated);
  reopen();
  auto back = t->describe("LightBulb");
  ASSERT_TRUE(back) << back.describe();
  EXPECT_EQ(*back, *made);
  EXPECT_TRUE(t->assignable("LightBulb"));
  EXPECT_EQ(t->create({.name = "LightBulb"}).error(), error::already_exists);
}

TEST_F(ThingTypes, SyntaxAndLimitsAsAws) {
  EXPECT_EQ(t->create({.name = "bad name"}).error(), error::invalid_name);
  EXPECT_EQ(t->create({.name = std::string(129, 'a')}).error(), error::invalid_name);
  EXPECT_EQ(t->create({.name = "T", .searchable_attributes = {"a", "b", "c", "d"}}).error(),
            error::limit_exceeded);
  EXPECT_EQ(t->create({.name = "T", .searchable_attributes = {"no spaces"}}).error(),
            error::invalid_name);
  EXPECT_EQ(t->create({.name = "T", .description = std::string(2029, 'd')}).error(),
            error::limit_exceeded);
  EXPECT_TRUE(t->create({.name = "T", .searchable_attributes = {"a.b", "c@d", "e/f"}}));
  EXPECT_EQ(t->describe("missing").error(), error::not_found);
  EXPECT_EQ(t->assignable("missing").error(), error::not_found);
}

TEST_F(ThingTypes, DeprecatedTypeIsNotAssignableUntilUndeprecated) {
  ASSERT_TRUE(t->create({.name = "Sensor"}));
  auto d = t->deprecate("Sensor", false);
  ASSERT_TRUE(d) << d.describe();
  EXPECT_TRUE(d->deprecated);
  EXPECT_EQ(d->deprecated_ms, 1'700'000'000'000);
  EXPECT_EQ(t->assignable("Sensor").error(), error::deprecated);
  reopen();
  EXPECT_EQ(t->assignable("Sensor").error(), error::deprecated);
  ASSERT_TRUE(t->deprecate("Sensor", true));
  EXPECT_TRUE(t->assignable("Sensor"));
  EXPECT_EQ(t->deprecate("missing", false).error(), error::not_found);
}

TEST_F(ThingTypes, DeleteOnlyFiveMinutesAfterDeprecation) {
  ASSERT_TRUE(t->create({.name = "Old"}));
  EXPECT_EQ(t->remove("Old").error(), error::deprecated);  // not deprecated
  ASSERT_TRUE(t->deprecate("Old", false));
  clock.advance(std::chrono::minutes(4));
  EXPECT_EQ(t->remove("Old").error(), error::deprecated);
  ASSERT_TRUE(t->deprecate("Old", false));  // again: the delay restarts
  clock.advance(std::chrono::minutes(4));
  EXPECT_EQ(t->remove("Old").error(), error::deprecated);
  clock.advance(std::chrono::minutes(1));
  auto removed = t->remove("Old");
  ASSERT_TRUE(removed) << removed.describe();
  reopen();
  EXPECT_EQ(t->describe("Old").error(), error::not_found);
  EXPECT_EQ(t->remove("Old").error(), error::not_found);
}

TEST_F(ThingTypes, ListIsSortedAndFiltersByName) {
  for (const char* n : {"b", "a", "c"}) ASSERT_TRUE(t->create({.name = n}));
  std::vector<std::string> names;
  for (const auto& x : t->list()) names.push_back(x.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t->list("b").size(), 1u);
  EXPECT_TRUE(t->list("zz").empty());
}

}  // namespace
