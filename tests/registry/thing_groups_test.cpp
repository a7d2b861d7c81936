// Thing groups on the embedded SQLite store (thing_groups_cases.hpp; the same cases run on
// PostgreSQL in tests/postgres).
#include "registry/thing_groups_cases.hpp"

#include <filesystem>

#include <unistd.h>

namespace {

using namespace iotblocks::registry;

/// A file per test, removed at the end.
struct sqlite_groups {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("iotblocks-groups-" + std::to_string(::getpid()) + ".db"))
                         .string();
  sqlite_groups() { clean(); }
  ~sqlite_groups() { clean(); }
  void clean() const {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  }
  bool ok() const { return true; }
  iotblocks::result<std::unique_ptr<thing_groups>> open() const { return thing_groups::open(path); }
};

}  // namespace

namespace iotblocks::registry::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ThingGroupsCases, ::testing::Types<sqlite_groups>);
}  // namespace iotblocks::registry::testing
