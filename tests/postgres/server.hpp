// A PostgreSQL server for one test: initdb in a temporary directory, pg_ctl start on
// 127.0.0.1 and a free port, trust authentication for the test's role, stopped and
// removed at the end. Run as root, the server runs as the `postgres` user that
// Debian's postgresql package creates (PostgreSQL refuses to run as root).
#pragma once

#include <string>

namespace iotblocks::postgres::testing {

class server {
 public:
  server();  ///< ASSERTs inside a test: check ok() after constructing
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  bool ok() const { return !url_.empty(); }
  /// libpq URI of the database `iot` as role `iot`.
  const std::string& url() const { return url_; }
  /// Creates database `name` on this server and returns its libpq URI ("" on failure),
  /// so that tests sharing one server start from empty tables.
  std::string create_database(const std::string& name);
  /// Stops the server at once (SIGQUIT-like immediate shutdown) and starts it again.
  bool restart_immediately();

 private:
  bool start();
  std::string dir_, bin_, url_, as_user_;
  int port_ = 0;
};

}  // namespace iotblocks::postgres::testing
