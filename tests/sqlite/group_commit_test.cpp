// The group-commit queue behind the broker's and the shadows' SQLite stores.
#include "sqlite/group_commit.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <vector>

namespace iotblocks::core {
namespace {

TEST(GroupCommit, BatchesAreAtMostMaxBatchAndKeepTheOrder) {
  std::mutex m;
  std::vector<std::size_t> sizes;
  std::vector<int> seen;
  {
    group_commit<int> q{[&](std::vector<int>& batch) {
                          std::lock_guard lock(m);
                          sizes.push_back(batch.size());
                          seen.insert(seen.end(), batch.begin(), batch.end());
                        },
                        3};
    for (int i = 0; i < 10; ++i) q.push(i);  // queued before the thread starts
    q.start();
  }  // the destructor commits what is left
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 3, 1}));
}

TEST(GroupCommit, NeverStartedCommitsOnDestruction) {
  std::vector<int> seen;
  {
    group_commit<int> q{
        [&](std::vector<int>& batch) { seen.insert(seen.end(), batch.begin(), batch.end()); }};
    q.push(7);
    q.push_with([](std::vector<int>& queue) { queue.push_back(static_cast<int>(queue.size())); });
  }
  EXPECT_EQ(seen, (std::vector<int>{7, 1}));
}

TEST(GroupCommit, TakeAllEmptiesTheQueue) {
  std::promise<void> entered, release;
  auto gate = release.get_future().share();
  std::vector<int> committed;
  group_commit<int> q{[&](std::vector<int>& batch) {
    if (batch.front() == 0) {  // the first commit blocks until the test has taken the rest
      entered.set_value();
      gate.wait();
    }
    committed.insert(committed.end(), batch.begin(), batch.end());
  }};
  q.start();
  q.push(0);
  entered.get_future().wait();
  q.push(1);
  q.push(2);
  EXPECT_EQ(q.take_all(), (std::vector<int>{1, 2}));
  release.set_value();
}

}  // namespace
}  // namespace iotblocks::core
