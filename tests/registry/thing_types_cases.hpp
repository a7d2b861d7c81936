// Thing types' behaviour on any thing_type_store: AWS's syntax and limits, deprecation, the
// delete delay on an injected clock, and everything back after the store is opened again. A
// backend (the type parameter) has `open(clock)` returning a new registry::thing_types on the
// same storage each time; thing_types_test.cpp runs these on SQLite,
// tests/postgres/thing_types_store_test.cpp on PostgreSQL.
#pragma once

#include <iotblocks/core/clock.hpp>
#include <iotblocks/registry/thing_types.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace iotblocks::registry::testing {

template <class Backend>
struct ThingTypesCases : ::testing::Test {
  Backend backend;
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  std::unique_ptr<thing_types> types;
  void SetUp() override {
    ASSERT_TRUE(backend.ok());
    reopen();
  }
  void reopen() {
    types.reset();
    auto opened = backend.open(clock);
    ASSERT_TRUE(opened) << opened.describe();
    types = std::move(*opened);
  }
};

TYPED_TEST_SUITE_P(ThingTypesCases);

TYPED_TEST_P(ThingTypesCases, CreatedTypeSurvivesReopen) {
  auto& t = this->types;
  auto made = t->create({.name = "LightBulb",
                         .description = "light bulb type",
                         .searchable_attributes = {"wattage", "model"}});
  ASSERT_TRUE(made) << made.describe();
  EXPECT_EQ(made->created_ms, 1'700'000'000'000);
  EXPECT_FALSE(made->deprecated);
  this->reopen();
  auto back = t->describe("LightBulb");
  ASSERT_TRUE(back) << back.describe();
  EXPECT_EQ(*back, *made);
  EXPECT_TRUE(t->assignable("LightBulb"));
  EXPECT_EQ(t->create({.name = "LightBulb"}).error(), error::already_exists);
}

TYPED_TEST_P(ThingTypesCases, SyntaxAndLimitsAsAws) {
  auto& t = this->types;
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

TYPED_TEST_P(ThingTypesCases, DeprecatedTypeIsNotAssignableUntilUndeprecated) {
  auto& t = this->types;
  ASSERT_TRUE(t->create({.name = "Sensor"}));
  auto d = t->deprecate("Sensor", false);
  ASSERT_TRUE(d) << d.describe();
  EXPECT_TRUE(d->deprecated);
  EXPECT_EQ(d->deprecated_ms, 1'700'000'000'000);
  EXPECT_EQ(t->assignable("Sensor").error(), error::deprecated);
  this->reopen();
  EXPECT_EQ(t->assignable("Sensor").error(), error::deprecated);
  ASSERT_TRUE(t->deprecate("Sensor", true));
  EXPECT_TRUE(t->assignable("Sensor"));
  EXPECT_EQ(t->deprecate("missing", false).error(), error::not_found);
}

TYPED_TEST_P(ThingTypesCases, DeleteOnlyFiveMinutesAfterDeprecation) {
  auto& t = this->types;
  ASSERT_TRUE(t->create({.name = "Old"}));
  EXPECT_EQ(t->remove("Old").error(), error::deprecated);  // not deprecated
  ASSERT_TRUE(t->deprecate("Old", false));
  this->clock.advance(std::chrono::minutes(4));
  EXPECT_EQ(t->remove("Old").error(), error::deprecated);
  ASSERT_TRUE(t->deprecate("Old", false));  // again: the delay restarts
  this->clock.advance(std::chrono::minutes(4));
  EXPECT_EQ(t->remove("Old").error(), error::deprecated);
  this->clock.advance(std::chrono::minutes(1));
  auto removed = t->remove("Old");
  ASSERT_TRUE(removed) << removed.describe();
  this->reopen();
  EXPECT_EQ(t->describe("Old").error(), error::not_found);
  EXPECT_EQ(t->remove("Old").error(), error::not_found);
}

TYPED_TEST_P(ThingTypesCases, ListIsSortedAndFiltersByName) {
  auto& t = this->types;
  for (const char* n : {"b", "a", "c"}) ASSERT_TRUE(t->create({.name = n}));
  std::vector<std::string> names;
  for (const auto& x : t->list()) names.push_back(x.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t->list("b").size(), 1u);
  EXPECT_TRUE(t->list("zz").empty());
}

REGISTER_TYPED_TEST_SUITE_P(ThingTypesCases, CreatedTypeSurvivesReopen, SyntaxAndLimitsAsAws,
                            DeprecatedTypeIsNotAssignableUntilUndeprecated,
                            DeleteOnlyFiveMinutesAfterDeprecation, ListIsSortedAndFiltersByName);

}  // namespace iotblocks::registry::testing
