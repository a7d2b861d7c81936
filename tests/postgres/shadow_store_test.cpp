// postgres::shadow_store against a real PostgreSQL server started for each test.
#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/shadow_store.hpp>

#include "postgres/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace iotblocks::postgres {
namespace {

using shadow::document;
using shadow::shadow_key;

constexpr std::int64_t now = 1'765'000'000;

// Applies a shadow update request; returns its HTTP status (0 when the store failed).
int update(shadow::store& s, const shadow_key& key, const std::string& request) {
  int status = 0;
  const auto ec = s.modify(key, [&](document& d) {
    auto out = d.update(request, now);
    status = out.status;
    return out.accepted();
  });
  return ec ? 0 : status;
}

std::int64_t version_of(shadow::store& s, const shadow_key& key) {
  std::int64_t v = -1;
  EXPECT_FALSE(s.read(key, [&](const document& d) { v = d.exists() ? d.version() : 0; }));
  return v;
}

TEST(PostgresShadowStore, AnAcknowledgedUpdateSurvivesAnImmediateServerStop) {
  testing::server pg;
  ASSERT_TRUE(pg.ok());
  {
    auto s = shadow_store::open(pg.url()).value();
    ASSERT_EQ(update(*s, {"lamp", ""}, R"({"state":{"reported":{"on":true}}})"), 200);
    ASSERT_EQ(update(*s, {"lamp", "config"}, R"({"state":{"desired":{"lux":300}}})"), 200);
  }
  ASSERT_TRUE(pg.restart_immediately());  // no checkpoint, no clean shutdown
  auto s = shadow_store::open(pg.url()).value();
  EXPECT_EQ(version_of(*s, {"lamp", ""}), 1);
  std::string stored;
  ASSERT_FALSE(s->read({"lamp", "config"}, [&](const document& d) { stored = d.to_storage(); }));
  EXPECT_NE(stored.find("\"lux\":300"), std::string::npos) << stored;
  EXPECT_EQ(version_of(*s, {"nothing", ""}), 0);
  EXPECT_EQ(s->named_shadows("lamp").value(), std::vector<std::string>{"config"});
}

// Two stores are two processes to the server: their updates of one shadow queue on
// its row lock, each applied to the version the other left.
TEST(PostgresShadowStore, TwoProcessesUpdatingOneShadowLoseNoUpdate) {
  testing::server pg;
  ASSERT_TRUE(pg.ok());
  auto a = shadow_store::open(pg.url(), {.connections = 2}).value();
  auto b = shadow_store::open(pg.url(), {.connections = 2}).value();
  const shadow_key key{"meter", ""};
  constexpr int per_thread = 60;
  std::vector<std::thread> writers;
  std::atomic<int> accepted{0};
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      auto& store = t % 2 ? *a : *b;
      for (int i = 0; i < per_thread; ++i) {
        const std::string field = "w" + std::to_string(t);
        const auto req = R"({"state":{"reported":{")" + field + R"(":)" + std::to_string(i) + "}}}";
        accepted += update(store, key, req) == 200;
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(accepted.load(), 4 * per_thread);
  EXPECT_EQ(version_of(*a, key), 4 * per_thread);
  std::string stored;
  ASSERT_FALSE(b->read(key, [&](const document& d) { stored = d.to_storage(); }));
  for (int t = 0; t < 4; ++t) {
    const auto last = "\"w" + std::to_string(t) + "\":" + std::to_string(per_thread - 1);
    EXPECT_NE(stored.find(last), std::string::npos) << stored;
  }
}

TEST(PostgresShadowStore, AStaleVersionFromAnotherProcessGets409AndChangesNothing) {
  testing::server pg;
  ASSERT_TRUE(pg.ok());
  auto a = shadow_store::open(pg.url()).value();
  auto b = shadow_store::open(pg.url()).value();
  const shadow_key key{"valve", ""};
  ASSERT_EQ(update(*a, key, R"({"state":{"desired":{"open":true}}})"), 200);
  ASSERT_EQ(update(*b, key, R"({"state":{"desired":{"open":false}},"version":1})"), 200);
  EXPECT_EQ(update(*a, key, R"({"state":{"desired":{"open":true}},"version":1})"), 409);
  EXPECT_EQ(version_of(*a, key), 2);
}

TEST(PostgresShadowStore, RefusesAServerItCannotReachAndASchemaFromANewerBuild) {
  const auto refused = shadow_store::open("postgresql://iot@127.0.0.1:1/iot?connect_timeout=5");
  EXPECT_EQ(refused.error(), error::connection_failed);
  EXPECT_FALSE(refused.describe().empty());

  testing::server pg;
  ASSERT_TRUE(pg.ok());
  ASSERT_TRUE(shadow_store::open(pg.url()));
  const std::string bump = "psql -q '" + pg.url() +
                           "' -c \"UPDATE iotblocks_schema SET version = 99 "
                           "WHERE component = 'shadow'\" >/dev/null";
  ASSERT_EQ(std::system(bump.c_str()), 0);
  const auto newer = shadow_store::open(pg.url());
  EXPECT_EQ(newer.error(), error::schema_too_new);
  EXPECT_NE(newer.describe().find("99"), std::string::npos) << newer.describe();
}

}  // namespace
}  // namespace iotblocks::postgres

namespace iotblocks::postgres {
namespace {

// Group commit: two stores (two processes) queue deferred updates of the same shadows,
// new and existing, with names that need quoting in an array literal. Each is
// acknowledged after its transaction's COMMIT, none is lost, and transactions carry
// many updates each.
TEST(PostgresShadowStore, DeferredUpdatesFromTwoProcessesAreGroupCommittedAndNoneIsLost) {
  testing::server pg;
  ASSERT_TRUE(pg.ok());
  auto a = shadow_store::open(pg.url()).value();
  auto b = shadow_store::open(pg.url()).value();
  constexpr int per_store = 3000, shadows = 20;
  std::atomic<int> done{0}, failed{0}, accepted{0};
  std::promise<void> all_done;
  auto queue = [&](shadow_store& s, int from) {
    for (int i = from; i < from + per_store; ++i) {
      const shadow_key key{"t" + std::to_string(i % shadows), i % 2 ? "" : "n\"a\\me"};
      const std::string request = R"({"state":{"reported":{"k)" + std::to_string(i) + R"(":1}}})";
      auto status = std::make_shared<int>(0);
      s.modify_deferred(
          key,
          [request, status](document& d) {
            auto out = d.update(request, now);
            *status = out.status;
            return out.accepted();
          },
          [&, status](std::error_code ec) {
            if (ec) ++failed;
            if (*status == 200) ++accepted;
            if (++done == 2 * per_store) all_done.set_value();
          });
    }
  };
  std::thread ta{[&] { queue(*a, 0); }};
  std::thread tb{[&] { queue(*b, per_store); }};
  ta.join();
  tb.join();
  ASSERT_EQ(all_done.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  ASSERT_EQ(done.load(), 2 * per_store);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(accepted.load(), 2 * per_store);
  std::int64_t versions = 0;
  for (int t = 0; t < shadows; ++t) {
    for (const char* name : {"", "n\"a\\me"})
      versions += version_of(*a, {"t" + std::to_string(t), name});
  }
  EXPECT_EQ(versions, 2 * per_store);
  std::string stored;
  ASSERT_FALSE(b->read({"t3", ""}, [&](const document& d) { stored = d.to_storage(); }));
  EXPECT_NE(stored.find("\"k3003\":1"), std::string::npos) << stored;
  const auto commits = a->group_commits() + b->group_commits();
  EXPECT_GT(commits, 0u);
  EXPECT_LT(commits, 2u * per_store / 4) << "about one transaction per update";
}

}  // namespace
}  // namespace iotblocks::postgres
