// Jobs events with AWS IoT's topics and payloads (developer guide, "Jobs events").
#include "gateway/jobs_events.hpp"

#include "core/json.hpp"

#include <type_traits>

namespace iotblocks::gateway {
namespace {

using alloc = rapidjson::Document::AllocatorType;

std::string_view job_operation(jobs::job_status s) {
  switch (s) {
    case jobs::job_status::completed: return "completed";
    case jobs::job_status::canceled: return "canceled";
    default: return {};  // not an event
  }
}

std::string_view execution_operation(jobs::execution_status s) {
  switch (s) {
    case jobs::execution_status::succeeded: return "succeeded";
    case jobs::execution_status::failed: return "failed";
    case jobs::execution_status::rejected: return "rejected";
    case jobs::execution_status::canceled: return "canceled";
    case jobs::execution_status::timed_out: return "timed_out";
    case jobs::execution_status::removed: return "removed";
    default: return {};  // QUEUED, IN_PROGRESS: not terminal
  }
}

class payload {
 public:
  payload(std::string_view type, std::string_view operation, const event_context& ctx) {
    d_.SetObject();
    put("eventType", type);
    put("eventId", ctx.event_id ? ctx.event_id() : std::string());
    d_.AddMember("timestamp", ctx.now_ms / 1000, a());
    put("operation", operation);
  }
  alloc& a() { return d_.GetAllocator(); }
  void put(std::string_view k, std::string_view v) {
    d_.AddMember(json::string_value(k, a()), json::string_value(v, a()), a());
  }
  void put(std::string_view k, rapidjson::Value v) {
    d_.AddMember(json::string_value(k, a()), v, a());
  }
  /// Seconds since the epoch as ms; absent while 0.
  void put_ms(std::string_view k, std::int64_t seconds) {
    if (seconds != 0) put(k, rapidjson::Value(seconds * 1000));
  }
  std::string text() const { return json::write(d_); }

 private:
  rapidjson::Document d_;
};

std::string arn_prefix(const event_context& ctx) {
  return "arn:aws:iot:" + ctx.region + ":" + ctx.account_id + ":";
}

event_message job_message(const job_event& e, const event_context& ctx) {
  const auto& j = e.job;
  payload p("JOB", e.operation, ctx);
  p.put("jobId", j.id);
  p.put("status", e.operation == "deleted" ? std::string_view("DELETED") : to_string(j.status));
  p.put("targetSelection", j.continuous ? "CONTINUOUS" : "SNAPSHOT");
  rapidjson::Value targets(rapidjson::kArrayType);
  const auto prefix = arn_prefix(ctx);
  for (const auto& t : j.targets) targets.PushBack(json::string_value(prefix + t, p.a()), p.a());
  p.put("targets", std::move(targets));
  if (!j.description.empty()) p.put("description", j.description);
  if (e.operation == "completed") p.put_ms("completedAt", j.completed_at);
  p.put_ms("createdAt", j.created_at);
  p.put_ms("lastUpdatedAt", j.last_updated_at);
  if (e.operation == "completed") {
    static constexpr std::pair<jobs::execution_status, std::string_view> counted[] = {
        {jobs::execution_status::canceled, "numberOfCanceledThings"},
        {jobs::execution_status::rejected, "numberOfRejectedThings"},
        {jobs::execution_status::failed, "numberOfFailedThings"},
        {jobs::execution_status::removed, "numberOfRemovedThings"},
        {jobs::execution_status::succeeded, "numberOfSucceededThings"}};
    rapidjson::Value details(rapidjson::kObjectType);
    for (const auto& [status, name] : counted) {
      details.AddMember(json::string_value(name, p.a()),
                        rapidjson::Value(static_cast<std::uint64_t>(count_of(j.ended, status))),
                        p.a());
    }
    p.put("jobProcessDetails", std::move(details));
  }
  if (e.operation == "deleted" && !j.comment.empty()) p.put("comment", j.comment);
  return {"JOB", "$aws/events/job/" + j.id + "/" + std::string(e.operation), p.text()};
}

event_message execution_message(const execution_event& e, const event_context& ctx) {
  const auto& x = e.execution;
  payload p("JOB_EXECUTION", e.operation, ctx);
  p.put("jobId", x.job_id);
  p.put("thingArn", arn_prefix(ctx) + "thing/" + x.thing);
  p.put("status", to_string(x.status));
  rapidjson::Value details(rapidjson::kObjectType);
  for (const auto& [k, v] : x.details) {
    details.AddMember(json::string_value(k, p.a()), json::string_value(v, p.a()), p.a());
  }
  p.put("statusDetails", std::move(details));
  return {"JOB_EXECUTION", "$aws/events/jobExecution/" + x.job_id + "/" + std::string(e.operation),
          p.text()};
}

}  // namespace

std::vector<jobs_event> jobs_events_of(const jobs::batch& b, const jobs::store& before, bool jobs,
                                       bool executions) {
  std::vector<jobs_event> out;
  if (jobs) {
    for (const auto& id : b.erased_jobs) {
      if (auto j = before.find_job(id)) out.push_back(job_event{"deleted", std::move(*j)});
    }
    for (const auto& j : b.jobs) {
      const auto op = job_operation(j.status);
      if (op.empty()) continue;
      const auto prior = before.find_job(j.id);
      if (prior && prior->status == j.status) continue;  // e.g. canceled again with force
      out.push_back(job_event{op, j});
    }
  }
  if (executions) {
    for (const auto& [thing, id] : b.erased_executions) {
      if (auto e = before.find_execution(thing, id)) {
        out.push_back(execution_event{"deleted", std::move(*e)});
      }
    }
    for (const auto& e : b.executions) {
      const auto op = execution_operation(e.status);
      if (op.empty()) continue;
      const auto prior = before.find_execution(e.thing, e.job_id);
      if (prior && prior->status == e.status && prior->execution_number == e.execution_number) {
        continue;  // already ended before this batch
      }
      out.push_back(execution_event{op, e});
    }
  }
  return out;
}

event_message jobs_event_message(const jobs_event& e, const event_context& ctx) {
  return std::visit(
      [&](const auto& v) {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, job_event>) {
          return job_message(v, ctx);
        } else {
          return execution_message(v, ctx);
        }
      },
      e);
}

}  // namespace iotblocks::gateway
