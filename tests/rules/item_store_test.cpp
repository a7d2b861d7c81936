// The dynamoDB action's store: a real SQLite file, items by hash key and range.
#include <iotblocks/rules/item_store.hpp>

#include "rules/util.hpp"

#include <gtest/gtest.h>

namespace iotblocks::rules {
namespace {

item reading(std::string device, std::string ts, std::string payload) {
  item i;
  i.table = "sigfox";
  i.hash_key = std::move(device);
  i.range_key = std::move(ts);
  i.range_is_number = true;
  i.payload = std::move(payload);
  i.hash_key_field = "deviceid";
  i.range_key_field = "timestamp";
  i.payload_field = "payload";
  return i;
}

TEST(ItemStore, QueryByHashKeyInNumericRangeOrder) {
  testing::temp_dir dir;
  auto store = item_store::open(dir.file("items.db")).value();
  // 9 < 10 < 100 numerically (not as text).
  ASSERT_TRUE(store->put(reading("1A2B", "100", R"({"data":"c"})")));
  ASSERT_TRUE(store->put(reading("1A2B", "9", R"({"data":"a"})")));
  ASSERT_TRUE(store->put(reading("1A2B", "10", R"({"data":"b"})")));
  ASSERT_TRUE(store->put(reading("FFFF", "5", R"({"data":"x"})")));
  auto items = store->query("sigfox", "1A2B").value();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].range_key, "9");
  EXPECT_EQ(items[1].range_key, "10");
  EXPECT_EQ(items[2].range_key, "100");
  EXPECT_EQ(items[0].to_json(), R"({"payload":{"data":"a"},"deviceid":"1A2B","timestamp":9})");
  range_query r;
  r.from = "10";
  r.to = "99";
  items = store->query("sigfox", "1A2B", r).value();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].range_key, "10");
  r = {};
  r.descending = true;
  r.limit = 1;
  EXPECT_EQ(store->query("sigfox", "1A2B", r).value().at(0).range_key, "100");
  EXPECT_EQ(store->count("sigfox").value(), 4u);
  EXPECT_EQ(store->count("other").value(), 0u);
}

TEST(ItemStore, SameKeyReplaces) {
  testing::temp_dir dir;
  auto store = item_store::open(dir.file("items.db")).value();
  ASSERT_TRUE(store->put(reading("d", "1", R"({"v":1})")));
  ASSERT_TRUE(store->put(reading("d", "1", R"({"v":2})")));
  auto items = store->query("sigfox", "d").value();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].payload, R"({"v":2})");
}

TEST(ItemStore, BatchIsOneTransactionAndSurvivesReopen) {
  testing::temp_dir dir;
  const auto path = dir.file("items.db");
  {
    auto store = item_store::open(path).value();
    std::vector<item> batch;
    for (int i = 0; i < 500; ++i) batch.push_back(reading("dev", std::to_string(i), "{}"));
    ASSERT_TRUE(store->put_batch(batch));
    EXPECT_EQ(store->commits(), 1u);
  }
  auto again = item_store::open(path).value();
  EXPECT_EQ(again->count("sigfox").value(), 500u);
}

TEST(ItemStore, StringRangeKeysAndPlainPayload) {
  testing::temp_dir dir;
  auto store = item_store::open(dir.file("items.db")).value();
  item i = reading("x", "b", "not json");
  i.range_is_number = false;
  i.payload_field = "";
  ASSERT_TRUE(store->put(i));
  auto items = store->query("sigfox", "x").value();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_FALSE(items[0].range_is_number);
  EXPECT_EQ(items[0].to_json(), R"({"deviceid":"x","timestamp":"b"})");
}

TEST(ItemStore, OpenFailsOnADirectory) {
  testing::temp_dir dir;
  EXPECT_FALSE(item_store::open(dir.file("")));
}

}  // namespace
}  // namespace iotblocks::rules
