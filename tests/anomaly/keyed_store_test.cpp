#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/keyed_store.hpp>
#include <iotblocks/anomaly/pewma.hpp>
#include <iotblocks/core/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/sqlite.hpp"

namespace iotblocks::anomaly {
namespace {

double reading(std::size_t i, std::size_t k) {
  return 10 + 3 * std::sin(static_cast<double>(i) / 20 + static_cast<double>(k)) +
         (i % 53 == 0 ? 9 : 0) + 0.1 * static_cast<double>(k % 7);
}

void expect_same(const point_result& a, const point_result& b) {
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(a.anomaly, b.anomaly);
  if (!std::isnan(a.mean)) {
    EXPECT_EQ(a.mean, b.mean);
  }
  if (!std::isnan(a.z)) {
    EXPECT_EQ(a.z, b.z);
  }
}

TEST(KeyedStore, EachKeyFieldPairIsItsOwnSeries) {
  const auto model = make_detector("pewma").value();
  keyed_store store{model};
  std::map<std::pair<std::string, std::string>, series> ref;
  for (std::size_t i = 0; i < 300; ++i) {
    for (std::size_t k = 0; k < 5; ++k) {
      const std::string key = "station-" + std::to_string(k);
      for (const char* field : {"wind_speed", "temperature"}) {
        const auto got = store.score(key, field, reading(i, k), 0).value();
        auto [it, _] = ref.try_emplace({key, field}, model);
        expect_same(got, it->second.update(reading(i, k)).value());
      }
    }
  }
  EXPECT_EQ(store.size(), 10u);
  EXPECT_TRUE(store.contains("station-3", "temperature"));
  EXPECT_FALSE(store.contains("station-3", "humidity"));
  EXPECT_GT(store.memory_bytes(), 10 * sizeof(pewma_state));
}

class BatchScoring : public testing::TestWithParam<const char*> {};

TEST_P(BatchScoring, EqualsOneAtATime) {
  const auto model = make_detector(GetParam()).value();
  keyed_store one{model}, batch{model};
  std::mt19937 rng{5};
  std::vector<std::string> keys;
  std::vector<keyed_point> points;
  for (int i = 0; i < 5000; ++i) {
    // Lengths 2..25: every path of the short-key comparison; shared prefixes.
    const auto k = rng() % 300;
    keys.push_back("d" + std::to_string(k) + std::string(k % 4 * 7, 'z'));
  }
  keys[17] = "";                                // invalid key
  keys[200] = keys[203] = keys[204] = "fresh";  // new series whose first value is rejected
  for (int i = 0; i < 5000; ++i) {
    const double v = i == 99 || i == 200 ? std::nan("") : static_cast<double>(rng() % 100);
    points.push_back({keys[static_cast<std::size_t>(i)], i % 3 == 0 ? "f" : "field", v, i});
  }
  std::vector<point_result> results(points.size());
  std::vector<std::error_code> errors(points.size());
  for (std::size_t at = 0; at < points.size(); at += 777) {  // uneven batches
    const std::size_t n = std::min<std::size_t>(777, points.size() - at);
    batch.score(std::span{points}.subspan(at, n), std::span{results}.subspan(at, n),
                std::span{errors}.subspan(at, n));
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    point_result r;
    const auto ec =
        one.score(points[i].key, points[i].field, points[i].value, points[i].time_ms, r);
    ASSERT_EQ(ec, errors[i]) << i;
    if (!ec) expect_same(r, results[i]);
  }
  EXPECT_EQ(errors[17], error::invalid_key);
  EXPECT_EQ(errors[99], error::non_finite_value);
  EXPECT_EQ(errors[200], error::non_finite_value);
  EXPECT_FALSE(errors[203]);
  EXPECT_EQ(one.size(), batch.size());
  EXPECT_EQ(one.snapshot().size(), batch.snapshot().size());
}

INSTANTIATE_TEST_SUITE_P(Detectors, BatchScoring, testing::Values("pewma", "ewma", "ensemble"));

TEST(KeyedStore, RejectsBadKeysAndValuesWithoutCreatingSeries) {
  keyed_store store{make_detector("pewma").value()};
  point_result r;
  EXPECT_EQ(store.score("", "f", 1, 0, r), error::invalid_key);
  EXPECT_EQ(store.score("k", "", 1, 0, r), error::invalid_key);
  EXPECT_EQ(store.score(std::string_view("a\0b", 3), "f", 1, 0, r), error::invalid_key);
  EXPECT_EQ(store.score("\xC3\x28", "f", 1, 0, r), error::invalid_key);
  EXPECT_EQ(store.score(std::string(257, 'k'), "f", 1, 0, r), error::invalid_key);
  store.max_key_length(300);
  EXPECT_FALSE(store.score(std::string(257, 'k'), "f", 1, 0, r));
  EXPECT_EQ(store.score("k", "f", std::nan(""), 0, r), error::non_finite_value);
  EXPECT_EQ(store.size(), 1u);
  store.max_series(1);
  EXPECT_EQ(store.score("other", "f", 1, 0, r), error::too_many_series);
  EXPECT_FALSE(store.score(std::string(257, 'k'), "f", 2, 0, r));
}

TEST(KeyedStore, EraseAndReinsertAgreeWithAMapModel) {
  const auto model = make_detector("pewma").value();
  keyed_store store{model};
  std::map<std::pair<std::string, std::string>, series> ref;
  std::mt19937 rng{42};
  for (int step = 0; step < 60000; ++step) {
    const std::string key = "dev" + std::to_string(rng() % 400);
    const std::string field = (rng() % 2) ? "a" : "bb";
    if (rng() % 10 == 0) {
      EXPECT_EQ(store.erase(key, field), ref.erase({key, field}) == 1);
      continue;
    }
    const double v = static_cast<double>(rng() % 1000) / 10;
    const auto got = store.score(key, field, v).value();
    auto [it, _] = ref.try_emplace({key, field}, model);
    expect_same(got, it->second.update(v).value());
    ASSERT_EQ(store.size(), ref.size());
  }
  std::size_t visited = 0;
  store.for_each([&](std::string_view k, std::string_view f, bytes_view) {
    ++visited;
    EXPECT_TRUE(ref.count({std::string(k), std::string(f)}));
  });
  EXPECT_EQ(visited, ref.size());
  store.clear();
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.contains("dev1", "a"));
}

// Series -> encoded state, independent of order.
std::map<std::string, byte_buffer> content(const keyed_store& s) {
  std::map<std::string, byte_buffer> out;
  s.for_each([&](std::string_view k, std::string_view f, bytes_view state) {
    byte_buffer e;
    s.model().encode(state, e);
    out[std::string(k) + "|" + std::string(f)] = e;
  });
  return out;
}

// Feeds the same continuation to two stores and checks identical outputs.
void expect_same_future(keyed_store& a, keyed_store& b, std::size_t keys, std::size_t from) {
  for (std::size_t i = from; i < from + 200; ++i) {
    for (std::size_t k = 0; k < keys; ++k) {
      const std::string key = "k" + std::to_string(k);
      const auto t = static_cast<std::int64_t>(i) * 300'000;
      const auto ra = a.score(key, "v", reading(i, k), t).value();
      const auto rb = b.score(key, "v", reading(i, k), t).value();
      expect_same(ra, rb);
    }
  }
}

void feed(keyed_store& s, std::size_t keys, std::size_t points) {
  for (std::size_t i = 0; i < points; ++i) {
    for (std::size_t k = 0; k < keys; ++k) {
      s.score("k" + std::to_string(k), "v", reading(i, k), static_cast<std::int64_t>(i) * 300'000)
          .value();
    }
  }
}

class SnapshotRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(SnapshotRoundTrip, RestoredStoreContinuesIdentically) {
  keyed_store original{make_detector(GetParam()).value()};
  feed(original, 20, 400);
  original.erase("k3", "v");
  const byte_buffer bytes = original.snapshot();
  auto restored = keyed_store::restore(bytes).value();
  EXPECT_EQ(restored.size(), 19u);
  EXPECT_EQ(restored.model().parameters(), original.model().parameters());
  EXPECT_EQ(restored.snapshot(), bytes);
  expect_same_future(original, restored, 20, 400);
}

INSTANTIATE_TEST_SUITE_P(Detectors, SnapshotRoundTrip,
                         ::testing::Values("pewma", "ewma", "ensemble"));

TEST(KeyedStoreSnapshot, RejectsDamage) {
  keyed_store store{make_detector("pewma").value()};
  feed(store, 3, 50);
  const byte_buffer good = store.snapshot();
  byte_buffer bad = good;
  bad[0] = std::byte{'X'};
  EXPECT_EQ(keyed_store::restore(bad).error(), error::invalid_snapshot);
  bad = good;
  bad[40] ^= std::byte{1};  // CRC catches it
  EXPECT_EQ(keyed_store::restore(bad).error(), error::invalid_snapshot);
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{30}, good.size() - 1}) {
    EXPECT_EQ(keyed_store::restore(bytes_view{good}.first(cut)).error(), error::invalid_snapshot);
  }
  EXPECT_EQ(keyed_store::restore(good, make_detector("pewma", "alpha0=0.9").value()).error(),
            error::detector_mismatch);
  EXPECT_TRUE(keyed_store::restore(good, make_detector("pewma").value()));
}

class KeyedStoreSqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        ("iotblocks-anomaly-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "anomaly.db").string(); }
  std::filesystem::path dir_;
};

TEST_F(KeyedStoreSqlite, SaveLoadContinuesIdentically) {
  for (const char* name : {"pewma", "ensemble"}) {
    std::filesystem::remove(path());
    keyed_store original{make_detector(name).value()};
    feed(original, 30, 300);
    EXPECT_EQ(original.save(path()).value(), 30u);
    auto loaded = keyed_store::load(path()).value();
    EXPECT_EQ(loaded.size(), 30u);
    EXPECT_EQ(content(loaded), content(original));
    expect_same_future(original, loaded, 30, 300);
  }
}

// A file written before the ensemble's likelihood (states without its 296 bytes
// at the end) loads; the series keep their learnt state.
TEST_F(KeyedStoreSqlite, EnsembleStatesFromBeforeTheLikelihoodLoad) {
  keyed_store original{make_detector("ensemble").value()};
  feed(original, 5, 300);
  ASSERT_EQ(original.save(path()).value(), 5u);
  const std::string truncate = "sqlite3 '" + path() +
                               "' 'UPDATE anomaly_series SET state = "
                               "substr(state, 1, length(state) - 296)'";
  ASSERT_EQ(std::system(truncate.c_str()), 0);
  auto loaded = keyed_store::load(path()).value();
  EXPECT_EQ(loaded.size(), 5u);
}

TEST_F(KeyedStoreSqlite, SavesOnlyWhatChangedAndPropagatesErasure) {
  keyed_store store{make_detector("pewma").value()};
  feed(store, 10, 40);
  EXPECT_EQ(store.save(path()).value(), 10u);
  EXPECT_EQ(store.save(path()).value(), 0u);  // nothing changed
  store.score("k2", "v", 1.0).value();
  store.score("new", "v", 1.0).value();
  store.erase("k5", "v");
  EXPECT_EQ(store.save(path()).value(), 2u);
  auto loaded = keyed_store::load(path()).value();
  EXPECT_EQ(loaded.size(), 10u);
  EXPECT_FALSE(loaded.contains("k5", "v"));
  EXPECT_TRUE(loaded.contains("new", "v"));
  EXPECT_EQ(content(loaded), content(store));
  // The loaded store continues the same file incrementally.
  loaded.score("k1", "v", 2.0).value();
  EXPECT_EQ(loaded.save(path()).value(), 1u);
  // Another store writing the same file replaces its content entirely.
  keyed_store other{make_detector("ewma").value()};
  other.score("x", "y", 1.0).value();
  EXPECT_EQ(other.save(path()).value(), 1u);
  auto replaced = keyed_store::load(path()).value();
  EXPECT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced.model().name(), "ewma");
  // ...and the first store notices and rewrites everything next time.
  EXPECT_EQ(store.save(path()).value(), 10u);
}

TEST_F(KeyedStoreSqlite, LoadErrors) {
  EXPECT_EQ(keyed_store::load(path()).error(), core::error::not_found);
  {
    keyed_store store{make_detector("pewma").value()};
    store.score("a", "b", 1).value();
    store.save(path()).value();
  }
  {  // corrupt a state blob behind the store's back
    auto db = sqlite::database::open(path()).value();
    db.exec("UPDATE anomaly_series SET state = x'0102'").value();
  }
  EXPECT_EQ(keyed_store::load(path()).error(), error::invalid_snapshot);
}

}  // namespace
}  // namespace iotblocks::anomaly
