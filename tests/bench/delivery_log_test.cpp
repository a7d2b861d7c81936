// iotblocks-bench's loss accounting: a broker that drops messages is reported as
// losing exactly those, redeliveries count as duplicates and never hide a loss.
#include "delivery_log.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

namespace {

using iotblocks::bench::count_lost;
using iotblocks::bench::delivery_log;

// A broker between 2 publishers (100 messages each) and 3 subscribers that drops
// the deliveries in `dropped` (subscriber, publisher, seq) and delivers the
// deliveries in `again` a second time, as after a QoS 1 reconnect.
struct lossy_broker {
  std::set<std::tuple<unsigned, std::uint32_t, std::uint32_t>> dropped, again;
  std::uint64_t run(std::vector<delivery_log>& logs) const {
    std::uint64_t unique = 0;
    for (unsigned s = 0; s < logs.size(); ++s) {
      for (std::uint32_t seq = 0; seq < 100; ++seq) {
        for (std::uint32_t p = 0; p < 2; ++p) {
          if (dropped.contains({s, p, seq})) continue;
          logs[s].record(p, seq);
          if (again.contains({s, p, seq})) logs[s].record(p, seq);
        }
      }
      unique += logs[s].unique();
    }
    return unique;
  }
};

TEST(DeliveryLog, DroppedMessagesAreLost) {
  lossy_broker broker;
  broker.dropped = {{0, 0, 5}, {0, 1, 99}, {2, 0, 0}};
  std::vector<delivery_log> logs(3, delivery_log{2});
  const auto unique = broker.run(logs);
  const std::vector<std::uint64_t> sent{100, 100};
  const std::vector<std::uint32_t> fanout{3, 3};
  const auto l = count_lost(sent, fanout, unique);
  EXPECT_EQ(l.expected, 600u);
  EXPECT_EQ(l.lost, 3u);
  EXPECT_EQ(l.extra, 0u);
}

TEST(DeliveryLog, RedeliveriesDoNotHideLosses) {
  // As many redeliveries as drops: counting every arrival would report nothing lost.
  lossy_broker broker;
  broker.dropped = {{1, 0, 10}, {1, 0, 11}};
  broker.again = {{1, 0, 12}, {0, 1, 50}};
  std::vector<delivery_log> logs(3, delivery_log{2});
  const auto unique = broker.run(logs);
  const std::vector<std::uint64_t> sent{100, 100};
  const std::vector<std::uint32_t> fanout{3, 3};
  EXPECT_EQ(count_lost(sent, fanout, unique).lost, 2u);
  EXPECT_EQ(logs[1].duplicates() + logs[0].duplicates(), 2u);
  EXPECT_EQ(logs[1].unique(), 198u);
}

TEST(DeliveryLog, GapsAdvanceTheWindowOnceAndLateArrivalsDoNot) {
  delivery_log log{1};
  EXPECT_EQ(log.record(0, 0).advanced, 1u);
  auto r = log.record(0, 4);  // 1..3 missing: the window moves past them
  EXPECT_TRUE(r.fresh);
  EXPECT_EQ(r.advanced, 4u);
  r = log.record(0, 2);  // late, out of order: a message, not a window move
  EXPECT_TRUE(r.fresh);
  EXPECT_EQ(r.advanced, 0u);
  r = log.record(0, 2);
  EXPECT_FALSE(r.fresh);
  EXPECT_EQ(log.unique(), 3u);
  EXPECT_EQ(log.duplicates(), 1u);
}

TEST(DeliveryLog, UnknownPublisherIsIgnored) {
  delivery_log log{2};
  EXPECT_FALSE(log.record(7, 0).fresh);
  EXPECT_EQ(log.unique(), 0u);
}

TEST(DeliveryLog, MoreThanExpectedIsExtraNotNegativeLoss) {
  const std::vector<std::uint64_t> sent{10};
  const std::vector<std::uint32_t> fanout{2};
  const auto l = count_lost(sent, fanout, 23);
  EXPECT_EQ(l.lost, 0u);
  EXPECT_EQ(l.extra, 3u);
}

}  // namespace
