// One PostgreSQL server for every test of this binary that asks for it (started on
// first use, stopped at exit), and a fresh database on it per test.
#pragma once

#include "postgres/server.hpp"

#include <gtest/gtest.h>

#include <string>

namespace iotblocks::postgres::testing {

inline server& shared_server() {
  static server s;
  return s;
}

/// A new database named after the running test; "" (and a test failure) when none.
inline std::string fresh_database() {
  auto& s = shared_server();
  if (!s.ok()) return {};
  std::string name = "t_";
  for (const char c :
       std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto url = s.create_database(name.substr(0, 60));
  EXPECT_FALSE(url.empty()) << "createdb " << name;
  return url;
}

}  // namespace iotblocks::postgres::testing
