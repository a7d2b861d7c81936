// The dynamoDB action's store on a real SQLite file (item_store_cases.hpp; the same cases
// run on PostgreSQL in tests/postgres), and what only a file has.
#include <iotblocks/rules/item_store.hpp>

#include "rules/item_store_cases.hpp"
#include "rules/util.hpp"

#include <gtest/gtest.h>

namespace iotblocks::rules::testing {
namespace {

/// A file per test, removed at the end.
struct sqlite_items {
  temp_dir dir;
  std::string path = dir.file("items.db");
  bool ok() const { return true; }
  result<std::shared_ptr<item_store>> open() const {
    auto s = sqlite_item_store::open(path);
    if (!s) return std::move(s).take_failure();
    return std::shared_ptr<item_store>(std::move(*s));
  }
};

TEST(SqliteItemStore, OpenFailsOnADirectory) {
  temp_dir dir;
  EXPECT_FALSE(sqlite_item_store::open(dir.file("")));
}

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ItemStoreCases, ::testing::Types<sqlite_items>);

}  // namespace iotblocks::rules::testing
