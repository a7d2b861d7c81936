#include "sqlite/database.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace iotblocks {
namespace {

class Sqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        ("iotblocks-sqlite-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "test.db").string(); }
  std::filesystem::path dir_;
};

TEST_F(Sqlite, CommittedRowsSurviveReopen) {
  {
    auto db = sqlite::database::open(path()).value();
    db.exec("CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB, n INTEGER, d REAL)").value();
    auto put = db.prepare("INSERT INTO kv VALUES(?1, ?2, ?3, ?4)").value();
    sqlite::transaction tx{db};
    ASSERT_TRUE(tx.begun());
    put.bind(1, "a").bind(2, as_bytes("\x01\x02")).bind(3, std::int64_t{1} << 40).bind(4, 2.5);
    put.run().value();
    tx.commit().value();
  }
  auto db = sqlite::database::open(path()).value();
  auto get = db.prepare("SELECT k, v, n, d FROM kv").value();
  ASSERT_TRUE(get.step().value());
  EXPECT_EQ(get.column_text(0), "a");
  EXPECT_EQ(as_string_view(get.column_blob(1)), "\x01\x02");
  EXPECT_EQ(get.column_int64(2), std::int64_t{1} << 40);
  EXPECT_EQ(get.column_double(3), 2.5);
  EXPECT_FALSE(get.step().value());
}

TEST_F(Sqlite, UncommittedTransactionRollsBack) {
  auto db = sqlite::database::open(path()).value();
  db.exec("CREATE TABLE t(x INTEGER)").value();
  {
    sqlite::transaction tx{db};
    db.exec("INSERT INTO t VALUES(1)").value();
  }
  auto count = db.prepare("SELECT count(*) FROM t").value();
  ASSERT_TRUE(count.step().value());
  EXPECT_EQ(count.column_int64(0), 0);
}

// Inside a caller's transaction a transaction is a savepoint: all or nothing on its own,
// durable (and seen by other connections) only when the outer transaction commits.
TEST_F(Sqlite, TransactionInsideATransactionIsASavepoint) {
  auto db = sqlite::database::open(path()).value();
  db.exec("CREATE TABLE t(x INTEGER)").value();
  auto other = sqlite::database::open(path()).value();
  auto count = [&](sqlite::database& on) {
    auto q = on.prepare("SELECT count(*) FROM t").value();
    EXPECT_TRUE(q.step().value());
    return q.column_int64(0);
  };
  db.exec("BEGIN IMMEDIATE").value();
  {
    sqlite::transaction tx{db};
    ASSERT_TRUE(tx.begun()) << tx.begun().describe();
    db.exec("INSERT INTO t VALUES(1)").value();
    tx.commit().value();
  }
  {
    sqlite::transaction tx{db};
    ASSERT_TRUE(tx.begun());
    db.exec("INSERT INTO t VALUES(2)").value();
  }  // not committed: only this one is undone
  EXPECT_EQ(count(db), 1);
  EXPECT_EQ(count(other), 0);  // the outer transaction is still open
  db.exec("COMMIT").value();
  EXPECT_EQ(count(other), 1);
}

TEST_F(Sqlite, ErrorsCarrySqliteCodesAndMessages) {
  auto db = sqlite::database::open(path()).value();
  auto bad = db.prepare("SELEC 1");
  ASSERT_FALSE(bad);
  EXPECT_STREQ(bad.error().category().name(), "iotblocks.sqlite");
  EXPECT_NE(bad.describe().find("syntax error"), std::string::npos);

  db.exec("CREATE TABLE u(x INTEGER UNIQUE)").value();
  db.exec("INSERT INTO u VALUES(1)").value();
  auto dup = db.prepare("INSERT INTO u VALUES(1)").value();
  EXPECT_EQ(dup.run().error().value(), 19);  // SQLITE_CONSTRAINT
}

TEST_F(Sqlite, UsesWriteAheadLog) {
  auto db = sqlite::database::open(path()).value();
  auto mode = db.prepare("PRAGMA journal_mode").value();
  ASSERT_TRUE(mode.step().value());
  EXPECT_EQ(mode.column_text(0), "wal");
}

TEST_F(Sqlite, OpenFailsForMissingDirectory) {
  auto db = sqlite::database::open((dir_ / "no" / "such" / "dir.db").string());
  ASSERT_FALSE(db);
  EXPECT_NE(db.describe().find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace iotblocks
