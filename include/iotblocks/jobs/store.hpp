// Where jobs and their executions live: an interface whose one write, commit(), is atomic
// and durable before it returns, an in-memory store and a SQLite store.
//
//   auto store = iotblocks::jobs::sqlite_store::open("jobs.db").value();
//   iotblocks::jobs::batch b;
//   b.executions.push_back(iotblocks::jobs::queue("fw-1", "lamp", 1, now));
//   store->commit(b);                // in the file (fsync) when it returns
//   store->pending("lamp").size();   // 1
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/jobs/model.hpp>

#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::jobs {

/// A thing's pending executions as its devices were last told by notify / notify-next.
struct pending_view {
  std::vector<std::string> ids;  ///< "jobId#executionNumber", sorted
  std::string next;              ///< the first of them in queue order ("" when none)
  friend bool operator==(const pending_view&, const pending_view&) = default;
};

/// One atomic change: jobs written (inserted or replaced), executions written, jobs erased
/// with all their executions, and single executions erased (erasures apply first).
struct batch {
  std::vector<std::string> erased_jobs;
  std::vector<job> jobs;
  std::vector<execution> executions;
  std::vector<std::pair<std::string, std::string>> erased_executions;  ///< (thing, job id)
  /// Things appended to a rolled-out job's release order (job id, things): all of a new
  /// job's, or one a continuous job reaches later; erased with the job.
  std::vector<std::pair<std::string, std::vector<std::string>>> rollouts = {};
  std::vector<job_template> templates = {};        ///< written (inserted or replaced)
  std::vector<std::string> erased_templates = {};  ///< erased first
  /// Pushes owed to a thing's devices, left for the process that publishes (a gateway) by
  /// one that cannot (service::announce_pushes): the thing and its pending executions as
  /// its devices knew them before this batch. A thing already owed keeps its first view.
  std::vector<std::pair<std::string, pending_view>> announced = {};
  std::vector<std::string> erased_announced = {};  ///< things whose pushes went out; first
  /// Ended attempts of retried executions, kept beside the execution's current attempt
  /// (written as they are; erased with their execution or job).
  std::vector<execution> attempts = {};
  bool empty() const noexcept {
    return erased_jobs.empty() && jobs.empty() && executions.empty() && erased_executions.empty() &&
           rollouts.empty() && templates.empty() && erased_templates.empty() && announced.empty() &&
           erased_announced.empty() && attempts.empty();
  }
};

/// Storage for jobs. The service serialises its calls; implementations are safe to share
/// between threads all the same.
class store {
 public:
  virtual ~store() = default;

  /// Applies `b` all or nothing; durable before it returns. Errors: the store's, or
  /// error::store_changed (nothing written) from a store shared by several processes when a
  /// row `b` writes changed since this process read it after the last begin_reads().
  virtual std::error_code commit(const batch& b) = 0;
  /// The service starts an operation: the reads from here on are what its commit is based
  /// on (a store that checks writes against reads forgets older reads). Default: nothing.
  virtual void begin_reads() {}
  /// Applies `b` to what the reads see now and returns the commit's outcome, ready once `b`
  /// is durable (so that a caller can release its own lock while the commit is in flight and
  /// commits of concurrent callers are grouped). Batches become durable in call order; a
  /// failed one fails those after it too. Default: commit(b), ready at once.
  virtual std::future<std::error_code> commit_deferred(const batch& b);
  /// Whether commit_deferred groups commits (else callers use commit: no future to make).
  virtual bool groups_commits() const noexcept { return false; }

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
  /// Every execution on a thing, terminal ones too, in queue order. Default: through
  /// job_ids() and find_execution().
  virtual std::vector<execution> executions_for(std::string_view thing) const;
  /// Non-terminal executions whose deadline() is set and ≤ now.
  virtual std::vector<execution> due(std::int64_t now) const = 0;
  /// The largest execution sequence stored (0 if none), so a service continues after it.
  virtual std::uint64_t last_sequence() const = 0;
  /// Job ids, sorted.
  virtual std::vector<std::string> job_ids() const = 0;
  /// Things [from, from + count) of a rolled-out job, in release order (fewer at the end).
  virtual std::vector<std::string> rollout_targets(std::string_view job_id, std::size_t from,
                                                   std::size_t count) const = 0;
  /// Ids of IN_PROGRESS jobs whose rollout has things left, sorted.
  virtual std::vector<std::string> rolling_out() const = 0;
  /// Ids of jobs with a schedule still to run: SCHEDULED, or IN_PROGRESS with an endTime
  /// not applied yet; sorted. Default: through job_ids() and find_job().
  virtual std::vector<std::string> scheduled() const;
  /// Ids of the jobs whose schedule acts by `now`: SCHEDULED with startTime ≤ now, or
  /// IN_PROGRESS with an endTime ≤ now not applied yet; sorted. What each tick() reads.
  /// Default: scheduled() filtered through find_job().
  virtual std::vector<std::string> schedule_due(std::int64_t now) const;
  virtual std::optional<job_template> find_template(std::string_view id) const = 0;
  /// Job template ids, sorted.
  virtual std::vector<std::string> template_ids() const = 0;
  /// The ended attempts of `thing`'s execution of `job_id` before its current one
  /// (batch::attempts), by executionNumber. Default: none (a store that does not keep them).
  virtual std::vector<execution> attempts(std::string_view thing, std::string_view job_id) const {
    (void)thing, (void)job_id;
    return {};
  }
  /// The pushes owed (batch::announced), by thing. Default: none (a store that does not
  /// keep them).
  virtual std::vector<std::pair<std::string, pending_view>> announced() const { return {}; }
  /// Reads in what other processes committed since this one last read the store, for a
  /// store that serves reads from a copy. Returns true when the reads changed. Default:
  /// false (every read goes to the record, or one process owns it).
  virtual bool refresh() { return false; }
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
  std::vector<execution> executions_for(std::string_view thing) const override;
  std::vector<execution> due(std::int64_t now) const override;
  std::uint64_t last_sequence() const override;
  std::vector<std::string> job_ids() const override;
  std::vector<std::string> rollout_targets(std::string_view job_id, std::size_t from,
                                           std::size_t count) const override;
  std::vector<std::string> rolling_out() const override;
  std::vector<std::string> scheduled() const override;
  std::optional<job_template> find_template(std::string_view id) const override;
  std::vector<std::string> template_ids() const override;
  std::vector<std::pair<std::string, pending_view>> announced() const override;
  std::vector<execution> attempts(std::string_view thing, std::string_view job_id) const override;

  /// Executions held.
  std::size_t size() const;
  /// Takes `other`'s content in one step (readers see the old content or the new, never a
  /// mix); `other` is left empty.
  void replace_with(memory_store& other);

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

/// Jobs in a SQLite file (WAL, synchronous=FULL). Reads are served from a copy of the whole
/// store in memory (a memory_store), loaded at open. commit_deferred() changes the copy at
/// once and queues the batch; a committer thread writes all batches queued in one
/// transaction and then readies their outcomes (group commit). When a transaction fails,
/// the copy is loaded from the file again and every queued batch fails.
/// Several processes may open one file (a gateway and the `iotblocks jobs` CLI): each
/// transaction first compares SQLite's `PRAGMA data_version` with the one its copy was read
/// at, and when another connection committed in between it writes nothing, reloads the copy
/// and fails the queued batches with error::store_changed (the service runs them again on
/// the fresh copy). refresh() reloads the copy when the file changed and no write is queued.
/// Distinct objects: safe. Shared objects: safe.
class sqlite_store final : public store {
 public:
  /// Opens (or creates) the file and loads it. Errors: SQLite's ("iotblocks.sqlite"), or
  /// invalid_request naming the row when the file holds a row this version cannot read.
  static result<std::unique_ptr<sqlite_store>> open(const std::string& path);
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  std::error_code commit(const batch& b) override;
  std::future<std::error_code> commit_deferred(const batch& b) override;
  bool groups_commits() const noexcept override { return true; }
  std::optional<job> find_job(std::string_view id) const override;
  std::optional<std::string> find_document(std::string_view id) const override;
  std::optional<execution> find_execution(std::string_view thing,
                                          std::string_view job_id) const override;
  std::vector<execution> pending(std::string_view thing) const override;
  std::vector<execution> executions_of(std::string_view job_id) const override;
  std::vector<execution> executions_for(std::string_view thing) const override;
  std::vector<execution> due(std::int64_t now) const override;
  std::uint64_t last_sequence() const override;
  std::vector<std::string> job_ids() const override;
  std::vector<std::string> rollout_targets(std::string_view job_id, std::size_t from,
                                           std::size_t count) const override;
  std::vector<std::string> rolling_out() const override;
  std::vector<std::string> scheduled() const override;
  std::optional<job_template> find_template(std::string_view id) const override;
  std::vector<std::string> template_ids() const override;
  std::vector<std::pair<std::string, pending_view>> announced() const override;
  std::vector<execution> attempts(std::string_view thing, std::string_view job_id) const override;
  /// Reloads the copy when another connection committed to the file since it was read
  /// (one `PRAGMA data_version` when nothing changed). While batches of this store are
  /// queued it reads nothing and returns false (their transaction checks instead).
  bool refresh() override;

  /// Executions held.
  std::size_t size() const;
  /// Copies loaded from the file again after open (another process's commits).
  std::uint64_t reloads() const noexcept;
  /// Transactions committed since open (fewer than batches when commits were grouped).
  std::uint64_t commits() const noexcept;

 private:
  struct impl;
  explicit sqlite_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::jobs

IOTBLOCKS_API_END
