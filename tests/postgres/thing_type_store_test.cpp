// Thing types on PostgreSQL: the cases every store passes (registry/thing_types_cases.hpp,
// also run on SQLite), then two instances on one database standing for two processes: a
// type created or deprecated through one is seen by the other within the sync bound, and
// concurrent creates give one success and one already_exists.
#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/thing_type_store.hpp>

#include "postgres/shared_server.hpp"
#include "registry/thing_types_cases.hpp"

#include <gtest/gtest.h>

#include <barrier>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace iotblocks::postgres {
namespace {

using namespace std::chrono_literals;
namespace rg = iotblocks::registry;

/// A database for the running test ("tt_<suite>_<test>"), "" on failure.
std::string types_database() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = "tt_";
  for (const char c : std::string(info->test_suite_name()) + "_" + info->name()) {
    name += std::isalnum(static_cast<unsigned char>(c))
                ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                : '_';
  }
  auto& s = testing::shared_server();
  return s.ok() ? s.create_database(name.substr(0, 63)) : std::string{};
}

std::unique_ptr<rg::thing_types> open_types(const std::string& url,
                                            std::chrono::milliseconds interval) {
  auto s = thing_type_store::open(url);
  EXPECT_TRUE(s) << s.describe();
  if (!s) return nullptr;
  auto t = rg::thing_types::open(std::unique_ptr<rg::thing_type_store>(std::move(*s)),
                                 default_clock(), {.sync_interval = interval});
  EXPECT_TRUE(t) << t.describe();
  return t ? std::move(*t) : nullptr;
}

struct postgres_types {
  std::string url = types_database();
  bool ok() const { return !url.empty(); }
  result<std::unique_ptr<rg::thing_types>> open(const iotblocks::clock& c) const {
    auto s = thing_type_store::open(url);
    if (!s) return std::move(s).take_failure();
    return rg::thing_types::open(std::unique_ptr<rg::thing_type_store>(std::move(*s)), c);
  }
};

TEST(PostgresThingTypes, CreatedOrDeprecatedThroughOneIsSeenByTheOtherWithinTheSyncBound) {
  const auto url = types_database();
  ASSERT_FALSE(url.empty());
  constexpr auto bound = 200ms;
  auto a = open_types(url, bound), b = open_types(url, bound);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->create({.name = "Pump", .searchable_attributes = {"model"}}));
  const auto seen = [&](auto&& probe) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < bound + 2000ms) {
      if (probe()) return true;
      std::this_thread::yield();
    }
    return false;
  };
  ASSERT_TRUE(seen([&] { return static_cast<bool>(b->assignable("Pump")); }));
  EXPECT_EQ(b->describe("Pump")->searchable_attributes, std::vector<std::string>{"model"});
  ASSERT_TRUE(a->deprecate("Pump", false));
  ASSERT_TRUE(seen([&] { return b->assignable("Pump").error() == rg::error::deprecated; }));
  // B's writes look first.
  EXPECT_EQ(b->create({.name = "Pump"}).error(), rg::error::already_exists);
}

TEST(PostgresThingTypes, ConcurrentCreatesGiveOneSuccessAndOneAlreadyExists) {
  const auto url = types_database();
  ASSERT_FALSE(url.empty());
  auto a = open_types(url, 1h), b = open_types(url, 1h);
  ASSERT_TRUE(a && b);
  for (int i = 0; i < 20; ++i) {
    const std::string name = "Type" + std::to_string(i);
    std::barrier start(2);
    std::error_code from_a, from_b;
    auto create = [&](rg::thing_types& t, std::error_code& out, const char* description) {
      start.arrive_and_wait();
      out = t.create({.name = name, .description = description}).error();
    };
    std::thread ta(create, std::ref(*a), std::ref(from_a), "a");
    std::thread tb(create, std::ref(*b), std::ref(from_b), "b");
    ta.join();
    tb.join();
    EXPECT_NE(!from_a, !from_b) << name;
    EXPECT_EQ(from_a ? from_a : from_b, rg::error::already_exists) << name;
    ASSERT_TRUE(a->refresh());
    ASSERT_TRUE(b->refresh());
    EXPECT_EQ(a->describe(name)->description, from_a ? "b" : "a");
    EXPECT_EQ(*a->describe(name), *b->describe(name));
  }
}

TEST(PostgresThingTypes, ANewerSchemaIsRefused) {
  const auto url = types_database();
  ASSERT_FALSE(url.empty());
  ASSERT_TRUE(thing_type_store::open(url));
  ASSERT_TRUE(thing_type_store::open(url));
  const std::string bump = "psql -q '" + url +
                           "' -c \"UPDATE iotblocks_schema SET version = 99 "
                           "WHERE component = 'thing_types'\" >/dev/null";
  ASSERT_EQ(std::system(bump.c_str()), 0);
  EXPECT_EQ(thing_type_store::open(url).error(), error::schema_too_new);
}

}  // namespace
}  // namespace iotblocks::postgres

namespace iotblocks::registry::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, ThingTypesCases,
                               ::testing::Types<iotblocks::postgres::postgres_types>);
}  // namespace iotblocks::registry::testing
