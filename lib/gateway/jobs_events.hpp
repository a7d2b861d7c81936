// Private: AWS IoT's jobs events (docs/aws-api.md, "Jobs events"): JOB when a job is completed,
// canceled or deleted, JOB_EXECUTION when an execution reaches a terminal status or is deleted,
// read from the batches the jobs service commits (jobs_event_store.hpp publishes them once a
// batch is durable), whichever route made the change: the AWS API, a device, a rollout, a
// timeout, an abort, a thing's deletion.
//
//   auto events = jobs_events_of(batch, store, true, true);  // before `batch` commits on `store`
//   for (auto& e : events) publish(jobs_event_message(e, ctx));  // once `batch` is durable
#pragma once

#include <iotblocks/jobs/model.hpp>
#include <iotblocks/jobs/store.hpp>

#include "gateway/registry_events.hpp"

#include <string_view>
#include <variant>
#include <vector>

namespace iotblocks::gateway {

/// A job that became COMPLETED or CANCELED ("completed", "canceled"), or was erased
/// ("deleted"; the job as it was).
struct job_event {
  std::string_view operation;
  jobs::job job;
};

/// An execution that reached a terminal status (the status in lower case: "succeeded",
/// "failed", "rejected", "canceled", "timed_out", "removed"), or was erased ("deleted"; the
/// execution as it was).
struct execution_event {
  std::string_view operation;
  jobs::execution execution;
};

using jobs_event = std::variant<job_event, execution_event>;

/// The events committing `b` makes, read against `before` (the store `b` is about to be
/// committed on): jobs erased, then jobs whose status changed, then executions erased, then
/// executions that reached a terminal status. `jobs` / `executions`: whether JOB /
/// JOB_EXECUTION events are wanted (the store is not read for a kind not wanted). An attempt
/// that ends and is retried (jobExecutionsRetryConfig) makes none: its next attempt is QUEUED.
std::vector<jobs_event> jobs_events_of(const jobs::batch& b, const jobs::store& before, bool jobs,
                                       bool executions);

/// The message of one event: topic `$aws/events/job/<jobId>/<operation>` or
/// `$aws/events/jobExecution/<jobId>/<operation>`, and the documented payload ("timestamp" in
/// seconds as AWS's examples give it; createdAt, lastUpdatedAt and completedAt in ms).
event_message jobs_event_message(const jobs_event& e, const event_context& ctx);

}  // namespace iotblocks::gateway
