// Test helper: the PostgreSQL server of server.hpp for tests written in other languages
// (tests/mosquitto_plugin/mosquitto_plugin_postgres_test.py). Prints the libpq URI of database
// `iot` on one line, then serves until its standard input closes, then stops the server and
// removes its directory.
//
//   postgres_test_server        # prints postgresql://iot@127.0.0.1:<port>/iot?connect_timeout=10
#include "postgres/server.hpp"

#include <iostream>
#include <string>

int main() {
  iotblocks::postgres::testing::server s;
  if (!s.ok()) {
    std::cerr << "postgres_test_server: the server did not start\n";
    return 1;
  }
  std::cout << s.url() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}
