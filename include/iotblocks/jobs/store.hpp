// Where jobs and their executions live: an interface whose one write, commit(), is atomic
// and durable before it returns, and an in-memory store.
//
//   iotblocks::jobs::memory_store store;
//   iotblocks::jobs::batch b;
//   b.executions.push_back(iotblocks::jobs::queue("fw-1", "lamp", 1, now));
//   store.commit(b);
//   store.pending("lamp").size();   // 1
#pragma once

#include <iotblocks/jobs/model.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace iotblocks::jobs {

/// One atomic change: jobs written (inserted or replaced), executions written, and jobs
/// erased with all their executions (erasures apply first).
struct batch {
  std::vector<std::string> erased_jobs;
  std::vector<job> jobs;
  std::vector<execution> executions;
  bool empty() const noexcept { return erased_jobs.empty() && jobs.empty() && executions.empty(); }
};

/// Storage for jobs. The service serialises its calls; implementations are safe to share
/// between threads all the same.
class store {
 public:
  virtual ~store() = default;

  /// Applies `b` all or nothing; durable before it returns. Errors: the store's.
  virtual std::error_code commit(const batch& b) = 0;

  virtual std::optional<job> find_job(std::string_view id) const = 0;
  /// The job's document alone (no copy of its targets). Default: from find_job.
  virtual std::optional<std::string> find_document(std::string_view id) const;
  virtual std::optional<execution> find_execution(std::string_view thing,
                                                  std::string_view job_id) const = 0;
  /// The thing's QUEUED and IN_PROGRESS executions: IN_PROGRESS first, each group oldest
  /// first (by sequence).
  virtual std::vector<execution> pending(std::string_view thing) const = 0;
  /// Every execution of a job, in no particular order.
  virtual std::vector<execution> executions_of(std::string_view job_id) const = 0;
  /// Non-terminal executions whose deadline() is set and ≤ now.
  virtual std::vector<execution> due(std::int64_t now) const = 0;
  /// The largest execution sequence stored (0 if none), so a service continues after it.
  virtual std::uint64_t last_sequence() const = 0;
  /// Job ids, sorted.
  virtual std::vector<std::string> job_ids() const = 0;
};

/// Jobs in memory. Distinct objects: safe. Shared objects: safe.
class memory_store final : public store {
 public:
  memory_store();
  ~memory_store() override;
  memory_store(const memory_store&) = delete;
  memory_store& operator=(const memory_store&) = delete;

  std::error_code commit(const batch& b) override;
  std::optional<job> find_job(std::string_view id) const override;
  std::optional<std::string> find_document(std::string_view id) const override;
  std::optional<execution> find_execution(std::string_view thing,
                                          std::string_view job_id) const override;
  std::vector<execution> pending(std::string_view thing) const override;
  std::vector<execution> executions_of(std::string_view job_id) const override;
  std::vector<execution> due(std::int64_t now) const override;
  std::uint64_t last_sequence() const override;
  std::vector<std::string> job_ids() const override;

  /// Executions held.
  std::size_t size() const;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::jobs
