// Stores against real SQLite files: durability across reopen, group commit, a failing
// COMMIT, tombstones; and the same service behaviour on memory and SQLite.
#include <iotblocks/core/clock.hpp>
#include <iotblocks/shadow.hpp>

#include "core/sqlite.hpp"

#include <gtest/gtest.h>

#include "shadow/clock.hpp"

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace iotblocks::shadow {
namespace {

class temp_db {
 public:
  temp_db() {
    static std::atomic<int> n{0};
    path_ = std::filesystem::temp_directory_path() /
            ("iotblocks_shadow_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ".db");
    clean();
  }
  ~temp_db() { clean(); }
  std::string path() const { return path_.string(); }

 private:
  void clean() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path_.string() + suffix);
    }
  }
  std::filesystem::path path_;
};

using iotblocks::shadow::testing::t0;

std::string stored(store& st, const shadow_key& key) {
  std::string out;
  EXPECT_FALSE(st.read(key, [&](const document& d) { out = d.to_storage(); }));
  return out;
}

void run_lifecycle(store& st) {
  manual_clock clock{from_unix_ms(t0 * 1000)};
  service svc{st, clock};
  EXPECT_EQ(svc.update({"lamp", ""}, R"({"state":{"reported":{"on":true}}})").status, 200);
  EXPECT_EQ(svc.update({"lamp", "cfg"}, R"({"state":{"desired":{"level":3}}})").status, 200);
  EXPECT_EQ(svc.update({"lamp", ""}, R"({"state":{"reported":{"on":false}}})").status, 200);
  EXPECT_EQ(svc.remove({"lamp", "cfg"}).status, 200);
  EXPECT_EQ(svc.get({"lamp", "cfg"}).status, 404);
  EXPECT_EQ(svc.get({"never", ""}).status, 404);
}

TEST(Stores, MemoryLifecycleAndPurge) {
  memory_store st;
  run_lifecycle(st);
  EXPECT_EQ(
      stored(st, {"lamp", ""}),
      R"({"state":{"reported":{"on":false}},"metadata":{"reported":{"on":{"timestamp":1700000000}}},"version":2})");
  EXPECT_EQ(stored(st, {"lamp", "cfg"}), R"({"version":1,"deletedAt":1700000000})");
  EXPECT_EQ(stored(st, {"never", ""}), "null");
  EXPECT_EQ(st.size(), 2u);  // a get of a missing shadow stores nothing
  EXPECT_EQ(st.purge_tombstones(t0), 0u);
  EXPECT_EQ(st.purge_tombstones(t0 + 1), 1u);
  EXPECT_EQ(st.size(), 1u);
}

class SqliteStores : public ::testing::TestWithParam<bool> {};

TEST_P(SqliteStores, ChangesSurviveReopen) {
  temp_db db;
  {
    auto st = sqlite_store::open(db.path(), {.group_commit = GetParam()});
    ASSERT_TRUE(st) << st.describe();
    run_lifecycle(**st);
  }
  auto st = sqlite_store::open(db.path(), {.group_commit = GetParam()});
  ASSERT_TRUE(st) << st.describe();
  EXPECT_EQ(
      stored(**st, {"lamp", ""}),
      R"({"state":{"reported":{"on":false}},"metadata":{"reported":{"on":{"timestamp":1700000000}}},"version":2})");
  EXPECT_EQ(stored(**st, {"lamp", "cfg"}), R"({"version":1,"deletedAt":1700000000})");
  // The version continues after the delete, also across a restart.
  manual_clock clock{from_unix_ms((t0 + 10) * 1000)};
  service svc{**st, clock};
  auto out = svc.update({"lamp", "cfg"}, R"({"state":{"desired":{"level":4}},"version":1})");
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.body.find(R"("version":2)"), std::string::npos) << out.body;
  auto purged = (*st)->purge_tombstones(t0 + 100);
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 0u);
}

TEST_P(SqliteStores, PurgeTombstones) {
  temp_db db;
  auto st = sqlite_store::open(db.path(), {.group_commit = GetParam()});
  ASSERT_TRUE(st);
  run_lifecycle(**st);
  auto purged = (*st)->purge_tombstones(t0 + 1);
  ASSERT_TRUE(purged) << purged.describe();
  EXPECT_EQ(*purged, 1u);
  EXPECT_EQ(stored(**st, {"lamp", "cfg"}), "null");
}

// Named shadows of lamp: a, b (deleted), c; the classic one; one of fan and of lam.
void expect_named_listing(store& st) {
  manual_clock clock{from_unix_ms(t0 * 1000)};
  service svc{st, clock};
  for (const auto& key : std::vector<shadow_key>{
           {"lamp", "c"}, {"lamp", "a"}, {"lamp", "b"}, {"lamp", ""}, {"fan", "x"}, {"lam", "p"}}) {
    ASSERT_EQ(svc.update(key, R"({"state":{"reported":{"on":1}}})").status, 200);
  }
  ASSERT_EQ(svc.remove({"lamp", "b"}).status, 200);
  auto all = st.named_shadows("lamp");
  ASSERT_TRUE(all) << all.describe();
  EXPECT_EQ(*all, (std::vector<std::string>{"a", "c"}));
  auto page = st.named_shadows("lamp", "b", 1);
  ASSERT_TRUE(page);
  EXPECT_EQ(*page, (std::vector<std::string>{"c"}));
  auto none = st.named_shadows("nobody");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(SqliteStores, NamedShadowsListsLiveNamesInOrder) {
  temp_db db;
  auto st = sqlite_store::open(db.path(), {.group_commit = GetParam()});
  ASSERT_TRUE(st) << st.describe();
  expect_named_listing(**st);
}

TEST(MemoryStore, NamedShadowsListsLiveNamesInOrder) {
  memory_store st;
  expect_named_listing(st);
}

INSTANTIATE_TEST_SUITE_P(Shadow, SqliteStores, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "group_commit" : "per_change"; });

TEST(SqliteStore, GroupCommitAcknowledgesAfterOneCommitPerGroup) {
  temp_db db;
  auto st = sqlite_store::open(db.path(), {.group_commit = true});
  ASSERT_TRUE(st);
  manual_clock clock{from_unix_ms(t0 * 1000)};
  service svc{**st, clock};
  constexpr int n = 400;
  std::atomic<int> acknowledged{0};
  for (int i = 0; i < n; ++i) {
    svc.update_async({"dev" + std::to_string(i % 40), ""},
                     R"({"state":{"reported":{"n":)" + std::to_string(i) + "}}}", {}, {},
                     [&](outcome o) {
                       EXPECT_EQ(o.status, 200);
                       acknowledged.fetch_add(1);
                     });
  }
  while (acknowledged.load() < n) std::this_thread::yield();
  EXPECT_GE((*st)->commits(), 1u);
  EXPECT_LT((*st)->commits(), std::uint64_t{n});  // grouped, not one COMMIT each
  st->reset();                                    // close, then check the file itself
  auto again = sqlite_store::open(db.path());
  ASSERT_TRUE(again);
  EXPECT_NE(stored(**again, {"dev0", ""}).find(R"("n":360)"), std::string::npos);
  EXPECT_NE(stored(**again, {"dev39", ""}).find(R"("version":10)"), std::string::npos);
}

TEST(SqliteStore, FailedCommitFailsTheGroupAndReloads) {
  temp_db db;
  {
    auto raw = sqlite::database::open(db.path());
    ASSERT_TRUE(raw);
    ASSERT_TRUE(raw->exec(R"sql(
      CREATE TABLE shadows(thing TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
        deleted_at INTEGER NOT NULL, document TEXT NOT NULL, UNIQUE(thing, name));
      CREATE TRIGGER boom BEFORE INSERT ON shadows WHEN NEW.thing = 'boom'
        BEGIN SELECT RAISE(ABORT, 'injected failure'); END;)sql"));
  }
  for (bool group : {true, false}) {
    SCOPED_TRACE(group ? "group commit" : "per change");
    auto st = sqlite_store::open(db.path(), {.group_commit = group});
    ASSERT_TRUE(st);
    manual_clock clock{from_unix_ms(t0 * 1000)};
    service svc{**st, clock};
    auto out = svc.update({"boom", ""}, R"({"state":{"reported":{"a":1}},"clientToken":"b"})");
    EXPECT_EQ(out.status, 500);
    EXPECT_NE(out.body.find(R"("clientToken":"b")"), std::string::npos);
    // Nothing of the failed change is visible, in the cache or the file.
    EXPECT_EQ(svc.get({"boom", ""}).status, 404);
    out = svc.update({"fine", ""}, R"({"state":{"reported":{"a":1}}})");
    EXPECT_EQ(out.status, 200);
    EXPECT_NE(stored(**st, {"fine", ""}).find(R"("version")"), std::string::npos);
    (void)svc.remove({"fine", ""});
  }
}

TEST(SqliteStore, OpenFailsClearly) {
  auto st = sqlite_store::open("/nonexistent-dir/x/shadows.db");
  ASSERT_FALSE(st);
  EXPECT_FALSE(st.describe().empty());
}

}  // namespace
}  // namespace iotblocks::shadow
