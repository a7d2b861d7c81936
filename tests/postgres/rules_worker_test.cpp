// `iotblocks rules worker` processes on a real mosquitto with a shared subscription, their
// dynamoDB items in one real PostgreSQL database: a worker SIGKILLed mid-stream and restarted
// with its client id loses no message and duplicates none (rules/worker_stream.hpp, which the
// SQLite variant in tests/rules/worker_test.cpp runs too).
#include <iotblocks/postgres/item_store.hpp>

#include "postgres/server.hpp"
#include "rules/worker_stream.hpp"

#include <gtest/gtest.h>

namespace iotblocks::postgres {
namespace {

TEST(RulesWorkerOnPostgres, KilledMidStreamTwoWorkersLoseAndDuplicateNoItem) {
  testing::server db;
  ASSERT_TRUE(db.ok());
  rules::worker_testing::killed_mid_stream(
      db.url(), [&]() -> result<std::shared_ptr<rules::item_store>> {
        auto s = item_store::open(db.url());
        if (!s) return std::move(s).take_failure();
        return std::shared_ptr<rules::item_store>(std::move(*s));
      });
}

}  // namespace
}  // namespace iotblocks::postgres
