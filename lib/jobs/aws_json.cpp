#include "jobs/aws_json.hpp"

#include "jobs/config_json.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace iotblocks::jobs::detail {
namespace {

rapidjson::Value text(std::string_view s, alloc& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

void put(rapidjson::Value& o, std::string_view k, std::string_view v, alloc& a) {
  o.AddMember(text(k, a), text(v, a), a);
}

/// Absent while 0 (not happened yet), as AWS leaves it out.
void put_time(rapidjson::Value& o, std::string_view k, std::int64_t seconds, alloc& a) {
  if (seconds != 0) o.AddMember(text(k, a), rapidjson::Value(static_cast<double>(seconds)), a);
}

void put_arn(rapidjson::Value& o, std::string_view k, std::string_view prefix,
             std::string_view kind, std::string_view name, alloc& a) {
  std::string arn;
  arn.reserve(prefix.size() + kind.size() + 1 + name.size());
  arn.append(prefix).append(kind).append(1, '/').append(name);
  put(o, k, arn, a);
}

std::string_view selection(const job& j) { return j.continuous ? "CONTINUOUS" : "SNAPSHOT"; }

/// JobProcessDetails: the executions counted by status.
rapidjson::Value process_details(const std::vector<execution>& executions, alloc& a) {
  static constexpr std::pair<execution_status, std::string_view> names[] = {
      {execution_status::canceled, "numberOfCanceledThings"},
      {execution_status::succeeded, "numberOfSucceededThings"},
      {execution_status::failed, "numberOfFailedThings"},
      {execution_status::rejected, "numberOfRejectedThings"},
      {execution_status::queued, "numberOfQueuedThings"},
      {execution_status::in_progress, "numberOfInProgressThings"},
      {execution_status::removed, "numberOfRemovedThings"},
      {execution_status::timed_out, "numberOfTimedOutThings"}};
  rapidjson::Value o(rapidjson::kObjectType);
  for (const auto& [status, name] : names) {
    const auto n = std::count_if(executions.begin(), executions.end(),
                                 [s = status](const execution& e) { return e.status == s; });
    o.AddMember(text(name, a), rapidjson::Value(static_cast<std::int64_t>(n)), a);
  }
  return o;
}

}  // namespace

rapidjson::Value write_job_summary(const job& j, std::string_view arn_prefix, alloc& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  put_arn(o, "jobArn", arn_prefix, "job", j.id, a);
  put(o, "jobId", j.id, a);
  put(o, "targetSelection", selection(j), a);
  put(o, "status", to_string(j.status), a);
  put_time(o, "createdAt", j.created_at, a);
  put_time(o, "lastUpdatedAt", j.last_updated_at, a);
  put_time(o, "completedAt", j.completed_at, a);
  o.AddMember("isConcurrent", false, a);
  return o;
}

rapidjson::Value write_job(const job& j, const std::vector<execution>& executions,
                           std::string_view arn_prefix, alloc& a, std::int64_t now) {
  rapidjson::Value o(rapidjson::kObjectType);
  put_arn(o, "jobArn", arn_prefix, "job", j.id, a);
  put(o, "jobId", j.id, a);
  put(o, "targetSelection", selection(j), a);
  put(o, "status", to_string(j.status), a);
  o.AddMember("forceCanceled", j.force_canceled, a);
  rapidjson::Value targets(rapidjson::kArrayType);
  for (std::string_view t : j.targets) {  // "thing/<name>", "thinggroup/<name>"
    std::string arn(arn_prefix);
    arn.append(t);
    targets.PushBack(text(arn, a), a);
  }
  o.AddMember("targets", targets, a);
  if (!j.description.empty()) put(o, "description", j.description, a);
  put_time(o, "createdAt", j.created_at, a);
  put_time(o, "lastUpdatedAt", j.last_updated_at, a);
  put_time(o, "completedAt", j.completed_at, a);
  o.AddMember("jobProcessDetails", process_details(executions, a), a);
  if (j.in_progress_timeout_minutes != 0) {
    rapidjson::Value t(rapidjson::kObjectType);
    t.AddMember("inProgressTimeoutInMinutes", j.in_progress_timeout_minutes, a);
    o.AddMember("timeoutConfig", t, a);
  }
  if (j.rollout.enabled())
    o.AddMember("jobExecutionsRolloutConfig", write_rollout(j.rollout, a), a);
  if (!j.abort_criteria.empty()) o.AddMember("abortConfig", write_abort(j.abort_criteria, a), a);
  if (!j.retry_criteria.empty()) {
    o.AddMember("jobExecutionsRetryConfig", write_retry(j.retry_criteria, a), a);
  }
  if (j.template_id.find(':') != std::string::npos) {
    // A managed template: its ARN has no account ("arn:aws:iot:<region>::jobtemplate/…").
    const auto region_end = arn_prefix.substr(0, arn_prefix.size() - 1).rfind(':');
    const std::string no_account = std::string(arn_prefix.substr(0, region_end + 1)) + ':';
    put_arn(o, "jobTemplateArn", no_account, "jobtemplate", j.template_id, a);
  } else if (!j.template_id.empty()) {
    put_arn(o, "jobTemplateArn", arn_prefix, "jobtemplate", j.template_id, a);
  }
  if (j.scheduling.enabled()) {
    rapidjson::Value s(rapidjson::kObjectType);
    if (j.scheduling.start_time != 0) {
      put(s, "startTime", format_date_time(j.scheduling.start_time), a);
    }
    if (j.scheduling.end_time != 0) put(s, "endTime", format_date_time(j.scheduling.end_time), a);
    if (j.scheduling.behavior != end_behavior::none) {
      put(s, "endBehavior", to_string(j.scheduling.behavior), a);
    }
    if (!j.scheduling.maintenance_windows.empty()) {
      s.AddMember("maintenanceWindows", write_windows(j.scheduling.maintenance_windows, a), a);
    }
    o.AddMember("schedulingConfig", s, a);
  }
  if (!j.scheduling.maintenance_windows.empty() && now != 0 &&
      (j.status == job_status::scheduled || j.status == job_status::in_progress)) {
    rapidjson::Value next(rapidjson::kArrayType);  // the next seven window starts
    for (auto t : next_window_starts(j.scheduling, now)) {
      rapidjson::Value r(rapidjson::kObjectType);
      put(r, "startTime", format_date_time(t), a);
      next.PushBack(r, a);
    }
    o.AddMember("scheduledJobRollouts", next, a);
  }
  if (!j.document_parameters.empty()) {
    rapidjson::Value m(rapidjson::kObjectType);
    for (const auto& [k, v] : j.document_parameters) put(m, k, v, a);
    o.AddMember("documentParameters", m, a);
  }
  if (!j.reason_code.empty()) put(o, "reasonCode", j.reason_code, a);
  if (!j.comment.empty()) put(o, "comment", j.comment, a);
  o.AddMember("isConcurrent", false, a);
  return o;
}

rapidjson::Value write_execution_summary(const execution& e, alloc& a) {
  rapidjson::Value s(rapidjson::kObjectType);
  put(s, "status", to_string(e.status), a);
  put_time(s, "queuedAt", e.queued_at, a);
  put_time(s, "startedAt", e.started_at, a);
  put_time(s, "lastUpdatedAt", e.last_updated_at, a);
  s.AddMember("executionNumber", e.execution_number, a);
  s.AddMember("retryAttempt", e.retry_attempt, a);
  return s;
}

rapidjson::Value write_execution(const execution& e, std::int64_t now, std::string_view arn_prefix,
                                 alloc& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  put(o, "jobId", e.job_id, a);
  put(o, "status", to_string(e.status), a);
  rapidjson::Value details(rapidjson::kObjectType);
  rapidjson::Value map(rapidjson::kObjectType);
  for (const auto& [k, v] : e.details) put(map, k, v, a);
  details.AddMember("detailsMap", map, a);
  o.AddMember("statusDetails", details, a);
  put_arn(o, "thingArn", arn_prefix, "thing", e.thing, a);
  put_time(o, "queuedAt", e.queued_at, a);
  put_time(o, "startedAt", e.started_at, a);
  put_time(o, "lastUpdatedAt", e.last_updated_at, a);
  o.AddMember("executionNumber", e.execution_number, a);
  o.AddMember("versionNumber", e.version, a);
  if (!is_terminal(e.status) && e.deadline() != 0) {
    o.AddMember("approximateSecondsBeforeTimedOut", std::max<std::int64_t>(0, e.deadline() - now),
                a);
  }
  return o;
}

}  // namespace iotblocks::jobs::detail
