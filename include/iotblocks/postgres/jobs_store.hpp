// AWS IoT Jobs' store (jobs, executions, job templates, rollouts) in PostgreSQL, shared by
// any number of processes: reads go to the database (no copy in memory), and a commit is one
// transaction that writes a job or an execution only if its row is still at the revision
// this process read since the service's last begin_reads(). Otherwise nothing is written
// and commit() returns jobs::error::store_changed, on which jobs::service reads again and
// retries: two gateways updating one execution with one expectedVersion give one winner
// and VersionMismatch for the other, and no update is lost.
//
//   auto s = iotblocks::postgres::jobs_store::open("postgresql://iot@127.0.0.1/iot").value();
//   iotblocks::jobs::service svc{*s};   // every gateway on this database sees its jobs
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/jobs/store.hpp>

#include <memory>
#include <string>

IOTBLOCKS_API_BEGIN

namespace iotblocks::postgres {

/// Distinct objects: safe. Shared objects: safe (one connection, calls serialised).
class jobs_store final : public jobs::store {
 public:
  /// Connects and creates or migrates the schema (tables iotblocks_job*, version in
  /// iotblocks_schema under "jobs"). `url`: a libpq URI or key=value string.
  static result<std::unique_ptr<jobs_store>> open(const std::string& url);
  ~jobs_store() override;
  jobs_store(const jobs_store&) = delete;
  jobs_store& operator=(const jobs_store&) = delete;

  /// One transaction; after COMMIT when it returns. Errors: jobs::error::store_changed,
  /// postgres::error::statement_failed / connection_failed.
  std::error_code commit(const jobs::batch& b) override;
  void begin_reads() override;

  // Reads: one prepared statement each. A failed one (server unreachable) reads as nothing.
  std::optional<jobs::job> find_job(std::string_view id) const override;
  std::optional<std::string> find_document(std::string_view id) const override;
  std::optional<jobs::execution> find_execution(std::string_view thing,
                                                std::string_view job_id) const override;
  std::vector<jobs::execution> pending(std::string_view thing) const override;
  std::vector<jobs::execution> executions_of(std::string_view job_id) const override;
  std::vector<jobs::execution> executions_for(std::string_view thing) const override;
  std::vector<jobs::execution> due(std::int64_t now) const override;
  std::uint64_t last_sequence() const override;
  std::vector<std::string> job_ids() const override;
  std::vector<std::string> rollout_targets(std::string_view job_id, std::size_t from,
                                           std::size_t count) const override;
  std::vector<std::string> rolling_out() const override;
  /// One query on the `schedule_at` column (its partial index): the jobs with a schedule.
  std::vector<std::string> scheduled() const override;
  /// One query on the `schedule_at` index: only the jobs whose schedule is due are read.
  std::vector<std::string> schedule_due(std::int64_t now) const override;
  std::vector<jobs::execution> attempts(std::string_view thing,
                                        std::string_view job_id) const override;
  std::optional<jobs::job_template> find_template(std::string_view id) const override;
  std::vector<std::string> template_ids() const override;

  /// Transactions committed since open.
  std::uint64_t commits() const noexcept;
  /// Rows the store's reads returned since open (what a call costs, for tests).
  std::uint64_t rows_read() const noexcept;

 private:
  struct impl;
  explicit jobs_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::postgres

IOTBLOCKS_API_END
