// Several threads updating the same shadows: every accepted update gets its own
// version, nothing is lost, and clients looping on 409 (optimistic concurrency) count
// exactly. Run on the memory store and on SQLite with group commit.
#include <iotblocks/core/clock.hpp>
#include <iotblocks/shadow.hpp>

#include "core/json.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace iotblocks::shadow {
namespace {

std::int64_t int_field(const std::string& json, std::string_view key) {
  auto doc = json::parse(json);
  if (!doc) return -1;
  return json::get_int64(*doc, key).value_or(-1);
}

// The "n" a client reads from a get/accepted body, and the version it came with.
std::pair<std::int64_t, std::int64_t> read_counter(service& svc, const shadow_key& key) {
  const outcome o = svc.get(key);
  if (o.status == 404) return {0, 0};
  auto doc = json::parse(o.body);
  const auto* n = json::find(*json::find(*json::find(*doc, "state"), "reported"), "n");
  return {n->GetInt64(), json::get_int64(*doc, "version").value()};
}

std::unique_ptr<store> make_store(const std::string& kind, const std::string& path) {
  if (kind == "memory") return std::make_unique<memory_store>();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return std::move(sqlite_store::open(path, {.group_commit = true}).value());
}

class Concurrency : public ::testing::TestWithParam<std::string> {
 protected:
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_ = (std::filesystem::temp_directory_path() /
                       ("iotblocks_shadow_conc_" + std::to_string(::getpid()) + ".db"))
                          .string();
};

TEST_P(Concurrency, EveryAcceptedUpdateGetsItsOwnVersion) {
  auto st = make_store(GetParam(), path_);
  manual_clock clock{from_unix_ms(1700000000000)};
  service svc{*st, clock};
  router r{svc};
  constexpr int threads = 4;
  const int per_thread = GetParam() == "memory" ? 2000 : 300;
  std::vector<std::vector<std::int64_t>> versions(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::string payload =
            R"({"state":{"reported":{"t)" + std::to_string(t) + R"(":)" + std::to_string(i) + "}}}";
        auto msgs = r.route("$aws/things/shared/shadow/update", payload);
        ASSERT_TRUE(msgs && !msgs->empty());
        ASSERT_EQ((*msgs)[0].topic, "$aws/things/shared/shadow/update/accepted");
        versions[t].push_back(int_field((*msgs)[0].payload, "version"));
      }
    });
  }
  for (auto& th : pool) th.join();
  std::set<std::int64_t> all;
  for (const auto& v : versions) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // each thread sees its versions grow
    all.insert(v.begin(), v.end());
  }
  const auto total = static_cast<std::size_t>(threads * per_thread);
  EXPECT_EQ(all.size(), total);
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), static_cast<std::int64_t>(total));
  const outcome final = svc.get({"shared", ""});
  for (int t = 0; t < threads; ++t) {
    EXPECT_NE(final.body.find("\"t" + std::to_string(t) + "\":" + std::to_string(per_thread - 1)),
              std::string::npos);
  }
}

TEST_P(Concurrency, OptimisticClientsRetryingOn409CountExactly) {
  auto st = make_store(GetParam(), path_);
  manual_clock clock{from_unix_ms(1700000000000)};
  service svc{*st, clock};
  const shadow_key key{"counter", "c"};
  constexpr int threads = 4;
  const int increments = GetParam() == "memory" ? 500 : 100;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < increments; ++i) {
        for (;;) {
          auto [n, version] = read_counter(svc, key);
          const outcome o =
              svc.update(key, R"({"state":{"reported":{"n":)" + std::to_string(n + 1) +
                                  R"(}},"version":)" + std::to_string(version) + "}");
          if (o.status == 200) break;
          ASSERT_EQ(o.status, 409) << o.body;
          conflicts.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  auto [n, version] = read_counter(svc, key);
  EXPECT_EQ(n, threads * increments);
  EXPECT_EQ(version, threads * increments);
  RecordProperty("conflicts", conflicts.load());
}

INSTANTIATE_TEST_SUITE_P(Shadow, Concurrency, ::testing::Values("memory", "sqlite"));

}  // namespace
}  // namespace iotblocks::shadow
