// Thing types on the embedded SQLite store (thing_types_cases.hpp; the same cases run on
// PostgreSQL in tests/postgres).
#include "registry/thing_types_cases.hpp"

#include <filesystem>

#include <unistd.h>

namespace {

using namespace iotblocks::registry;

/// A file per test, removed at the end.
struct sqlite_types {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("iotblocks-types-" + std::to_string(::getpid()) + ".db"))
                         .string();
  sqlite_types() { clean(); }
  ~sqlite_types() { clean(); }
  void clean() const {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  }
  bool ok() const { return true; }
  iotblocks::result<std::unique_ptr<thing_types>> open(const iotblocks::clock& c) const {
    return thing_types::open(path, c);
  }
};

}  // namespace

namespace iotblocks::registry::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ThingTypesCases, ::testing::Types<sqlite_types>);
}  // namespace iotblocks::registry::testing
