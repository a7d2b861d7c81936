// The jobs service over a store, and its MQTT face: a topic router that takes one PUBLISH on
// $aws/things/{thing}/jobs/… and returns the messages to publish (the /accepted or /rejected
// reply, then any notify and notify-next pushes), with AWS IoT Jobs' payloads.
//
//   iotblocks::jobs::memory_store store;
//   iotblocks::jobs::service svc{store};
//   svc.create_job({.id = "fw-1", .document = R"({"url":"…"})", .targets = {"lamp"}});
//   iotblocks::jobs::router r{svc};
//   auto out = r.route("$aws/things/lamp/jobs/start-next", R"({"clientToken":"c1"})");
//   // out->at(0).topic == "$aws/things/lamp/jobs/start-next/accepted",
//   // then $aws/things/lamp/jobs/notify-next (the next execution is now IN_PROGRESS)
//   svc.tick(clock.now());   // executions past their timeout → TIMED_OUT, with pushes
#pragma once

#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/jobs/model.hpp>
#include <iotblocks/jobs/request.hpp>
#include <iotblocks/jobs/store.hpp>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::jobs {

/// One message to publish.
struct message {
  std::string topic;
  std::string payload;
  friend bool operator==(const message&, const message&) = default;
};

/// What CreateJob takes.
struct job_spec {
  std::string id;
  std::string document;                              ///< a JSON object
  std::vector<std::string> targets;                  ///< thing names (duplicates count once)
  std::int64_t in_progress_timeout_minutes = 0;      ///< timeoutConfig; 0: none, else 1..10080
  std::string description = {};                      ///< up to 2028 characters
  std::vector<std::string> target_names = {};        ///< kept as job::targets
  bool continuous = false;                           ///< job::continuous
  std::string template_id = {};                      ///< job::template_id
  parameter_map document_parameters = {};            ///< job::document_parameters
  scheduling_config scheduling = {};                 ///< schedulingConfig
  rollout_config rollout = {};                       ///< jobExecutionsRolloutConfig
  std::vector<abort_criterion> abort_criteria = {};  ///< abortConfig
  std::vector<retry_criterion> retry_criteria = {};  ///< jobExecutionsRetryConfig
};

/// What one device request produced: the reply (first) and the pushes it caused.
struct outcome {
  std::error_code error;          ///< empty when accepted
  std::vector<message> messages;  ///< the /accepted or /rejected reply, then notify pushes
  bool accepted() const noexcept { return !error; }
};

/// Jobs and executions on a store at the clock's time: the control plane (create, cancel,
/// delete, thing removal), the device API and the timeouts. Every change is committed to
/// the store (durable) before the call returns its messages.
/// Distinct objects: safe. Shared objects: safe (calls are serialised).
class service {
 public:
  explicit service(store& s, const clock& c = default_clock(), const jobs::limits& l = {});

  /// Which things get notify / notify-next pushes built; default: all.
  service& notify_filter(std::function<bool(std::string_view thing)> f);
  /// For a process that publishes nothing (the `iotblocks jobs` CLI on a gateway's store):
  /// each control-plane change leaves its pushes owed in the store (batch::announced: the
  /// things and what their devices knew before) instead of building them; the publishing
  /// process's take_announced() sends them. The device API (handle) still builds its own.
  service& announce_pushes(bool on);

  const jobs::limits& limits() const noexcept { return limits_; }
  /// The clock's time in seconds.
  std::int64_t now() const noexcept { return clock_.now_ms() / 1000; }

  /// CreateJob: the job IN_PROGRESS and a QUEUED execution per target (with a rollout, the
  /// first minute's share; tick() releases the rest), then the notify (and notify-next where
  /// the next execution changed) pushes. With a schedulingConfig startTime the job is
  /// SCHEDULED with no execution until tick() reaches startTime. Errors: invalid_request (id,
  /// document, target name, timeout, rollout, abort, retry or scheduling configuration),
  /// limit_exceeded,
  /// resource_already_exists, internal_error.
  result<std::vector<message>> create_job(const job_spec& spec);
  /// CancelJob: the job CANCELED (with `reason_code` and `comment`), its QUEUED executions
  /// CANCELED and, with `force`, its IN_PROGRESS ones too; things a rollout has not reached
  /// get none. A canceled job may be canceled again with force. Errors: resource_not_found,
  /// conflict (COMPLETED, or canceled again without force).
  result<std::vector<message>> cancel_job(std::string_view id, bool force = false,
                                          std::string_view reason_code = {},
                                          std::string_view comment = {});
  /// DeleteJob: the job and its executions gone. Without `force` only a COMPLETED or
  /// CANCELED job. Errors: resource_not_found, conflict.
  result<std::vector<message>> delete_job(std::string_view id, bool force = false);
  /// CancelJobExecution: one QUEUED (or, with force, IN_PROGRESS) execution CANCELED,
  /// its statusDetails replaced when `details` is given. Errors: resource_not_found,
  /// invalid_state_transition, version_mismatch (`expected_version` differs),
  /// invalid_request (bad details).
  result<std::vector<message>> cancel_execution(std::string_view job_id, std::string_view thing,
                                                bool force = false,
                                                std::optional<std::int64_t> expected_version = {},
                                                const status_details* details = nullptr);
  /// DeleteJobExecution: the execution gone. Without `force` only a terminal one; with it
  /// a QUEUED or IN_PROGRESS one too (the job's open count drops, which may complete it).
  /// Errors: resource_not_found (also another `execution_number`), invalid_state_transition.
  result<std::vector<message>> delete_execution(std::string_view job_id, std::string_view thing,
                                                std::int64_t execution_number, bool force = false);
  /// A thing joined a continuous job's targets: a QUEUED execution for it (none if it has
  /// one of this job already), and its pushes; with a rollout, the thing joins the end of
  /// the rollout and tick() releases it at the rollout's rate. Errors: resource_not_found, conflict
  /// (the job is not IN_PROGRESS or not continuous), invalid_request (thing name).
  result<std::vector<message>> add_target(std::string_view job_id, std::string_view thing);
  /// The thing is gone from the fleet: its pending executions become REMOVED.
  result<std::vector<message>> remove_thing(std::string_view thing);
  /// Moves executions whose step or in-progress timer expired by `now` to TIMED_OUT (or, when
  /// the job's retry criteria allow, QUEUED again as the next attempt) and releases the
  /// rollouts' executions due by `now`.
  result<std::vector<message>> tick(time_point now);

  /// CreateJobTemplate: `t` stored with created_at now. Errors: invalid_request (id,
  /// description, document, timeout, configurations), limit_exceeded (document), conflict
  /// (the id exists), internal_error.
  result<void> create_template(job_template t);
  /// DeleteJobTemplate. Errors: resource_not_found, internal_error.
  result<void> delete_template(std::string_view id);
  std::optional<job_template> describe_template(std::string_view id) const;
  /// `spec` with what it leaves unset taken from template `id` (document, timeout, rollout,
  /// abort and retry configurations; `spec` wins where it sets them). Errors:
  /// resource_not_found.
  result<job_spec> from_template(std::string_view id, job_spec spec) const;
  /// `spec` made from managed template `name_version` ("AWS-Reboot:1.0", or without the
  /// version: the newest) and `spec.document_parameters`: the substituted document, the
  /// template's description when `spec` has none, job::template_id "<name>:<version>".
  /// Errors: resource_not_found (no such template), invalid_request (spec has a document;
  /// a parameter unknown, missing or not matching its regex).
  static result<job_spec> from_managed_template(std::string_view name_version, job_spec spec);

  std::optional<job> describe_job(std::string_view id) const;
  /// The thing's execution of the job: its current attempt, or with `execution_number`
  /// that attempt (an earlier one a retry ended, store::attempts), nullopt when none.
  std::optional<execution> describe_execution(
      std::string_view job_id, std::string_view thing,
      std::optional<std::int64_t> execution_number = std::nullopt) const;

  /// The device API: one request on a parsed topic.
  outcome handle(const jobs_topic& t, std::string_view payload);

  /// A thing's pending executions as its last pushes told it (empty: none).
  using pending_view = jobs::pending_view;
  /// The notify / notify-next pushes that take a device from `last` to the thing's pending
  /// executions now (none when nothing changed), and `last` set to now. For a process that
  /// pushes what other processes changed on a shared store (`jobs worker`); ignores
  /// notify_filter().
  std::vector<message> pushes_since(std::string_view thing, pending_view& last) const;
  /// What other processes committed to the store: store::refresh(), then the notify /
  /// notify-next pushes they left owed (announce_pushes), built against the store now
  /// (filtered by notify_filter), erased from the store in one commit before they are
  /// returned. For the process that publishes (the gateway calls it every second).
  result<std::vector<message>> take_announced();

 private:
  pending_view view_of(std::string_view thing) const;
  void push_changes(const pending_view& before, std::string_view thing, std::int64_t now,
                    std::vector<message>& out) const;
  /// push_changes without the filter; `after`, if given, receives the view now.
  void build_pushes(const pending_view& before, std::string_view thing, std::int64_t now,
                    std::vector<message>& out, pending_view* after) const;
  /// Commits `b` (deferred) and builds the pushes under `lock`, then releases it and waits
  /// until `b` is durable, so that concurrent callers' commits are grouped.
  result<std::vector<message>> commit_and_push(batch& b, const std::vector<std::string>& things,
                                               std::int64_t now,
                                               std::unique_lock<std::mutex>& lock);
  /// Completes the jobs of `b` whose last execution ended and cancels those whose abort
  /// criteria are met (their QUEUED executions too, their things added to `things`).
  void finish_jobs(batch& b, std::int64_t now, std::vector<std::string>& things) const;
  void abort_job(batch& b, job& j, const abort_criterion& c, std::int64_t now,
                 std::vector<std::string>& things) const;
  /// The execution to store after `e` ended at `now` on job `j`: `e`, or its next attempt
  /// when the job's retry criteria allow one (then `j` stays open and `e` is kept in
  /// `b.attempts`).
  execution after_end(const execution& e, job& j, std::int64_t now, batch& b);
  /// Releases the rollouts' executions due at `now` into `b`.
  void release_rollouts(batch& b, std::int64_t now, std::vector<std::string>& things);
  /// Starts the SCHEDULED jobs whose startTime passed and applies the endBehavior of those
  /// whose endTime passed.
  void run_schedules(batch& b, std::int64_t now, std::vector<std::string>& things);
  /// CANCELED: `j`'s QUEUED executions (with `force` IN_PROGRESS ones too), in `b` or the
  /// store; their things added to `things`.
  void cancel_open(batch& b, job& j, bool force, std::int64_t now,
                   std::vector<std::string>& things) const;

  /// The next execution sequence, after any another process stored (asked once per operation).
  std::uint64_t next_sequence();
  /// Under the lock, at the start of each attempt of an operation that may write.
  void begin_operation();

  store& store_;
  const clock& clock_;
  jobs::limits limits_;
  std::function<bool(std::string_view)> notify_filter_;
  bool announce_ = false;
  mutable std::mutex mutex_;
  std::uint64_t sequence_ = 0;
  bool sequence_synced_ = false;
};

/// Routes jobs request topics to a service. Distinct objects: safe. Shared objects: safe.
class router {
 public:
  explicit router(service& s) : service_(s) {}

  /// Handles one PUBLISH. nullopt: not a jobs request topic (publish it as usual).
  /// InvalidTopic is answered on `{topic}/rejected`.
  std::optional<std::vector<message>> route(std::string_view topic, std::string_view payload);

 private:
  service& service_;
};

}  // namespace iotblocks::jobs

IOTBLOCKS_API_END
