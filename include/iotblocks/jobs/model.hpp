// The AWS IoT Jobs model as values and pure functions: jobs, job executions, AWS's
// execution state machine, and the device's update of an execution (expected version,
// status details, step timeout). No I/O, no clock: times are passed in (seconds).
//
//   iotblocks::jobs::execution e = iotblocks::jobs::queue("fw-1", "lamp", 1, 1700000000);
//   iotblocks::jobs::update_request u;
//   u.status = iotblocks::jobs::execution_status::in_progress;
//   u.step_timeout_minutes = 5;
//   iotblocks::jobs::apply_update(e, u, 1700000010);   // {}: IN_PROGRESS, version 2
//   e.deadline();                                       // 1700000310
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/jobs/error.hpp>
#include <iotblocks/jobs/scheduling.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::jobs {

/// A job's status (AWS's JobStatus). SCHEDULED: a schedulingConfig startTime not reached yet.
enum class job_status { in_progress, canceled, completed, deletion_in_progress, scheduled };

/// A job execution's status (AWS's JobExecutionStatus).
enum class execution_status {
  queued,
  in_progress,
  succeeded,
  failed,
  timed_out,
  rejected,
  removed,
  canceled
};

inline constexpr execution_status all_execution_statuses[] = {
    execution_status::queued,  execution_status::in_progress, execution_status::succeeded,
    execution_status::failed,  execution_status::timed_out,   execution_status::rejected,
    execution_status::removed, execution_status::canceled};

/// "IN_PROGRESS", "QUEUED", …
std::string_view to_string(job_status s) noexcept;
std::string_view to_string(execution_status s) noexcept;
std::optional<execution_status> parse_execution_status(std::string_view s) noexcept;
std::optional<job_status> parse_job_status(std::string_view s) noexcept;

/// Every status but QUEUED and IN_PROGRESS is terminal.
bool is_terminal(execution_status s) noexcept;

/// Who changes an execution.
enum class actor {
  device,  ///< UpdateJobExecution / StartNextPendingJobExecution
  service  ///< CancelJob(force), thing removal, timeouts
};

/// AWS's execution state machine. A device may move QUEUED or IN_PROGRESS to
/// IN_PROGRESS, SUCCEEDED, FAILED or REJECTED (IN_PROGRESS → IN_PROGRESS reports progress).
/// The service moves QUEUED to CANCELED or REMOVED, and IN_PROGRESS to CANCELED (forced
/// cancel), REMOVED or TIMED_OUT. Nothing leaves a terminal status.
bool transition_allowed(execution_status from, execution_status to, actor who) noexcept;

/// statusDetails: name → value, kept sorted so that replies are deterministic.
using status_details = std::map<std::string, std::string, std::less<>>;

/// CreateJob's documentParameters (managed templates): key → value, sorted.
using parameter_map = std::map<std::string, std::string, std::less<>>;

/// Named limits; defaults are AWS IoT's where AWS has one.
/// Distinct objects: safe. Shared objects: unsafe.
class limits {
 public:
  /// Largest request payload read. Default 131072 (the MQTT payload limit).
  limits& max_request_size(std::size_t n) noexcept { return set(request_, n); }
  std::size_t max_request_size() const noexcept { return request_; }
  /// Largest job document, compact JSON bytes. Default 32768 (AWS: 32 KB).
  limits& max_document_size(std::size_t n) noexcept { return set(document_, n); }
  std::size_t max_document_size() const noexcept { return document_; }
  /// Most targets in one job. Default 100 (AWS's CreateJob `targets`).
  limits& max_targets(std::size_t n) noexcept { return set(targets_, n); }
  std::size_t max_targets() const noexcept { return targets_; }
  /// Longest clientToken. Default 64.
  limits& max_client_token(std::size_t n) noexcept { return set(token_, n); }
  std::size_t max_client_token() const noexcept { return token_; }
  /// Longest thing name ([a-zA-Z0-9:_-]+). Default 128.
  limits& max_thing_name(std::size_t n) noexcept { return set(thing_, n); }
  std::size_t max_thing_name() const noexcept { return thing_; }
  /// Longest job id ([a-zA-Z0-9_-]+). Default 64.
  limits& max_job_id(std::size_t n) noexcept { return set(job_id_, n); }
  std::size_t max_job_id() const noexcept { return job_id_; }
  /// Most statusDetails entries. Default 64 (not an AWS limit: bounds memory).
  limits& max_status_details(std::size_t n) noexcept { return set(details_, n); }
  std::size_t max_status_details() const noexcept { return details_; }
  /// Deepest JSON nesting in a request or job document. Default 32.
  limits& max_depth(unsigned n) noexcept {
    depth_ = n;
    return *this;
  }
  unsigned max_depth() const noexcept { return depth_; }

  /// AWS's fixed limits on statusDetails and timeouts.
  static constexpr std::size_t max_detail_key = 128;          ///< key: 1..128 of [a-zA-Z0-9:_-]
  static constexpr std::size_t max_detail_value = 1024;       ///< value: 1..1024 non-control chars
  static constexpr std::int64_t max_timeout_minutes = 10080;  ///< 1..10080 (7 days)

 private:
  limits& set(std::size_t& field, std::size_t n) noexcept {
    field = n;
    return *this;
  }
  std::size_t request_ = 131072;
  std::size_t document_ = 32768;
  std::size_t targets_ = 100;
  std::size_t token_ = 64;
  std::size_t thing_ = 128;
  std::size_t job_id_ = 64;
  std::size_t details_ = 64;
  unsigned depth_ = 32;
};

/// Checks a thing name: 1..max bytes of [a-zA-Z0-9:_-].
bool valid_thing_name(std::string_view name, std::size_t max) noexcept;
/// Checks a job id: 1..max bytes of [a-zA-Z0-9_-].
bool valid_job_id(std::string_view id, std::size_t max) noexcept;
/// Checks statusDetails against AWS's key and value rules and `l.max_status_details()`;
/// returns a message naming the fault, or an empty string.
std::string check_status_details(const status_details& d, const limits& l);

/// Which ended executions an abort or retry criterion counts (AWS's JobExecutionFailureType
/// and RetryableFailureType). ALL is FAILED, REJECTED and TIMED_OUT for an abort, FAILED and
/// TIMED_OUT for a retry.
enum class failure_type { failed, rejected, timed_out, all };
std::string_view to_string(failure_type t) noexcept;
std::optional<failure_type> parse_failure_type(std::string_view s) noexcept;

/// jobExecutionsRolloutConfig: how many things get their execution per minute.
struct rollout_config {
  std::int64_t maximum_per_minute = 0;    ///< 1..1000; 0: no rollout, all queued at creation
  std::int64_t base_rate_per_minute = 0;  ///< exponentialRate: 1..1000; 0: constant rate
  double increment_factor = 0;            ///< exponentialRate: 1.1..5
  std::int64_t notified_things = 0;       ///< rateIncreaseCriteria.numberOfNotifiedThings; 0: unset
  std::int64_t succeeded_things = 0;  ///< rateIncreaseCriteria.numberOfSucceededThings; 0: unset
  bool enabled() const noexcept { return maximum_per_minute > 0; }
  bool exponential() const noexcept { return base_rate_per_minute > 0; }
  friend bool operator==(const rollout_config&, const rollout_config&) = default;
};

/// Where a rollout stands. Windows are minutes from the job's creation: at most floor(rate)
/// executions are released in one window.
struct rollout_progress {
  std::size_t targets = 0;          ///< things to roll out to (store::rollout_targets)
  std::size_t released = 0;         ///< the first `released` of them have an execution
  double rate = 0;                  ///< executions per minute now
  std::int64_t window_start = 0;    ///< start of the current one-minute window
  std::size_t window_released = 0;  ///< released in the current window
  std::size_t notified_mark = 0;    ///< `released` at the last rate increase
  std::size_t succeeded_mark = 0;   ///< SUCCEEDED count at the last rate increase
  bool done() const noexcept { return released >= targets; }
  friend bool operator==(const rollout_progress&, const rollout_progress&) = default;
};

/// One of abortConfig.criteriaList (action CANCEL, the only one AWS has).
struct abort_criterion {
  failure_type type = failure_type::failed;
  double threshold_percentage = 0;       ///< 0..100, at most two decimals
  std::int64_t min_executed_things = 1;  ///< ≥ 1
  friend bool operator==(const abort_criterion&, const abort_criterion&) = default;
};

/// One of jobExecutionsRetryConfig.criteriaList.
struct retry_criterion {
  failure_type type = failure_type::failed;  ///< FAILED, TIMED_OUT or ALL
  std::int64_t retries = 0;                  ///< numberOfRetries 0..10
  friend bool operator==(const retry_criterion&, const retry_criterion&) = default;
};

/// How many of a job's executions ended in each status (indexed by execution_status).
/// Retried attempts are not counted: only an execution's last attempt ends.
using ended_counts = std::array<std::size_t, 8>;
inline std::size_t& count_of(ended_counts& c, execution_status s) noexcept {
  return c[static_cast<std::size_t>(s)];
}
inline std::size_t count_of(const ended_counts& c, execution_status s) noexcept {
  return c[static_cast<std::size_t>(s)];
}

/// Checks a rollout, abort and retry configuration against AWS's ranges; returns a message
/// naming the fault, or an empty string.
std::string check_rollout(const rollout_config& c);
std::string check_abort(const std::vector<abort_criterion>& criteria);
std::string check_retry(const std::vector<retry_criterion>& criteria);

/// Starts a rollout of `targets` things at `now`: the first window opens.
rollout_progress start_rollout(const rollout_config& c, std::size_t targets, std::int64_t now);
/// How many more things get their execution at `now` (advancing `p`: window, rate increases
/// on AWS's rateIncreaseCriteria, capped at maximumPerMinute). `succeeded` is the job's
/// SUCCEEDED count. A window's rate is set when it opens, so calling it again within the
/// window releases nothing more once the window's share is out.
std::size_t release(rollout_progress& p, const rollout_config& c, std::size_t succeeded,
                    std::int64_t now);

/// The first criterion met by `ended` (executed things: SUCCEEDED, FAILED, REJECTED,
/// TIMED_OUT; met when at least min_executed_things executed and at least one and at least
/// threshold_percentage of them failed with the criterion's type), or nullopt.
std::optional<abort_criterion> abort_due(const std::vector<abort_criterion>& criteria,
                                         const ended_counts& ended);

/// How many retries `criteria` allow after an attempt ended in `s` (a criterion naming the
/// failure type wins over ALL; REJECTED and the service's statuses are never retried).
std::int64_t retries_allowed(const std::vector<retry_criterion>& criteria,
                             execution_status s) noexcept;

/// A job. Its targets are the things of its executions (store::executions_of), so that
/// reading a job stays cheap however many things it targets. Times are seconds since the epoch.
struct job {
  std::string id;
  std::string document;          ///< compact JSON object
  std::string description = {};  ///< CreateJob's description (may be empty)
  /// CreateJob's targets as given ("thing/<name>", "thinggroup/<name>"), for DescribeJob.
  std::vector<std::string> targets = {};
  /// targetSelection CONTINUOUS: things added to a target group later get an execution
  /// (service::add_target), and the job stays IN_PROGRESS when its executions end.
  bool continuous = false;
  job_status status = job_status::in_progress;
  std::int64_t in_progress_timeout_minutes = 0;  ///< timeoutConfig; 0: none
  bool force_canceled = false;
  std::int64_t created_at = 0;
  std::int64_t last_updated_at = 0;
  std::int64_t completed_at = 0;    ///< 0 until COMPLETED or CANCELED
  std::size_t open_executions = 0;  ///< QUEUED or IN_PROGRESS; COMPLETED when it reaches 0
  rollout_config rollout = {};
  rollout_progress progress = {};  ///< only when rolls_out()
  std::vector<abort_criterion> abort_criteria = {};
  std::vector<retry_criterion> retry_criteria = {};
  ended_counts ended = {};
  std::string reason_code = {};  ///< CancelJob's reasonCode, or the abort's
  std::string comment = {};      ///< CancelJob's comment, or the abort's
  /// The job template it was created from (may be empty); a managed one as
  /// "<name>:<version>" (managed_templates.hpp).
  std::string template_id = {};
  parameter_map document_parameters = {};  ///< CreateJob's documentParameters
  /// schedulingConfig: SCHEDULED until start_time (its things wait in
  /// store::rollout_targets); at end_time its behavior applies once (schedule_ended).
  scheduling_config scheduling = {};
  bool schedule_ended = false;
  friend bool operator==(const job&, const job&) = default;
};

/// Whether `j` releases its things over time (store::rollout_targets, `progress`): with a
/// rollout configuration or maintenance windows.
inline bool rolls_out(const job& j) noexcept {
  return j.rollout.enabled() || !j.scheduling.maintenance_windows.empty();
}

/// When `j`'s schedule next acts: its startTime while SCHEDULED, its endTime while
/// IN_PROGRESS with the end not applied yet; 0 when it never will.
std::int64_t schedule_at(const job& j) noexcept;

/// A job template (CreateJobTemplate): what CreateJob takes from it when given its ARN.
struct job_template {
  std::string id;                                ///< [a-zA-Z0-9_-], 1..64
  std::string description;                       ///< 1..2028 characters (required by AWS)
  std::string document;                          ///< compact JSON object
  std::int64_t in_progress_timeout_minutes = 0;  ///< timeoutConfig; 0: none
  rollout_config rollout = {};
  std::vector<abort_criterion> abort_criteria = {};
  std::vector<retry_criterion> retry_criteria = {};
  /// maintenanceWindows: a job made from the template without its own gets them.
  std::vector<maintenance_window> maintenance_windows = {};
  std::int64_t created_at = 0;
  friend bool operator==(const job_template&, const job_template&) = default;
};

/// One job's execution on one thing. Times are seconds since the epoch.
struct execution {
  std::string job_id;
  std::string thing;
  execution_status status = execution_status::queued;
  status_details details;
  std::int64_t version = 1;           ///< versionNumber: +1 on each device update
  std::int64_t execution_number = 1;  ///< executionNumber
  std::uint64_t sequence = 0;         ///< queue order across jobs (oldest first)
  std::int64_t queued_at = 0;
  std::int64_t started_at = 0;  ///< 0 until IN_PROGRESS
  std::int64_t last_updated_at = 0;
  std::int64_t in_progress_timeout_minutes = 0;  ///< the job's timeoutConfig
  std::int64_t in_progress_deadline = 0;         ///< 0: none
  std::int64_t step_deadline = 0;                ///< 0: none
  std::int64_t retry_attempt = 0;                ///< retryAttempt: 0 for the first attempt

  /// When the execution times out: the earlier of the two timers; 0 if none runs.
  std::int64_t deadline() const noexcept;
  friend bool operator==(const execution&, const execution&) = default;
};

/// A new QUEUED execution of `job_id` on `thing`.
execution queue(std::string job_id, std::string thing, std::uint64_t sequence, std::int64_t now,
                std::int64_t in_progress_timeout_minutes = 0);

/// The next attempt after `ended` failed or timed out: QUEUED, executionNumber and
/// retryAttempt + 1, version 1, no statusDetails, timers stopped, at the back of the queue.
execution retry(const execution& ended, std::uint64_t sequence, std::int64_t now);

/// The fields of an UpdateJobExecution (or StartNext) that change an execution.
struct update_request {
  std::optional<execution_status> status;
  std::optional<status_details> details;  ///< replaces the details when present
  std::optional<std::int64_t> expected_version;
  std::optional<std::int64_t> execution_number;
  std::optional<std::int64_t> step_timeout_minutes;  ///< 1..10080
};

/// A device's update of `e` at `now`. On success the status and details change, the version
/// goes up by one, IN_PROGRESS starts the job's in-progress timer (once) and the step timer
/// (when given), and a terminal status stops both. Errors (then `e` is unchanged):
/// invalid_request (no status, bad step timeout), resource_not_found (executionNumber),
/// version_mismatch, terminal_state_reached (the service made it CANCELED, REMOVED or
/// TIMED_OUT), invalid_state_transition (any other refused change, e.g. SUCCEEDED → IN_PROGRESS).
std::error_code apply_update(execution& e, const update_request& u, std::int64_t now);

/// A service-side change (cancel, remove, time out) of `e` at `now`; error
/// invalid_state_transition when the state machine refuses it.
std::error_code apply_service(execution& e, execution_status to, std::int64_t now);

}  // namespace iotblocks::jobs

IOTBLOCKS_API_END
