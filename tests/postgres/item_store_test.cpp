// The dynamoDB action's items on PostgreSQL: the cases every store passes
// (rules/item_store_cases.hpp, also run on SQLite), then what sharing a database adds: two
// stores (two processes' connections) writing overlapping keys at once lose nothing and
// duplicate nothing; a batch the server refuses stores none of its items; a schema from a
// newer build is refused.
#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/item_store.hpp>
#include <iotblocks/rules/error.hpp>

#include "postgres/shared_server.hpp"
#include "rules/item_store_cases.hpp"

#include <gtest/gtest.h>

#include <barrier>
#include <cctype>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>

namespace iotblocks::postgres {
namespace {

using rules::testing::reading;

/// A database for the running test ("it_<suite>_<test>"), "" on failure.
std::string items_database() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = "it_";
  for (const char c : std::string(info->test_suite_name()) + "_" + info->name()) {
    name += std::isalnum(static_cast<unsigned char>(c))
                ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                : '_';
  }
  auto& s = testing::shared_server();
  return s.ok() ? s.create_database(name.substr(0, 63)) : std::string{};
}

struct postgres_items {
  std::string url = items_database();
  bool ok() const { return !url.empty(); }
  result<std::shared_ptr<rules::item_store>> open() const {
    auto s = item_store::open(url);
    if (!s) return std::move(s).take_failure();
    return std::shared_ptr<rules::item_store>(std::move(*s));
  }
};

// Two stores, two threads, each writing every key of the same 1,000 in batches of 50 (in
// opposite orders): every key once, the payload one of the two wrote.
TEST(PostgresItemStore, TwoWritersOfOverlappingKeysLoseAndDuplicateNothing) {
  const auto url = items_database();
  ASSERT_FALSE(url.empty());
  auto a = item_store::open(url), b = item_store::open(url);
  ASSERT_TRUE(a && b) << a.describe() << b.describe();
  constexpr int n = 1000, batch = 50;
  std::barrier start(2);
  auto write = [&](item_store& s, bool reverse, const char* who) {
    start.arrive_and_wait();
    for (int first = 0; first < n; first += batch) {
      std::vector<rules::item> items;
      for (int k = first; k < first + batch; ++k) {
        const int key = reverse ? n - 1 - k : k;
        items.push_back(reading("dev" + std::to_string(key % 7), std::to_string(key),
                                std::string(R"({"by":")") + who + "\"}"));
      }
      auto r = s.put_batch(items);
      EXPECT_TRUE(r) << r.describe();
    }
  };
  std::thread ta(write, std::ref(**a), false, "a");
  std::thread tb(write, std::ref(**b), true, "b");
  ta.join();
  tb.join();
  EXPECT_EQ((*a)->count("sigfox").value(), static_cast<std::size_t>(n));
  std::set<std::string> seen;
  for (int d = 0; d < 7; ++d) {
    rules::range_query all;
    all.limit = n;
    const auto got = (*b)->query("sigfox", "dev" + std::to_string(d), all).value();  // a copy
    for (const auto& i : got) {
      EXPECT_TRUE(seen.insert(i.range_key).second) << i.range_key;
      EXPECT_TRUE(i.payload == R"({"by":"a"})" || i.payload == R"({"by":"b"})") << i.payload;
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  EXPECT_EQ((*a)->commits(), static_cast<std::uint64_t>(n / batch));
}

TEST(PostgresItemStore, ABatchTheServerRefusesStoresNone) {
  const auto url = items_database();
  ASSERT_FALSE(url.empty());
  auto s = item_store::open(url);
  ASSERT_TRUE(s) << s.describe();
  std::vector<rules::item> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(reading("d", std::to_string(i), "{}"));
  batch.push_back(reading("d", "10", "\xff\xfe not UTF-8"));  // refused by the server
  auto r = (*s)->put_batch(batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::statement_failed);
  EXPECT_TRUE(r.fail().message.view().starts_with("22021")) << r.describe();
  EXPECT_EQ((*s)->count("sigfox").value(), 0u);
  batch.back() = reading("d", "10", "\xff");
  batch.back().hash_key = std::string("d\0e", 3);  // refused before the server sees it
  r = (*s)->put_batch(batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), rules::error::action_failed);
  EXPECT_NE(r.describe().find("item 10"), std::string::npos) << r.describe();
  EXPECT_EQ((*s)->count("sigfox").value(), 0u);
  batch.pop_back();
  ASSERT_TRUE((*s)->put_batch(batch));  // the connection is fine after both
  EXPECT_EQ((*s)->count("sigfox").value(), 10u);
  EXPECT_EQ((*s)->commits(), 1u);
}

TEST(PostgresItemStore, ANewerSchemaIsRefused) {
  const auto url = items_database();
  ASSERT_FALSE(url.empty());
  ASSERT_TRUE(item_store::open(url));
  ASSERT_TRUE(item_store::open(url));
  const std::string bump = "psql -q '" + url +
                           "' -c \"UPDATE iotblocks_schema SET version = 99 "
                           "WHERE component = 'rule_items'\" >/dev/null";
  ASSERT_EQ(std::system(bump.c_str()), 0);
  EXPECT_EQ(item_store::open(url).error(), error::schema_too_new);
}

}  // namespace
}  // namespace iotblocks::postgres

namespace iotblocks::rules::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, ItemStoreCases,
                               ::testing::Types<iotblocks::postgres::postgres_items>);
}  // namespace iotblocks::rules::testing
