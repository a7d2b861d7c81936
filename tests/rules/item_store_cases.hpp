// The dynamoDB action's store, the same cases on every rules::item_store: items by hash key
// in range-key order (numbers as numbers, before text), replace on the same key, a batch in
// one transaction that survives reopening. A backend (the type parameter) has `open()`
// returning a new store on the same storage each time; item_store_test.cpp runs these on
// SQLite, tests/postgres/item_store_test.cpp on PostgreSQL.
#pragma once

#include <iotblocks/rules/item_store.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace iotblocks::rules::testing {

inline item reading(std::string device, std::string ts, std::string payload) {
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

inline std::vector<std::string> range_keys(const std::vector<item>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.range_key);
  return out;
}

template <class Backend>
struct ItemStoreCases : ::testing::Test {
  Backend backend;
  std::shared_ptr<item_store> store;
  void SetUp() override {
    ASSERT_TRUE(backend.ok());
    reopen();
  }
  void reopen() {
    store.reset();
    auto opened = backend.open();
    ASSERT_TRUE(opened) << opened.describe();
    store = std::move(*opened);
  }
};

TYPED_TEST_SUITE_P(ItemStoreCases);

TYPED_TEST_P(ItemStoreCases, QueryByHashKeyInNumericRangeOrder) {
  auto& s = *this->store;
  // 9 < 10 < 100 numerically (not as text).
  ASSERT_TRUE(s.put(reading("1A2B", "100", R"({"data":"c"})")));
  ASSERT_TRUE(s.put(reading("1A2B", "9", R"({"data":"a"})")));
  ASSERT_TRUE(s.put(reading("1A2B", "10", R"({"data":"b"})")));
  ASSERT_TRUE(s.put(reading("FFFF", "5", R"({"data":"x"})")));
  auto items = s.query("sigfox", "1A2B").value();
  EXPECT_EQ(range_keys(items), (std::vector<std::string>{"9", "10", "100"}));
  ASSERT_EQ(items.size(), 3u);
  EXPECT_TRUE(items[0].range_is_number);
  EXPECT_EQ(items[0].payload, R"({"data":"a"})");
  EXPECT_EQ(items[0].to_json(), R"({"payload":{"data":"a"},"deviceid":"1A2B","timestamp":9})");
  range_query r;
  r.from = "10";
  r.to = "99";
  EXPECT_EQ(range_keys(s.query("sigfox", "1A2B", r).value()), std::vector<std::string>{"10"});
  r = {};
  r.descending = true;
  r.limit = 1;
  EXPECT_EQ(range_keys(s.query("sigfox", "1A2B", r).value()), std::vector<std::string>{"100"});
  r = {};
  r.limit = SIZE_MAX;  // no limit
  EXPECT_EQ(s.query("sigfox", "1A2B", r).value().size(), 3u);
  EXPECT_EQ(s.count("sigfox").value(), 4u);
  EXPECT_EQ(s.count("other").value(), 0u);
  EXPECT_TRUE(s.query("other", "1A2B").value().empty());
}

TYPED_TEST_P(ItemStoreCases, SameKeyReplaces) {
  auto& s = *this->store;
  ASSERT_TRUE(s.put(reading("d", "1", R"({"v":1})")));
  ASSERT_TRUE(s.put(reading("d", "1", R"({"v":2})")));
  auto items = s.query("sigfox", "d").value();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].payload, R"({"v":2})");
  // "1.0" is the number 1 too: the same key.
  ASSERT_TRUE(s.put(reading("d", "1.0", R"({"v":3})")));
  items = s.query("sigfox", "d").value();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].payload, R"({"v":3})");
  // The text "1" is another key, after every number.
  item text = reading("d", "1", R"({"v":4})");
  text.range_is_number = false;
  ASSERT_TRUE(s.put(text));
  items = s.query("sigfox", "d").value();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_TRUE(items[0].range_is_number);
  EXPECT_FALSE(items[1].range_is_number);
  EXPECT_EQ(items[1].payload, R"({"v":4})");
}

TYPED_TEST_P(ItemStoreCases, BatchIsOneTransactionAndSurvivesReopen) {
  std::vector<item> batch;
  for (int i = 0; i < 500; ++i) batch.push_back(reading("dev", std::to_string(i), "{}"));
  ASSERT_TRUE(this->store->put_batch(batch));
  EXPECT_EQ(this->store->commits(), 1u);
  this->reopen();
  EXPECT_EQ(this->store->count("sigfox").value(), 500u);
  range_query r;
  r.from = "250";
  r.limit = 3;
  EXPECT_EQ(range_keys(this->store->query("sigfox", "dev", r).value()),
            (std::vector<std::string>{"250", "251", "252"}));
}

TYPED_TEST_P(ItemStoreCases, TheLastOfOneKeyInABatchStays) {
  std::vector<item> batch{reading("d", "7", R"({"v":1})"), reading("d", "8", R"({"v":2})"),
                          reading("d", "7", R"({"v":3})"), reading("e", "7", R"({"v":4})")};
  ASSERT_TRUE(this->store->put_batch(batch));
  const auto items = this->store->query("sigfox", "d").value();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].payload, R"({"v":3})");
  EXPECT_EQ(items[1].payload, R"({"v":2})");
  EXPECT_EQ(this->store->count("sigfox").value(), 3u);
}

TYPED_TEST_P(ItemStoreCases, StringRangeKeysAndPlainPayload) {
  item i = reading("x", "b", "not json");
  i.range_is_number = false;
  i.payload_field = "";
  ASSERT_TRUE(this->store->put(i));
  auto items = this->store->query("sigfox", "x").value();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_FALSE(items[0].range_is_number);
  EXPECT_EQ(items[0].to_json(), R"({"deviceid":"x","timestamp":"b"})");
}

// Numbers first in numeric order (negative, fractions, integers beyond a double's 53 bits),
// then text bytewise; a numeric bound takes every text key above it, a text bound every
// number below it.
TYPED_TEST_P(ItemStoreCases, NumbersSortBeforeTextAndBoundsCompareLikeSqlite) {
  auto& s = *this->store;
  for (const char* k : {"10", "abc", "-5", "9007199254740993", "2.5", "9007199254740992", "B"}) {
    ASSERT_TRUE(s.put(reading("d", k, "{}")));
  }
  const std::vector<std::string> all{"-5", "2.5", "10", "9007199254740992", "9007199254740993",
                                     "B",  "abc"};
  EXPECT_EQ(range_keys(s.query("sigfox", "d").value()), all);
  range_query r;
  r.descending = true;
  EXPECT_EQ(range_keys(s.query("sigfox", "d", r).value()),
            std::vector<std::string>(all.rbegin(), all.rend()));
  r = {};
  r.from = "3";
  EXPECT_EQ(range_keys(s.query("sigfox", "d", r).value()),
            (std::vector<std::string>{"10", "9007199254740992", "9007199254740993", "B", "abc"}));
  r = {};
  r.to = "9007199254740992";
  EXPECT_EQ(range_keys(s.query("sigfox", "d", r).value()),
            (std::vector<std::string>{"-5", "2.5", "10", "9007199254740992"}));
  r = {};
  r.numeric = false;
  r.from = "C";  // text: after "B", numbers below
  EXPECT_EQ(range_keys(s.query("sigfox", "d", r).value()), std::vector<std::string>{"abc"});
  r = {};
  r.numeric = false;
  r.to = "10";  // text "10" is above every number, below "B"
  EXPECT_EQ(range_keys(s.query("sigfox", "d", r).value()),
            (std::vector<std::string>{"-5", "2.5", "10", "9007199254740992", "9007199254740993"}));
}

REGISTER_TYPED_TEST_SUITE_P(ItemStoreCases, QueryByHashKeyInNumericRangeOrder, SameKeyReplaces,
                            BatchIsOneTransactionAndSurvivesReopen, TheLastOfOneKeyInABatchStays,
                            StringRangeKeysAndPlainPayload,
                            NumbersSortBeforeTextAndBoundsCompareLikeSqlite);

}  // namespace iotblocks::rules::testing
