// AWS IoT Jobs over the AWS-shaped HTTP API: the control plane (`aws iot create-job` …,
// signing name execute-api) on the jobs service, and the jobs data plane
// (`aws iot-jobs-data …`, signing name iot-jobs-data) through the same router the MQTT
// API uses, so that both answer alike. Pushes (notify, notify-next) go out over MQTT.
#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"
#include "gateway/security.hpp"
#include "jobs/aws_json.hpp"

#include <iotblocks/jobs/config.hpp>
#include <iotblocks/jobs/managed_templates.hpp>

#include <algorithm>
#include <charconv>
#include <unordered_set>
#include <vector>

namespace iotblocks::gateway::aws {
namespace {

void put_time(rapidjson::Value& o, std::string_view k, std::int64_t seconds, alloc& a) {
  if (seconds == 0) return;
  rapidjson::Value name = json::string_value(k, a);
  o.AddMember(name, rapidjson::Value(static_cast<double>(seconds)), a);
}

jobs::service& jobs_of(call& c) { return c.g.jobs->service(); }

/// The AWS error for a jobs failure; `conflict_type` names what `conflict` is for this call.
net::http_reply jobs_error(const failure& f,
                           std::string_view conflict_type = "InvalidRequestException") {
  using jobs::error;
  const std::error_code ec = f.code;
  const std::string message = f.message.empty() ? ec.message() : std::string{f.message.view()};
  if (ec == error::resource_not_found) {
    return aws::error(404, "ResourceNotFoundException", message);
  }
  if (ec == error::resource_already_exists) {
    return aws::error(409, "ResourceAlreadyExistsException", message);
  }
  if (ec == error::limit_exceeded) return aws::error(410, "LimitExceededException", message);
  if (ec == error::invalid_state_transition) {
    return aws::error(409, "InvalidStateTransitionException", message);
  }
  if (ec == error::version_mismatch) return aws::error(409, "VersionConflictException", message);
  if (ec == error::conflict) {
    return aws::error(conflict_type == "InvalidRequestException" ? 400 : 409, conflict_type,
                      message);
  }
  if (ec == error::internal_error) return aws::error(500, "InternalFailureException", message);
  return invalid(message);
}

/// A boolean query parameter ("true"/"false"; absent: false).
std::optional<net::http_reply> flag(const call& c, std::string_view key, bool& out) {
  const std::string v = c.r.query_param(key);
  if (v.empty() || v == "false") {
    out = false;
  } else if (v == "true") {
    out = true;
  } else {
    return invalid(std::string(key) + ": expected true or false");
  }
  return std::nullopt;
}

std::optional<std::int64_t> integer(std::string_view v) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
  return n;
}

/// Most entries in CreateJob's targets (AWS).
constexpr std::size_t max_targets = 100;

/// The name in "arn:aws:iot:<region>:<account>:<kind>/<name>".
std::optional<std::string> name_of_arn(std::string_view arn, std::string_view kind) {
  if (!arn.starts_with("arn:aws:iot:")) return std::nullopt;
  const std::string marker = ":" + std::string(kind) + "/";
  const auto at = arn.find(marker);
  if (at == std::string_view::npos) return std::nullopt;
  if (std::count(arn.begin(), arn.begin() + static_cast<std::ptrdiff_t>(at), ':') != 4) {
    return std::nullopt;
  }
  auto name = arn.substr(at + marker.size());
  if (name.empty()) return std::nullopt;
  return std::string(name);
}

// CreateJob fields this gateway does not implement: refused, never ignored.
constexpr std::string_view unsupported_fields[] = {"documentSource", "presignedUrlConfig",
                                                   "namespaceId", "destinationPackageVersions"};

/// CreateJob's documentParameters (a map of strings) into `out`.
std::optional<net::http_reply> document_parameters(const rapidjson::Value& body,
                                                   jobs::parameter_map& out) {
  const auto* v = json::find(body, "documentParameters");
  if (v == nullptr || v->IsNull()) return std::nullopt;
  if (!v->IsObject()) return invalid("documentParameters: expected a map of strings");
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    if (!it->value.IsString()) return invalid("documentParameters: expected a map of strings");
    out.emplace(json::view(it->name), json::view(it->value));
  }
  return std::nullopt;
}

/// The refusal of the first unsupported member of `body` among `names`, if any.
std::optional<net::http_reply> refuse_unsupported(const rapidjson::Value& body,
                                                  std::span<const std::string_view> names) {
  for (auto name : names) {
    const auto* v = json::find(body, name);
    if (v != nullptr && !v->IsNull()) {
      return invalid(std::string(name) + " is not supported by this gateway");
    }
  }
  return std::nullopt;
}

/// timeoutConfig.inProgressTimeoutInMinutes into `minutes` (left as is when absent).
std::optional<net::http_reply> timeout_config(const rapidjson::Value& body, std::int64_t& minutes) {
  const auto* timeout = json::find(body, "timeoutConfig");
  if (timeout == nullptr || timeout->IsNull()) return std::nullopt;
  if (!timeout->IsObject()) return invalid("timeoutConfig: expected an object");
  const auto* m = json::find(*timeout, "inProgressTimeoutInMinutes");
  if (m != nullptr && !m->IsNull()) {
    if (!m->IsInt64() || m->GetInt64() < 1) {
      return invalid("timeoutConfig.inProgressTimeoutInMinutes: expected 1-10080");
    }
    minutes = m->GetInt64();
  }
  return std::nullopt;
}

/// Reads CreateJob's jobExecutionsRolloutConfig, abortConfig and jobExecutionsRetryConfig
/// into `spec` with the jobs library's parsers.
std::optional<net::http_reply> job_configs(const rapidjson::Value& body, jobs::job_spec& spec) {
  const auto member = [&](std::string_view name) -> std::optional<std::string> {
    const auto* v = json::find(body, name);
    if (v == nullptr || v->IsNull()) return std::nullopt;
    return json::write(*v);
  };
  if (auto v = member("jobExecutionsRolloutConfig")) {
    auto r = jobs::parse_rollout_config(*v);
    if (!r) return invalid(r.fail().message);
    spec.rollout = *r;
  }
  if (auto v = member("abortConfig")) {
    auto r = jobs::parse_abort_config(*v);
    if (!r) return invalid(r.fail().message);
    spec.abort_criteria = std::move(*r);
  }
  if (auto v = member("jobExecutionsRetryConfig")) {
    auto r = jobs::parse_retry_config(*v);
    if (!r) return invalid(r.fail().message);
    spec.retry_criteria = std::move(*r);
  }
  if (auto v = member("schedulingConfig")) {
    auto r = jobs::parse_scheduling_config(*v);
    if (!r) return invalid(r.fail().message);
    spec.scheduling = *r;
  }
  return std::nullopt;
}

/// A configuration the jobs library wrote (jobs::to_json) as a member of `o`.
void put_json(rapidjson::Value& o, std::string_view k, const std::string& text, alloc& a) {
  auto d = json::parse(text);
  if (!d) return;
  rapidjson::Value v;
  v.CopyFrom(*d, a);
  o.AddMember(json::string_value(k, a), v, a);
}

net::http_reply create_job(call& c) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  if (auto b = refuse_unsupported(body, unsupported_fields)) return *b;
  std::optional<net::http_reply> bad;
  jobs::job_spec spec;
  spec.id = c.params[0];
  auto document = string_member(body, "document", bad);
  auto description = string_member(body, "description", bad);
  auto selection = string_member(body, "targetSelection", bad);
  auto template_arn = string_member(body, "jobTemplateArn", bad);
  if (bad) return *bad;
  if (!document && !template_arn) {
    return invalid("document is required (documentSource is not supported)");
  }
  if (document) spec.document = std::move(*document);
  if (description) spec.description = std::move(*description);
  if (selection && *selection != "SNAPSHOT" && *selection != "CONTINUOUS") {
    return invalid("targetSelection: expected SNAPSHOT or CONTINUOUS");
  }
  spec.continuous = selection && *selection == "CONTINUOUS";
  if (auto b = job_configs(body, spec)) return *b;
  if (auto b = timeout_config(body, spec.in_progress_timeout_minutes)) return *b;
  const auto* targets = json::find(body, "targets");
  if (targets == nullptr || !targets->IsArray() || targets->Empty()) {
    return invalid("targets: expected a non-empty list of thing and thing group ARNs");
  }
  if (targets->Size() > max_targets)
    return error(410, "LimitExceededException", "targets: at most 100");
  auto* reg = c.g.sec->reg();
  for (const auto& t : targets->GetArray()) {
    if (!t.IsString()) return invalid("targets: expected ARN strings");
    const std::string_view arn = json::view(t);
    if (auto group = name_of_arn(arn, "thinggroup")) {
      if (!c.g.groups->describe(*group)) {
        return error(404, "ResourceNotFoundException", "no such thing group: " + *group);
      }
      for (auto& thing : c.g.groups->things_in(*group, true))
        spec.targets.push_back(std::move(thing));
      spec.target_names.push_back("thinggroup/" + *group);
      continue;
    }
    auto thing = name_of_arn(arn, "thing");
    if (!thing) return invalid("targets: not a thing or thing group ARN: " + std::string(arn));
    if (reg != nullptr && !reg->describe_thing(*thing)) {
      return error(404, "ResourceNotFoundException", "no such thing: " + *thing);
    }
    spec.target_names.push_back("thing/" + *thing);
    spec.targets.push_back(std::move(*thing));
  }
  if (spec.targets.empty() && !spec.continuous) {
    return invalid("targets: the thing groups have no things (a SNAPSHOT job needs some)");
  }
  if (auto b = document_parameters(body, spec.document_parameters)) return *b;
  if (template_arn) {
    auto id = name_of_arn(*template_arn, "jobtemplate");
    if (!id) return invalid("jobTemplateArn: not a job template ARN: " + *template_arn);
    auto merged = id->find(':') != std::string::npos  // "AWS-Reboot:1.0": a managed template
                      ? jobs::service::from_managed_template(*id, std::move(spec))
                      : jobs_of(c).from_template(*id, std::move(spec));
    if (!merged) return jobs_error(merged.fail());
    spec = std::move(*merged);
  }
  auto out = jobs_of(c).create_job(spec);
  if (!out) return jobs_error(out.fail());
  c.g.jobs->publish(std::move(*out));
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "jobArn", c.arn("job", spec.id), a);
  put(d, "jobId", spec.id, a);
  if (!spec.description.empty()) put(d, "description", spec.description, a);
  return ok(d);
}

net::http_reply describe_job(call& c) {
  // beforeSubstitution: a Job carries no document, so the answer is the same either way.
  bool before = false;
  if (auto bad = flag(c, "beforeSubstitution", before)) return *bad;
  auto j = jobs_of(c).describe_job(c.params[0]);
  if (!j) return error(404, "ResourceNotFoundException", "no such job: " + c.params[0]);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  d.AddMember("job",
              jobs::detail::write_job(*j, c.g.jobs->store().executions_of(j->id), c.arn_prefix(), a,
                                      jobs_of(c).now()),
              a);
  return ok(d);
}

net::http_reply get_job_document(call& c) {
  bool before = false;
  if (auto bad = flag(c, "beforeSubstitution", before)) return *bad;
  std::optional<std::string> doc;
  if (before) {  // a managed template's placeholders, not the values substituted
    if (auto j = jobs_of(c).describe_job(c.params[0])) doc = jobs::document_before_substitution(*j);
  } else {
    doc = c.g.jobs->store().find_document(c.params[0]);
  }
  if (!doc) return error(404, "ResourceNotFoundException", "no such job: " + c.params[0]);
  rapidjson::Document d;
  d.SetObject();
  put(d, "document", *doc, d.GetAllocator());
  return ok(d);
}

net::http_reply list_jobs(call& c) {
  std::optional<net::http_reply> bad;
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  const std::string status = c.r.query_param("status");
  if (!status.empty() && !jobs::parse_job_status(status)) {
    return invalid(
        "status: expected IN_PROGRESS, CANCELED, DELETION_IN_PROGRESS, COMPLETED or SCHEDULED");
  }
  if (!c.r.query_param("thingGroupId").empty()) return invalid("thingGroupId: use thingGroupName");
  const std::string group = c.r.query_param("thingGroupName");
  const std::string selection = c.r.query_param("targetSelection");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& id : c.g.jobs->store().job_ids()) {  // sorted
    if (!from->empty() && id < *from) continue;
    auto j = jobs_of(c).describe_job(id);
    if (!j) continue;
    if (!status.empty() && jobs::to_string(j->status) != status) continue;
    if (!selection.empty() && selection != (j->continuous ? "CONTINUOUS" : "SNAPSHOT")) continue;
    if (!group.empty() && std::find(j->targets.begin(), j->targets.end(), "thinggroup/" + group) ==
                              j->targets.end()) {
      continue;
    }
    if (arr.Size() == *max) {
      put(d, "nextToken", make_token(id), a);
      break;
    }
    arr.PushBack(jobs::detail::write_job_summary(*j, c.arn_prefix(), a), a);
  }
  d.AddMember("jobs", arr, a);
  return ok(d);
}

net::http_reply cancel_job(call& c) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  bool force = false;
  if (auto b = flag(c, "force", force)) return *b;
  std::optional<net::http_reply> bad;
  auto reason = string_member(body, "reasonCode", bad);
  auto comment = string_member(body, "comment", bad);
  if (bad) return *bad;
  // AWS: reasonCode [\p{Upper}\p{Digit}_]+ up to 128, comment up to 2028 characters.
  if (reason && (reason->empty() || reason->size() > 128 ||
                 !std::all_of(reason->begin(), reason->end(), [](char ch) {
                   return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
                 }))) {
    return invalid("reasonCode: 1-128 characters of [A-Z0-9_]");
  }
  if (comment && comment->size() > 2028) return invalid("comment: at most 2028 characters");
  auto out = jobs_of(c).cancel_job(c.params[0], force, reason.value_or(""), comment.value_or(""));
  if (!out) return jobs_error(out.fail());
  c.g.jobs->publish(std::move(*out));
  auto j = jobs_of(c).describe_job(c.params[0]);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "jobArn", c.arn("job", c.params[0]), a);
  put(d, "jobId", c.params[0], a);
  if (j && !j->description.empty()) put(d, "description", j->description, a);
  return ok(d);
}

net::http_reply delete_job(call& c) {
  bool force = false;
  if (auto b = flag(c, "force", force)) return *b;
  if (!c.r.query_param("namespaceId").empty()) return invalid("namespaceId is not supported");
  auto out = jobs_of(c).delete_job(c.params[0], force);
  if (!out) return jobs_error(out.fail(), "InvalidStateTransitionException");
  c.g.jobs->publish(std::move(*out));
  return {200, ""};
}

net::http_reply describe_job_execution(call& c) {
  std::optional<std::int64_t> number;  // absent: the current attempt; else that attempt
  if (const std::string v = c.r.query_param("executionNumber"); !v.empty()) {
    number = integer(v);
    if (!number) return invalid("executionNumber: expected an integer");
  }
  auto e = jobs_of(c).describe_execution(c.params[1], c.params[0], number);
  if (!e) return error(404, "ResourceNotFoundException", "no such job execution");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  d.AddMember("execution", jobs::detail::write_execution(*e, jobs_of(c).now(), c.arn_prefix(), a),
              a);
  return ok(d);
}

std::optional<net::http_reply> status_filter(const call& c,
                                             std::optional<jobs::execution_status>& out) {
  const std::string s = c.r.query_param("status");
  if (s.empty()) return std::nullopt;
  out = jobs::parse_execution_status(s);
  if (!out) return invalid("status: not a job execution status: " + s);
  return std::nullopt;
}

net::http_reply list_job_executions_for_job(call& c) {
  std::optional<net::http_reply> bad;
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  std::optional<jobs::execution_status> status;
  if (auto b = status_filter(c, status)) return *b;
  if (!jobs_of(c).describe_job(c.params[0])) {
    return error(404, "ResourceNotFoundException", "no such job: " + c.params[0]);
  }
  auto execs = c.g.jobs->store().executions_of(c.params[0]);
  std::sort(execs.begin(), execs.end(),
            [](const auto& x, const auto& y) { return x.thing < y.thing; });
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& e : execs) {
    if (!from->empty() && e.thing < *from) continue;
    if (status && e.status != *status) continue;
    if (arr.Size() == *max) {
      put(d, "nextToken", make_token(e.thing), a);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "thingArn", c.arn("thing", e.thing), a);
    o.AddMember("jobExecutionSummary", jobs::detail::write_execution_summary(e, a), a);
    arr.PushBack(o, a);
  }
  d.AddMember("executionSummaries", arr, a);
  return ok(d);
}

net::http_reply list_job_executions_for_thing(call& c) {
  std::optional<net::http_reply> bad;
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  std::optional<jobs::execution_status> status;
  if (auto b = status_filter(c, status)) return *b;
  const std::string job_id = c.r.query_param("jobId");
  auto execs = c.g.jobs->store().executions_for(c.params[0]);
  std::sort(execs.begin(), execs.end(),
            [](const auto& x, const auto& y) { return x.job_id < y.job_id; });
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& e : execs) {
    if (!from->empty() && e.job_id < *from) continue;
    if (status && e.status != *status) continue;
    if (!job_id.empty() && e.job_id != job_id) continue;
    if (arr.Size() == *max) {
      put(d, "nextToken", make_token(e.job_id), a);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "jobId", e.job_id, a);
    o.AddMember("jobExecutionSummary", jobs::detail::write_execution_summary(e, a), a);
    arr.PushBack(o, a);
  }
  d.AddMember("executionSummaries", arr, a);
  return ok(d);
}

net::http_reply cancel_job_execution(call& c) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  bool force = false;
  if (auto b = flag(c, "force", force)) return *b;
  std::optional<std::int64_t> expected;
  if (const auto* v = json::find(body, "expectedVersion"); v && !v->IsNull()) {
    if (!v->IsInt64()) return invalid("expectedVersion: expected an integer");
    expected = v->GetInt64();
  }
  std::optional<jobs::status_details> details;
  if (const auto* v = json::find(body, "statusDetails"); v && !v->IsNull()) {
    if (!v->IsObject()) return invalid("statusDetails: expected a map of strings");
    details.emplace();
    for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
      if (!it->value.IsString()) return invalid("statusDetails: expected a map of strings");
      details->emplace(std::string(json::view(it->name)), std::string(json::view(it->value)));
    }
  }
  auto out = jobs_of(c).cancel_execution(c.params[1], c.params[0], force, expected,
                                         details ? &*details : nullptr);
  if (!out) return jobs_error(out.fail());
  c.g.jobs->publish(std::move(*out));
  return {200, ""};
}

net::http_reply delete_job_execution(call& c) {
  bool force = false;
  if (auto b = flag(c, "force", force)) return *b;
  auto number = integer(c.params[2]);
  if (!number) return invalid("executionNumber: expected an integer");
  auto out = jobs_of(c).delete_execution(c.params[1], c.params[0], *number, force);
  if (!out) return jobs_error(out.fail());
  c.g.jobs->publish(std::move(*out));
  return {200, ""};
}

// --- job templates ------------------------------------------------------------------------

// CreateJobTemplate fields this gateway does not implement: refused, never ignored.
constexpr std::string_view unsupported_template_fields[] = {"documentSource", "presignedUrlConfig",
                                                            "destinationPackageVersions"};

net::http_reply create_job_template(call& c) {
  rapidjson::Document body;
  if (auto b = body_object(c, body)) return *b;
  if (auto b = refuse_unsupported(body, unsupported_template_fields)) return *b;
  std::optional<net::http_reply> bad;
  auto description = string_member(body, "description", bad);
  auto document = string_member(body, "document", bad);
  auto job_arn = string_member(body, "jobArn", bad);
  if (bad) return *bad;
  if (!description) return invalid("description is required");
  if (document.has_value() == job_arn.has_value()) {
    return invalid("give one of document and jobArn (documentSource is not supported)");
  }
  jobs::job_template t;
  t.id = c.params[0];
  t.description = std::move(*description);
  if (job_arn) {  // the job's document and configurations
    auto id = name_of_arn(*job_arn, "job");
    auto j = id ? jobs_of(c).describe_job(*id) : std::nullopt;
    if (!j) return error(404, "ResourceNotFoundException", "no such job: " + *job_arn);
    t.document = j->document;
    t.in_progress_timeout_minutes = j->in_progress_timeout_minutes;
    t.rollout = j->rollout;
    t.abort_criteria = j->abort_criteria;
    t.retry_criteria = j->retry_criteria;
    t.maintenance_windows = j->scheduling.maintenance_windows;
  } else {
    t.document = std::move(*document);
  }
  jobs::job_spec given;  // what the request sets wins over the job's
  if (auto b = job_configs(body, given)) return *b;
  if (auto b = timeout_config(body, t.in_progress_timeout_minutes)) return *b;
  if (given.rollout.enabled()) t.rollout = given.rollout;
  if (!given.abort_criteria.empty()) t.abort_criteria = given.abort_criteria;
  if (!given.retry_criteria.empty()) t.retry_criteria = given.retry_criteria;
  if (const auto* v = json::find(body, "maintenanceWindows"); v != nullptr && !v->IsNull()) {
    auto r = jobs::parse_maintenance_windows(json::write(*v));
    if (!r) return invalid(r.fail().message);
    t.maintenance_windows = std::move(*r);
  }
  if (auto r = jobs_of(c).create_template(std::move(t)); !r) {
    return jobs_error(r.fail(), "ConflictException");
  }
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "jobTemplateArn", c.arn("jobtemplate", c.params[0]), a);
  put(d, "jobTemplateId", c.params[0], a);
  return ok(d);
}

net::http_reply describe_job_template(call& c) {
  auto t = jobs_of(c).describe_template(c.params[0]);
  if (!t) return error(404, "ResourceNotFoundException", "no such job template: " + c.params[0]);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put(d, "jobTemplateArn", c.arn("jobtemplate", t->id), a);
  put(d, "jobTemplateId", t->id, a);
  put(d, "description", t->description, a);
  put(d, "document", t->document, a);
  put_time(d, "createdAt", t->created_at, a);
  if (t->in_progress_timeout_minutes != 0) {
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("inProgressTimeoutInMinutes", t->in_progress_timeout_minutes, a);
    d.AddMember("timeoutConfig", o, a);
  }
  if (t->rollout.enabled()) put_json(d, "jobExecutionsRolloutConfig", jobs::to_json(t->rollout), a);
  if (!t->abort_criteria.empty()) put_json(d, "abortConfig", jobs::to_json(t->abort_criteria), a);
  if (!t->retry_criteria.empty()) {
    put_json(d, "jobExecutionsRetryConfig", jobs::to_json(t->retry_criteria), a);
  }
  if (!t->maintenance_windows.empty()) {
    rapidjson::Value windows(rapidjson::kArrayType);
    for (const auto& w : t->maintenance_windows) {
      rapidjson::Value o(rapidjson::kObjectType);
      put(o, "startTime", w.start_time, a);
      o.AddMember("durationInMinutes", w.duration_minutes, a);
      windows.PushBack(o, a);
    }
    d.AddMember("maintenanceWindows", windows, a);
  }
  return ok(d);
}

net::http_reply list_job_templates(call& c) {
  std::optional<net::http_reply> bad;
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& id : c.g.jobs->store().template_ids()) {  // sorted
    if (!from->empty() && id < *from) continue;
    auto t = jobs_of(c).describe_template(id);
    if (!t) continue;
    if (arr.Size() == *max) {
      put(d, "nextToken", make_token(id), a);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "jobTemplateArn", c.arn("jobtemplate", id), a);
    put(o, "jobTemplateId", id, a);
    put(o, "description", t->description, a);
    put_time(o, "createdAt", t->created_at, a);
    arr.PushBack(o, a);
  }
  d.AddMember("jobTemplates", arr, a);
  return ok(d);
}

net::http_reply delete_job_template(call& c) {
  if (auto r = jobs_of(c).delete_template(c.params[0]); !r) return jobs_error(r.fail());
  return {200, ""};
}

// --- iot-jobs-data: the device API over HTTP, through the MQTT router ---------------------

/// The HTTP status and error type of a /rejected code.
std::pair<int, std::string_view> data_error(std::string_view code) {
  if (code == "ResourceNotFound") return {404, "ResourceNotFoundException"};
  if (code == "InvalidStateTransition" || code == "VersionMismatch") {
    return {409, "InvalidStateTransitionException"};
  }
  if (code == "TerminalStateReached") return {410, "TerminalStateException"};
  if (code == "InternalError") return {503, "ServiceUnavailableException"};
  if (code == "RequestThrottled") return {429, "ThrottlingException"};
  return {400, "InvalidRequestException"};
}

/// An /accepted payload as the HTTP API sends it: jobDocument as a string (JobDocument is a
/// string in the jobs data plane's HTTP shapes), no timestamp or clientToken.
std::string http_shape(rapidjson::Document& d) {
  auto& a = d.GetAllocator();
  auto stringify = [&a](rapidjson::Value& o) {
    auto it = o.FindMember("jobDocument");
    if (it != o.MemberEnd() && it->value.IsObject()) {
      it->value = json::string_value(json::write(it->value), a);
    }
  };
  if (!d.IsObject()) return json::write(d);
  d.RemoveMember("timestamp");
  d.RemoveMember("clientToken");
  stringify(d);
  if (auto e = d.FindMember("execution"); e != d.MemberEnd() && e->value.IsObject()) {
    stringify(e->value);
  }
  return json::write(d);
}

/// Routes `topic` with `payload` and answers with the reply's payload (pushes published).
net::http_reply through_router(call& c, const std::string& topic, std::string_view payload) {
  auto out = c.g.jobs->router().route(topic, payload);
  if (!out || out->empty()) return invalid("not a jobs request: " + topic);
  jobs::message reply = std::move(out->front());
  out->erase(out->begin());
  c.g.jobs->publish(std::move(*out));
  auto doc = json::parse(reply.payload);
  if (reply.topic.ends_with("/accepted")) {
    return {200, doc ? http_shape(*doc) : std::move(reply.payload)};
  }
  std::string code = "InternalError", message;
  if (doc && doc->IsObject()) {
    if (auto v = json::get_string(*doc, "code")) code = std::string(*v);
    if (auto v = json::get_string(*doc, "message")) message = std::string(*v);
  }
  const auto [status, type] = data_error(code);
  return error(status, type, code + (message.empty() ? "" : ": " + message));
}

std::string things_topic(const call& c) { return "$aws/things/" + c.params[0] + "/jobs"; }

net::http_reply data_get_pending(call& c) {
  return through_router(c, things_topic(c) + "/get", "{}");
}

net::http_reply data_describe(call& c) {
  rapidjson::Document p;
  p.SetObject();
  auto& a = p.GetAllocator();
  if (const auto v = c.r.query_param("executionNumber"); !v.empty()) {
    auto n = integer(v);
    if (!n) return invalid("executionNumber: expected an integer");
    p.AddMember("executionNumber", *n, a);
  }
  if (const auto v = c.r.query_param("includeJobDocument"); !v.empty()) {
    if (v != "true" && v != "false") return invalid("includeJobDocument: expected true or false");
    p.AddMember("includeJobDocument", v == "true", a);
  }
  return through_router(c, things_topic(c) + "/" + c.params[1] + "/get", json::write(p));
}

net::http_reply data_start_next(call& c) {
  return through_router(c, things_topic(c) + "/start-next", c.r.body.empty() ? "{}" : c.r.body);
}

net::http_reply data_update(call& c) {
  if (c.params[1] == "$next") return invalid("UpdateJobExecution needs a job id, not $next");
  return through_router(c, things_topic(c) + "/" + c.params[1] + "/update",
                        c.r.body.empty() ? "{}" : c.r.body);
}

}  // namespace

std::span<const operation> jobs_operations() {
  static const auto all = [] {
    std::vector<operation> v = {
        {"GET", "/jobs", list_jobs, "iot:ListJobs"},
        {"PUT", "/jobs/{}", create_job, "iot:CreateJob", "job"},
        {"GET", "/jobs/{}", describe_job, "iot:DescribeJob", "job"},
        {"DELETE", "/jobs/{}", delete_job, "iot:DeleteJob", "job"},
        {"PUT", "/jobs/{}/cancel", cancel_job, "iot:CancelJob", "job"},
        {"GET", "/jobs/{}/job-document", get_job_document, "iot:GetJobDocument", "job"},
        {"GET", "/jobs/{}/things", list_job_executions_for_job, "iot:ListJobExecutionsForJob",
         "job"},
        {"GET", "/things/{}/jobs", list_job_executions_for_thing, "iot:ListJobExecutionsForThing",
         "thing"},
        {"GET", "/things/{}/jobs/{}", describe_job_execution, "iot:DescribeJobExecution", "thing"},
        {"PUT", "/things/{}/jobs/{}/cancel", cancel_job_execution, "iot:CancelJobExecution",
         "thing"},
        {"DELETE", "/things/{}/jobs/{}/executionNumber/{}", delete_job_execution,
         "iot:DeleteJobExecution", "thing"},
        {"GET", "/job-templates", list_job_templates, "iot:ListJobTemplates"},
        {"PUT", "/job-templates/{}", create_job_template, "iot:CreateJobTemplate", "jobtemplate"},
        {"GET", "/job-templates/{}", describe_job_template, "iot:DescribeJobTemplate",
         "jobtemplate"},
        {"DELETE", "/job-templates/{}", delete_job_template, "iot:DeleteJobTemplate",
         "jobtemplate"},
    };
    const auto managed = managed_job_template_operations();
    v.insert(v.end(), managed.begin(), managed.end());
    return v;
  }();
  return all;
}

std::span<const operation> jobs_data_operations() {
  static const operation all[] = {
      {"GET", "/things/{}/jobs", data_get_pending, "iotjobsdata:GetPendingJobExecutions", "thing"},
      {"PUT", "/things/{}/jobs/$next", data_start_next, "iotjobsdata:StartNextPendingJobExecution",
       "thing"},
      {"GET", "/things/{}/jobs/{}", data_describe, "iotjobsdata:DescribeJobExecution", "thing"},
      {"POST", "/things/{}/jobs/{}", data_update, "iotjobsdata:UpdateJobExecution", "thing"},
  };
  return all;
}

}  // namespace iotblocks::gateway::aws
