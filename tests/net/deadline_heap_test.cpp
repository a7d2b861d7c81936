// The deadline heap behind the one timer per io thread: expiry order, cancel,
// re-arm later (lazy) and earlier, entries that arm others while expiring.
#include "net/deadline_heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace iotblocks::net::detail {
namespace {

using namespace std::chrono_literals;
using time_point = deadline_heap::time_point;
const time_point t0 = deadline_heap::clock::now();

struct item final : deadline_heap::entry {
  int id = 0;
  std::vector<int>* log = nullptr;
  void expired() override { log->push_back(id); }
};

struct fixture {
  explicit fixture(int n) : items(static_cast<std::size_t>(n)) {
    for (int i = 0; i < n; ++i) {
      items[static_cast<std::size_t>(i)].id = i;
      items[static_cast<std::size_t>(i)].log = &log;
    }
  }
  item& operator[](int i) { return items[static_cast<std::size_t>(i)]; }
  deadline_heap heap;
  std::vector<item> items;
  std::vector<int> log;
};

TEST(DeadlineHeap, ExpiresInDeadlineOrderAndOnlyWhatIsDue) {
  fixture f(5);
  const int order[] = {3, 0, 4, 1, 2};
  for (int k = 0; k < 5; ++k) f.heap.arm(f[order[k]], t0 + std::chrono::seconds(k + 1));
  EXPECT_EQ(f.heap.next(), t0 + 1s);
  EXPECT_EQ(f.heap.expire(t0 + 500ms), 0u);
  EXPECT_EQ(f.heap.expire(t0 + 3s), 3u);  // deadlines at 1 s, 2 s and 3 s (at: due)
  EXPECT_EQ(f.log, (std::vector<int>{3, 0, 4}));
  EXPECT_FALSE(f[3].armed());
  EXPECT_TRUE(f[1].armed());
  EXPECT_EQ(f.heap.next(), t0 + 4s);
  EXPECT_EQ(f.heap.expire(t0 + 10s), 2u);
  EXPECT_EQ(f.log, (std::vector<int>{3, 0, 4, 1, 2}));
  EXPECT_EQ(f.heap.size(), 0u);
  EXPECT_EQ(f.heap.next(), time_point::max());
}

TEST(DeadlineHeap, CancelledEntriesNeverExpire) {
  fixture f(4);
  for (int i = 0; i < 4; ++i) f.heap.arm(f[i], t0 + std::chrono::seconds(i + 1));
  f.heap.cancel(f[0]);  // the root
  f.heap.cancel(f[2]);  // an inner one
  f.heap.cancel(f[2]);  // twice: no-op
  EXPECT_FALSE(f[0].armed());
  EXPECT_EQ(f[0].due(), time_point::max());
  EXPECT_EQ(f.heap.size(), 2u);
  EXPECT_EQ(f.heap.expire(t0 + 10s), 2u);
  EXPECT_EQ(f.log, (std::vector<int>{1, 3}));
}

TEST(DeadlineHeap, RearmLaterDefersTheExpiryWithoutMovingTheHeapHead) {
  fixture f(2);
  f.heap.arm(f[0], t0 + 1s);
  f.heap.arm(f[1], t0 + 2s);
  f.heap.arm(f[0], t0 + 5s);  // a read: the deadline moves later
  EXPECT_EQ(f[0].due(), t0 + 5s);
  EXPECT_EQ(f.heap.next(), t0 + 1s);  // the heap catches up when 1 s comes
  EXPECT_EQ(f.heap.expire(t0 + 1s), 0u);
  EXPECT_EQ(f.heap.next(), t0 + 2s);
  EXPECT_EQ(f.heap.expire(t0 + 4s), 1u);
  EXPECT_EQ(f.log, (std::vector<int>{1}));
  EXPECT_TRUE(f[0].armed());
  EXPECT_EQ(f.heap.expire(t0 + 5s), 1u);
  EXPECT_EQ(f.log, (std::vector<int>{1, 0}));
}

TEST(DeadlineHeap, RearmEarlierMovesTheHeapHead) {
  fixture f(3);
  f.heap.arm(f[0], t0 + 10s);
  f.heap.arm(f[1], t0 + 20s);
  f.heap.arm(f[2], t0 + 30s);
  f.heap.arm(f[2], t0 + 2s);  // a close's linger: earlier than the keep-alive
  EXPECT_EQ(f.heap.next(), t0 + 2s);
  EXPECT_EQ(f.heap.expire(t0 + 2s), 1u);
  EXPECT_EQ(f.log, (std::vector<int>{2}));
  f.heap.arm(f[2], t0 + 15s);  // expired entries can be armed again
  EXPECT_EQ(f.heap.expire(t0 + 30s), 3u);
  EXPECT_EQ(f.log, (std::vector<int>{2, 0, 2, 1}));
}

struct chain final : deadline_heap::entry {
  deadline_heap* heap = nullptr;
  deadline_heap::entry* next = nullptr;
  int fired = 0;
  void expired() override {
    ++fired;
    if (next) heap->cancel(*next);  // e.g. a connection closing another's stream
    if (fired == 1) heap->arm(*this, t0 + 100s);
  }
};

TEST(DeadlineHeap, ExpiredMayArmAndCancelEntries) {
  deadline_heap heap;
  chain a, b;
  a.heap = b.heap = &heap;
  a.next = &b;
  heap.arm(a, t0 + 1s);
  heap.arm(b, t0 + 2s);
  EXPECT_EQ(heap.expire(t0 + 3s), 1u);  // a fired, cancelled b, re-armed itself
  EXPECT_EQ(a.fired, 1);
  EXPECT_EQ(b.fired, 0);
  EXPECT_TRUE(a.armed());
  EXPECT_EQ(heap.next(), t0 + 100s);
}

TEST(DeadlineHeap, RandomOperationsMatchASortedModel) {
  std::mt19937 rng(27);
  fixture f(200);
  std::vector<time_point> model(200, time_point::max());  // due per item, max: not armed
  auto now = t0;
  for (int round = 0; round < 5000; ++round) {
    const int i = static_cast<int>(rng() % 200);
    switch (rng() % 4) {
      case 0:
      case 1: {
        const auto due = now + std::chrono::milliseconds(rng() % 1000);
        f.heap.arm(f[i], due);
        model[static_cast<std::size_t>(i)] = due;
        break;
      }
      case 2:
        f.heap.cancel(f[i]);
        model[static_cast<std::size_t>(i)] = time_point::max();
        break;
      default: {
        now += std::chrono::milliseconds(rng() % 100);
        const auto before = model;
        std::vector<int> want;
        for (int k = 0; k < 200; ++k) {
          if (model[static_cast<std::size_t>(k)] <= now) {
            want.push_back(k);
            model[static_cast<std::size_t>(k)] = time_point::max();
          }
        }
        f.log.clear();
        ASSERT_EQ(f.heap.expire(now), want.size());
        // Earliest first (equal deadlines in any order), each due one exactly once.
        for (std::size_t k = 1; k < f.log.size(); ++k) {
          EXPECT_LE(before[static_cast<std::size_t>(f.log[k - 1])],
                    before[static_cast<std::size_t>(f.log[k])]);
        }
        std::vector<int> got = f.log;
        std::sort(got.begin(), got.end());
        ASSERT_EQ(got, want);
      }
    }
    for (int k = 0; k < 200; ++k) {
      ASSERT_EQ(f[k].armed(), model[static_cast<std::size_t>(k)] != time_point::max());
    }
  }
}

}  // namespace
}  // namespace iotblocks::net::detail
