// Thing groups on PostgreSQL: the cases every store passes (registry/thing_groups_cases.hpp,
// also run on SQLite), then two instances on one database standing for two processes: what
// one changes the other sees within the sync bound, concurrent updates at one version give
// one winner and one version_conflict, concurrent merges lose nothing, and concurrent adds of
// a thing to two groups of one hierarchy leave it in one.
#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/thing_group_store.hpp>

#include "postgres/shared_server.hpp"
#include "registry/thing_groups_cases.hpp"

#include <gtest/gtest.h>

#include <barrier>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace iotblocks::postgres {
namespace {

using namespace std::chrono_literals;
using strings = std::vector<std::string>;
namespace rg = iotblocks::registry;

/// A database for the running test ("tg_<suite>_<test>"), "" on failure.
std::string groups_database() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = "tg_";
  for (const char c : std::string(info->test_suite_name()) + "_" + info->name()) {
    name += std::isalnum(static_cast<unsigned char>(c))
                ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                : '_';
  }
  auto& s = testing::shared_server();
  return s.ok() ? s.create_database(name.substr(0, 63)) : std::string{};
}

std::unique_ptr<rg::thing_groups> open_groups(const std::string& url,
                                              std::chrono::milliseconds interval) {
  auto s = thing_group_store::open(url);
  EXPECT_TRUE(s) << s.describe();
  if (!s) return nullptr;
  auto g = rg::thing_groups::open(std::unique_ptr<rg::thing_group_store>(std::move(*s)),
                                  {.sync_interval = interval});
  EXPECT_TRUE(g) << g.describe();
  return g ? std::move(*g) : nullptr;
}

struct postgres_groups {
  std::string url = groups_database();
  bool ok() const { return !url.empty(); }
  result<std::unique_ptr<rg::thing_groups>> open() const {
    auto s = thing_group_store::open(url);
    if (!s) return std::move(s).take_failure();
    return rg::thing_groups::open(std::unique_ptr<rg::thing_group_store>(std::move(*s)));
  }
};

/// Calls `probe` until it is true; the time that took, or nullopt past `limit`.
template <class F>
std::optional<std::chrono::steady_clock::duration> until(F&& probe,
                                                         std::chrono::milliseconds limit) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < limit) {
    if (probe()) return std::chrono::steady_clock::now() - start;
    std::this_thread::yield();
  }
  return std::nullopt;
}

TEST(PostgresThingGroups, WhatOneChangesTheOtherSeesWithinTheSyncBound) {
  const auto url = groups_database();
  ASSERT_FALSE(url.empty());
  constexpr auto bound = 200ms;
  auto a = open_groups(url, bound), b = open_groups(url, bound);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->create({.name = "plant", .attributes = {{"city", "Lyon"}}}));
  ASSERT_TRUE(a->create({.name = "line-1", .parent = "plant"}));
  ASSERT_TRUE(a->add_thing("line-1", "press"));
  const auto seen =
      until([&] { return b->things_in("plant", true) == strings{"press"}; }, bound + 2000ms);
  ASSERT_TRUE(seen) << "B never saw the thing A added";
  EXPECT_LE(*seen, bound + 2000ms);
  EXPECT_EQ(b->ancestors("line-1"), strings{"plant"});
  EXPECT_EQ(b->describe("plant")->attributes.at("city"), "Lyon");
  // B's writes look first: B refuses what breaks a rule on A's state.
  ASSERT_TRUE(b->create({.name = "line-2", .parent = "plant"}));
  EXPECT_EQ(b->add_thing("line-2", "press").error(), rg::error::hierarchy_conflict);
  EXPECT_EQ(b->remove("plant").error(), rg::error::in_use);
  ASSERT_TRUE(b->forget_thing("press"));
  ASSERT_TRUE(b->remove("line-1"));
  ASSERT_TRUE(until([&] { return !a->describe("line-1") && a->groups_of("press").empty(); },
                    bound + 2000ms));
  EXPECT_EQ(a->list(), (strings{"line-2", "plant"}));
}

TEST(PostgresThingGroups, ConcurrentUpdatesAtOneVersionGiveOneWinnerAndOneVersionConflict) {
  const auto url = groups_database();
  ASSERT_FALSE(url.empty());
  auto a = open_groups(url, 1h), b = open_groups(url, 1h);  // only writes look
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->create({.name = "site"}));
  constexpr int rounds = 20;
  for (int i = 0; i < rounds; ++i) {
    const std::int64_t version = i + 1;
    std::barrier start(2);
    result<rg::thing_group> from_a = failure{rg::error::storage, "", {}}, from_b = from_a;
    auto update = [&](rg::thing_groups& g, result<rg::thing_group>& out, const char* by) {
      start.arrive_and_wait();
      out = g.update("site", {.attributes = {{{"by", by}}}, .expected_version = version});
    };
    std::thread ta(update, std::ref(*a), std::ref(from_a), "a");
    std::thread tb(update, std::ref(*b), std::ref(from_b), "b");
    ta.join();
    tb.join();
    ASSERT_NE(static_cast<bool>(from_a), static_cast<bool>(from_b))
        << i << ": " << from_a.describe() << " / " << from_b.describe();
    const auto& loser = from_a ? from_b : from_a;
    EXPECT_EQ(loser.error(), rg::error::version_conflict) << loser.describe();
    const auto& winner = from_a ? *from_a : *from_b;
    EXPECT_EQ(winner.version, version + 1);
    ASSERT_TRUE(a->refresh());
    EXPECT_EQ(*a->describe("site"), winner);
  }
}

TEST(PostgresThingGroups, ConcurrentMergesWithoutExpectedVersionLoseNothing) {
  const auto url = groups_database();
  ASSERT_FALSE(url.empty());
  auto a = open_groups(url, 1h), b = open_groups(url, 1h);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->create({.name = "site"}));
  constexpr int each = 20;
  auto merge = [&](rg::thing_groups& g, const std::string& prefix) {
    for (int i = 0; i < each; ++i) {
      auto r =
          g.update("site", {.attributes = {{{prefix + std::to_string(i), "1"}}}, .merge = true});
      EXPECT_TRUE(r) << r.describe();
    }
  };
  std::thread ta(merge, std::ref(*a), "a");
  std::thread tb(merge, std::ref(*b), "b");
  ta.join();
  tb.join();
  auto c = open_groups(url, 0ms);
  ASSERT_TRUE(c);
  const auto site = c->describe("site").value();
  EXPECT_EQ(site.attributes.size(), 2u * each);
  EXPECT_EQ(site.version, 1 + 2 * each);
}

TEST(PostgresThingGroups, ConcurrentAddsToOneHierarchyLeaveTheThingInOneGroup) {
  const auto url = groups_database();
  ASSERT_FALSE(url.empty());
  auto a = open_groups(url, 1h), b = open_groups(url, 1h);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->create({.name = "fleet"}));
  ASSERT_TRUE(a->create({.name = "east", .parent = "fleet"}));
  ASSERT_TRUE(a->create({.name = "west", .parent = "fleet"}));
  constexpr int things = 20;
  for (int i = 0; i < things; ++i) {
    const std::string thing = "truck-" + std::to_string(i);
    std::barrier start(2);
    std::error_code from_a, from_b;
    auto add = [&](rg::thing_groups& g, std::error_code& out, const char* group) {
      start.arrive_and_wait();
      out = g.add_thing(group, thing).error();
    };
    std::thread ta(add, std::ref(*a), std::ref(from_a), "east");
    std::thread tb(add, std::ref(*b), std::ref(from_b), "west");
    ta.join();
    tb.join();
    EXPECT_NE(!from_a, !from_b) << thing << ": " << from_a.message() << " / " << from_b.message();
    EXPECT_EQ(from_a ? from_a : from_b, rg::error::hierarchy_conflict) << thing;
  }
  auto c = open_groups(url, 0ms);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->things_in("fleet", true).size(), static_cast<std::size_t>(things));
  for (int i = 0; i < things; ++i) {
    EXPECT_EQ(c->groups_of("truck-" + std::to_string(i)).size(), 1u) << i;
  }
}

TEST(PostgresThingGroups, ABatchIsOneTransaction) {
  const auto url = groups_database();
  ASSERT_FALSE(url.empty());
  auto a = open_groups(url, 0ms), b = open_groups(url, 0ms);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->create({.name = "lamps"}));
  ASSERT_TRUE(a->begin_batch());
  ASSERT_TRUE(a->add_thing("lamps", "l1"));
  ASSERT_TRUE(a->add_thing("lamps", "l2"));
  EXPECT_TRUE(b->things_in("lamps").empty());  // not committed yet
  ASSERT_TRUE(a->commit_batch());
  EXPECT_EQ(b->things_in("lamps"), (strings{"l1", "l2"}));
  ASSERT_TRUE(a->begin_batch());
  ASSERT_TRUE(a->add_thing("lamps", "l3"));
  a->rollback_batch();
  EXPECT_EQ(a->things_in("lamps"), (strings{"l1", "l2"}));
  EXPECT_EQ(b->things_in("lamps"), (strings{"l1", "l2"}));
}

TEST(PostgresThingGroups, ANewerSchemaIsRefused) {
  const auto url = groups_database();
  ASSERT_FALSE(url.empty());
  ASSERT_TRUE(thing_group_store::open(url));
  ASSERT_TRUE(thing_group_store::open(url));  // opening again migrates nothing
  const std::string bump = "psql -q '" + url +
                           "' -c \"UPDATE iotblocks_schema SET version = 99 "
                           "WHERE component = 'thing_groups'\" >/dev/null";
  ASSERT_EQ(std::system(bump.c_str()), 0);
  EXPECT_EQ(thing_group_store::open(url).error(), error::schema_too_new);
}

}  // namespace
}  // namespace iotblocks::postgres

namespace iotblocks::registry::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, ThingGroupsCases,
                               ::testing::Types<iotblocks::postgres::postgres_groups>);
}  // namespace iotblocks::registry::testing
