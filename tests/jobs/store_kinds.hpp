// The stores the jobs suites run against: memory_store, and sqlite_store in a fresh file
// (removed afterwards) that a test may close and open again.
#pragma once

#include <iotblocks/jobs/store.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

namespace iotblocks::jobs::test_stores {

enum class store_kind { memory, sqlite };

/// A fresh path for a SQLite file under the temp directory.
inline std::string fresh_db_path(std::string_view tag) {
  static std::atomic<int> counter{0};
  auto p = std::filesystem::temp_directory_path() /
           ("iotblocks-jobs-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter.fetch_add(1)) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
  return p.string();
}

inline void remove_db(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

class test_store {
 public:
  explicit test_store(store_kind k) : kind_(k) {
    if (k == store_kind::memory) {
      memory_ = std::make_unique<memory_store>();
    } else {
      path_ = fresh_db_path("suite");
      reopen();
    }
  }
  ~test_store() {
    sqlite_.reset();
    if (!path_.empty()) remove_db(path_);
  }
  test_store(const test_store&) = delete;
  test_store& operator=(const test_store&) = delete;

  jobs::store& get() {
    return kind_ == store_kind::memory ? static_cast<jobs::store&>(*memory_) : *sqlite_;
  }
  std::size_t size() const { return memory_ ? memory_->size() : sqlite_->size(); }
  /// sqlite: closes the file and opens it again (get() then returns the new store).
  void reopen() {
    sqlite_.reset();
    auto s = sqlite_store::open(path_);
    if (!s) ADD_FAILURE() << s.describe();
    if (s) sqlite_ = std::move(*s);
  }

 private:
  store_kind kind_;
  std::string path_;
  std::unique_ptr<memory_store> memory_;
  std::unique_ptr<sqlite_store> sqlite_;
};

inline std::string store_name(const ::testing::TestParamInfo<store_kind>& info) {
  return info.param == store_kind::memory ? "memory" : "sqlite";
}

}  // namespace iotblocks::jobs::test_stores

#define IOTBLOCKS_JOBS_ON_EVERY_STORE(suite)                                                      \
  INSTANTIATE_TEST_SUITE_P(Stores, suite,                                                         \
                           ::testing::Values(::iotblocks::jobs::test_stores::store_kind::memory,  \
                                             ::iotblocks::jobs::test_stores::store_kind::sqlite), \
                           ::iotblocks::jobs::test_stores::store_name)
