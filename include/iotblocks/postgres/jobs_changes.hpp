// What changed in a shared jobs store, as PostgreSQL announces it: every postgres::jobs_store
// commit sends NOTIFY iotblocks_jobs with the things whose executions it wrote or erased
// (delivered at COMMIT, only if it commits). A jobs_changes listens on its own connection
// and hands out those things; it also holds a lease (a session advisory lock) that one
// process of many holds at a time and loses when its connection drops (a killed process),
// so that one of several `jobs worker` replicas publishes each change's pushes.
//
//   auto c = iotblocks::postgres::jobs_changes::open(url, "iotblocks-jobs").value();
//   if (c->try_lead().value())          // this process publishes
//     for (auto& thing : c->take().value()) …   // when c->socket() is readable
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <memory>
#include <string>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::postgres {

/// Distinct objects: safe. Shared objects: unsafe.
class jobs_changes {
 public:
  /// Connects and listens. `lease`: the name of the lease try_lead() takes (one holder per
  /// name and database). Errors: connection_failed, statement_failed.
  static result<std::unique_ptr<jobs_changes>> open(const std::string& url,
                                                    const std::string& lease);
  ~jobs_changes();
  jobs_changes(const jobs_changes&) = delete;
  jobs_changes& operator=(const jobs_changes&) = delete;

  /// The connection's socket: readable when announcements may have arrived. Another one
  /// after reconnect().
  int socket() const noexcept;
  /// The things announced since the last call, distinct and sorted (non-blocking).
  /// Errors: connection_failed (reconnect(); what was announced meanwhile is lost).
  result<std::vector<std::string>> take();
  /// Takes the lease if no other connection holds it; true while this one does.
  /// Errors: connection_failed, statement_failed.
  result<bool> try_lead();
  bool leading() const noexcept;
  /// A new connection, listening again (the lease went with the old one).
  result<void> reconnect();

 private:
  struct impl;
  explicit jobs_changes(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::postgres

IOTBLOCKS_API_END
