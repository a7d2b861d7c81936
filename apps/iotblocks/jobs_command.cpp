// `iotblocks jobs create|list|describe|list-executions|describe-execution|cancel|
//  cancel-execution|delete --store jobs.db …`: AWS IoT Jobs' control plane on a jobs store
// file (the gateway's <data_dir>/jobs.db) through the jobs service, beside a running gateway
// or not: the store refuses a commit based on reads another process changed (the service
// runs it again) and leaves the notify pushes for the gateway to publish. Prints the AWS CLI's
// response shapes (CreateJob, ListJobs, DescribeJob, ListJobExecutionsForJob / ForThing,
// DescribeJobExecution, CancelJob). Exit codes: 1 the service refused the operation (no such job, a
// conflict), 2 usage, 3 bad input (a document or configuration that does not parse), 4 the store
// failed.
#include "command.hpp"

#include <iotblocks/jobs/config.hpp>
#include <iotblocks/jobs/managed_templates.hpp>
#include <iotblocks/jobs/service.hpp>
#include <iotblocks/jobs/store.hpp>
#ifdef IOTBLOCKS_JOBS_GROUPS
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/registry/thing_groups.hpp>
#endif

#include "core/json.hpp"
#include "jobs/aws_json.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

using alloc = rapidjson::Document::AllocatorType;

struct common_options {
  std::string store;
  std::string region = "us-east-1";
  std::string account = "000000000000";
  bool pretty = false;

  std::string arn_prefix() const { return "arn:aws:iot:" + region + ":" + account + ":"; }
  std::string arn(std::string_view kind, std::string_view name) const {
    return arn_prefix() + std::string(kind) + "/" + std::string(name);
  }
};

struct create_options {
  std::string job_id;
  std::string document;         ///< file ('-': standard input)
  std::string document_inline;  ///< JSON text
  std::vector<std::string> things;
  std::vector<std::string> groups;
  std::vector<std::string> targets;  ///< ARNs
  std::string groups_store;          ///< thing_groups.db; default: beside the jobs store
  std::string registry;              ///< registry.db; default: beside the jobs store, if there
  std::string description;
  std::string selection = "SNAPSHOT";
  std::int64_t timeout = 0;
  std::string rollout, abort, retry, scheduling;  ///< JSON text, or @file
  std::string template_id;
};

struct job_options {
  std::string job_id;
  std::string thing;
  std::string status;
  bool force = false;
  std::string reason_code;
  std::string comment;
  std::int64_t execution_number = 0;  ///< 0: the current attempt
  bool before_substitution = false;
};

std::unique_ptr<jobs::sqlite_store> open_store(const common_options& o) {
  if (o.store.empty()) throw error(usage, "--store is required");
  auto s = jobs::sqlite_store::open(o.store);
  if (!s) throw error(failed, o.store + ": " + s.describe());
  return std::move(*s);
}

/// A service failure: the store's own faults exit 4, refusals 1.
[[noreturn]] void refused(const failure& f) {
  const int code = f.code == jobs::error::internal_error ? failed : no_result;
  throw error(code, f.message.empty() ? f.code.message() : f.describe());
}

void put(rapidjson::Value& o, std::string_view k, std::string_view v, alloc& a) {
  o.AddMember(json::string_value(k, a), json::string_value(v, a), a);
}

void print(const rapidjson::Value& d, const common_options& o) {
  print_line(json::write(d, o.pretty));
}

/// JSON given inline, or "@path" for a file's content.
std::string inline_or_file(const std::string& v) {
  return v.starts_with('@') ? read_input(v.substr(1)) : v;
}

/// The `kind` name in "arn:aws:iot:<region>:<account>:<kind>/<name>", or nullopt.
std::optional<std::string> name_of_arn(std::string_view arn, std::string_view kind) {
  if (!arn.starts_with("arn:aws:iot:")) return std::nullopt;
  const std::string marker = ":" + std::string(kind) + "/";
  const auto at = arn.find(marker);
  if (at == std::string_view::npos || at + marker.size() == arn.size()) return std::nullopt;
  if (std::count(arn.begin(), arn.begin() + static_cast<std::ptrdiff_t>(at), ':') != 4) {
    return std::nullopt;
  }
  return std::string(arn.substr(at + marker.size()));
}

/// The things of `groups` (recursively) added to spec.targets, the groups to its target
/// names, from the thing groups store named by --groups (default: thing_groups.db beside the
/// jobs store).
void add_group_targets(const common_options& o, const create_options& c,
                       const std::vector<std::string>& groups, jobs::job_spec& spec) {
#ifdef IOTBLOCKS_JOBS_GROUPS
  std::string path = c.groups_store;
  if (path.empty()) {
    path = (std::filesystem::path(o.store).parent_path() / "thing_groups.db").string();
    if (!std::filesystem::exists(path)) {
      throw error(no_result, "thing groups need a groups store: --groups thing_groups.db (" + path +
                                 " does not exist)");
    }
  }
  auto store = registry::thing_groups::open(path);
  if (!store) throw error(failed, path + ": " + store.describe());
  for (const auto& g : groups) {
    if (!(*store)->describe(g)) throw error(no_result, "no such thing group: " + g);
    for (auto& t : (*store)->things_in(g, true)) spec.targets.push_back(std::move(t));
    spec.target_names.push_back("thinggroup/" + g);
  }
#else
  (void)o, (void)c, (void)groups, (void)spec;
  throw error(usage, "thing groups: this build has no registry component");
#endif
}

/// Refuses things the registry does not have, as CreateJob does (no registry file: no check).
void check_things(const common_options& o, const create_options& c,
                  const std::vector<std::string>& things) {
#ifdef IOTBLOCKS_JOBS_GROUPS
  std::string path = c.registry;
  if (path.empty()) {
    path = (std::filesystem::path(o.store).parent_path() / "registry.db").string();
    if (!std::filesystem::exists(path)) return;
  }
  auto reg = registry::registry::open(path);
  if (!reg) throw error(failed, path + ": " + reg.describe());
  for (const auto& t : things) {
    if (!reg->describe_thing(t)) throw error(no_result, "no such thing: " + t);
  }
#else
  (void)o, (void)c, (void)things;
#endif
}

void create(const common_options& o, const create_options& c) {
  jobs::job_spec spec;
  spec.id = c.job_id;
  if (!c.document.empty() && !c.document_inline.empty()) {
    throw error(usage, "give one of --document and --document-inline");
  }
  if (!c.document.empty()) spec.document = read_input(c.document);
  if (!c.document_inline.empty()) spec.document = c.document_inline;
  if (spec.document.empty() && c.template_id.empty()) {
    throw error(usage, "a job needs --document, --document-inline or --job-template");
  }
  if (!spec.document.empty()) {
    auto doc = json::parse(spec.document);
    if (!doc) throw error(bad_input, "document: " + doc.describe());
    if (!doc->IsObject()) throw error(bad_input, "document: expected a JSON object");
    spec.document = json::write(*doc);
  }
  spec.description = c.description;
  spec.continuous = c.selection == "CONTINUOUS";
  spec.in_progress_timeout_minutes = c.timeout;
  if (!c.rollout.empty()) {
    auto r = jobs::parse_rollout_config(inline_or_file(c.rollout));
    if (!r) throw error(bad_input, "--rollout: " + r.describe());
    spec.rollout = *r;
  }
  if (!c.abort.empty()) {
    auto r = jobs::parse_abort_config(inline_or_file(c.abort));
    if (!r) throw error(bad_input, "--abort: " + r.describe());
    spec.abort_criteria = std::move(*r);
  }
  if (!c.retry.empty()) {
    auto r = jobs::parse_retry_config(inline_or_file(c.retry));
    if (!r) throw error(bad_input, "--retry: " + r.describe());
    spec.retry_criteria = std::move(*r);
  }
  if (!c.scheduling.empty()) {
    auto r = jobs::parse_scheduling_config(inline_or_file(c.scheduling));
    if (!r) throw error(bad_input, "--scheduling: " + r.describe());
    spec.scheduling = std::move(*r);
  }
  std::vector<std::string> things = c.things, groups = c.groups;
  for (const auto& arn : c.targets) {
    if (auto g = name_of_arn(arn, "thinggroup")) {
      groups.push_back(std::move(*g));
    } else if (auto t = name_of_arn(arn, "thing")) {
      things.push_back(std::move(*t));
    } else {
      throw error(usage, "--targets: not a thing or thing group ARN: " + arn);
    }
  }
  if (things.empty() && groups.empty()) {
    throw error(usage, "a job needs targets: --things, --thing-groups or --targets");
  }
  if (things.size() + groups.size() > 100) throw error(usage, "targets: at most 100");
  check_things(o, c, things);
  for (auto& t : things) {
    spec.target_names.push_back("thing/" + t);
    spec.targets.push_back(t);
  }
  if (!groups.empty()) add_group_targets(o, c, groups, spec);
  if (spec.targets.empty() && !spec.continuous) {
    throw error(no_result, "targets: the thing groups have no things (a SNAPSHOT job needs some)");
  }
  auto store = open_store(o);
  jobs::service svc{*store};
  svc.announce_pushes(true);  // a gateway on the file publishes them (take_announced)
  if (!c.template_id.empty()) {
    auto merged = svc.from_template(c.template_id, std::move(spec));
    if (!merged) refused(merged.fail());
    spec = std::move(*merged);
  }
  if (auto out = svc.create_job(spec); !out) refused(out.fail());
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  put(d, "jobArn", o.arn("job", spec.id), a);
  put(d, "jobId", spec.id, a);
  if (!spec.description.empty()) put(d, "description", spec.description, a);
  print(d, o);
}

void list(const common_options& o, const job_options& j) {
  if (!j.status.empty() && !jobs::parse_job_status(j.status)) {
    throw error(usage,
                "--status: expected IN_PROGRESS, CANCELED, DELETION_IN_PROGRESS or COMPLETED");
  }
  auto store = open_store(o);
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& id : store->job_ids()) {
    auto job = store->find_job(id);
    if (!job || (!j.status.empty() && jobs::to_string(job->status) != j.status)) continue;
    arr.PushBack(jobs::detail::write_job_summary(*job, o.arn_prefix(), a), a);
  }
  d.AddMember("jobs", arr, a);
  print(d, o);
}

jobs::job find_job(const jobs::store& store, const std::string& id) {
  auto j = store.find_job(id);
  if (!j) throw error(no_result, "no such job: " + id);
  return std::move(*j);
}

void describe(const common_options& o, const job_options& opts) {
  auto store = open_store(o);
  const auto j = find_job(*store, opts.job_id);
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("job", jobs::detail::write_job(j, store->executions_of(j.id), o.arn_prefix(), a), a);
  const std::string doc =
      opts.before_substitution ? jobs::document_before_substitution(j) : j.document;
  d.AddMember("document", json::string_value(doc, a), a);  // GetJobDocument's
  print(d, o);
}

void list_executions(const common_options& o, const job_options& opts) {
  if (opts.job_id.empty() == opts.thing.empty()) {
    throw error(usage, "give one of --job-id (ListJobExecutionsForJob) and --thing (…ForThing)");
  }
  std::optional<jobs::execution_status> status;
  if (!opts.status.empty()) {
    status = jobs::parse_execution_status(opts.status);
    if (!status) throw error(usage, "--status: not a job execution status: " + opts.status);
  }
  auto store = open_store(o);
  std::vector<jobs::execution> execs;
  if (!opts.job_id.empty()) {
    (void)find_job(*store, opts.job_id);
    execs = store->executions_of(opts.job_id);
    std::sort(execs.begin(), execs.end(), [](auto& x, auto& y) { return x.thing < y.thing; });
  } else {
    execs = store->executions_for(opts.thing);
    std::sort(execs.begin(), execs.end(), [](auto& x, auto& y) { return x.job_id < y.job_id; });
  }
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& e : execs) {
    if (status && e.status != *status) continue;
    rapidjson::Value v(rapidjson::kObjectType);
    if (opts.job_id.empty()) {
      put(v, "jobId", e.job_id, a);
    } else {
      put(v, "thingArn", o.arn("thing", e.thing), a);
    }
    v.AddMember("jobExecutionSummary", jobs::detail::write_execution_summary(e, a), a);
    arr.PushBack(v, a);
  }
  d.AddMember("executionSummaries", arr, a);
  print(d, o);
}

void describe_execution(const common_options& o, const job_options& opts) {
  auto store = open_store(o);
  jobs::service svc{*store};
  std::optional<std::int64_t> number;
  if (opts.execution_number != 0) number = opts.execution_number;
  auto e = svc.describe_execution(opts.job_id, opts.thing, number);
  if (!e) throw error(no_result, "no such job execution: " + opts.job_id + " on " + opts.thing);
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  const std::int64_t now = default_clock().now_ms() / 1000;
  d.AddMember("execution", jobs::detail::write_execution(*e, now, o.arn_prefix(), a), a);
  print(d, o);
}

void cancel(const common_options& o, const job_options& opts) {
  const auto& r = opts.reason_code;
  if (!r.empty() && (r.size() > 128 || !std::all_of(r.begin(), r.end(), [](char ch) {
                       return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
                     }))) {
    throw error(usage, "--reason-code: 1-128 characters of [A-Z0-9_]");
  }
  if (opts.comment.size() > 2028) throw error(usage, "--comment: at most 2028 characters");
  auto store = open_store(o);
  jobs::service svc{*store};
  svc.announce_pushes(true);  // a gateway on the file publishes them (take_announced)
  auto out = svc.cancel_job(opts.job_id, opts.force, opts.reason_code, opts.comment);
  if (!out) refused(out.fail());
  const auto j = find_job(*store, opts.job_id);
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  put(d, "jobArn", o.arn("job", j.id), a);
  put(d, "jobId", j.id, a);
  if (!j.description.empty()) put(d, "description", j.description, a);
  print(d, o);
}

void cancel_execution(const common_options& o, const job_options& opts) {
  auto store = open_store(o);
  jobs::service svc{*store};
  svc.announce_pushes(true);  // a gateway on the file publishes them (take_announced)
  if (auto out = svc.cancel_execution(opts.job_id, opts.thing, opts.force); !out) {
    refused(out.fail());
  }
}

void remove(const common_options& o, const job_options& opts) {
  auto store = open_store(o);
  jobs::service svc{*store};
  svc.announce_pushes(true);  // a gateway on the file publishes them (take_announced)
  if (auto out = svc.delete_job(opts.job_id, opts.force); !out) refused(out.fail());
}

/// --store, --region, --account-id and --pretty on `cmd`.
void add_common(CLI::App* cmd, const std::shared_ptr<common_options>& o) {
  cmd->add_option("--store", o->store, "Jobs store file (the gateway's <data_dir>/jobs.db)")
      ->required();
  cmd->add_option("--region", o->region, "Region in the ARNs printed")->capture_default_str();
  cmd->add_option("--account-id", o->account, "Account in the ARNs printed")->capture_default_str();
  cmd->add_flag("--pretty", o->pretty, "Indent the output");
}

CLI::Option* add_job_id(CLI::App* cmd, const std::shared_ptr<job_options>& j) {
  return cmd->add_option("--job-id", j->job_id, "Job id");
}

void setup(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "jobs",
      "AWS IoT Jobs on a jobs store file (a running gateway's too: it publishes the pushes)");
  cmd->require_subcommand(1);
  auto o = std::make_shared<common_options>();
  auto c = std::make_shared<create_options>();
  auto j = std::make_shared<job_options>();

  auto* cr = cmd->add_subcommand("create", "CreateJob: a job and its QUEUED executions");
  add_common(cr, o);
  cr->add_option("--job-id", c->job_id, "Job id ([a-zA-Z0-9_-], 1..64)")->required();
  cr->add_option("--document", c->document, "Job document file ('-': standard input)");
  cr->add_option("--document-inline", c->document_inline, "Job document (a JSON object)");
  cr->add_option("--things", c->things, "Target thing names");
  cr->add_option("--thing-groups", c->groups, "Target thing group names");
  cr->add_option("--targets", c->targets, "Target thing or thing group ARNs (as aws iot)");
  cr->add_option("--groups", c->groups_store,
                 "Thing groups store (default: thing_groups.db beside --store)");
  cr->add_option("--registry", c->registry,
                 "Registry whose things --things must name (default: registry.db beside --store, "
                 "when there)");
  cr->add_option("--description", c->description, "Description");
  cr->add_option("--target-selection", c->selection, "CONTINUOUS: things added to a group later")
      ->check(CLI::IsMember({"SNAPSHOT", "CONTINUOUS"}))
      ->capture_default_str();
  cr->add_option("--timeout", c->timeout, "timeoutConfig.inProgressTimeoutInMinutes (1..10080)");
  cr->add_option("--rollout", c->rollout, "jobExecutionsRolloutConfig JSON, or @file");
  cr->add_option("--abort", c->abort, "abortConfig JSON, or @file");
  cr->add_option("--retry", c->retry, "jobExecutionsRetryConfig JSON, or @file");
  cr->add_option("--scheduling", c->scheduling,
                 "schedulingConfig JSON (startTime, endTime, endBehavior, maintenanceWindows), or "
                 "@file");
  cr->add_option("--job-template", c->template_id,
                 "Job template id: what the job does not set comes from it");
  cr->callback([o, c] { create(*o, *c); });

  auto* ls = cmd->add_subcommand("list", "ListJobs");
  add_common(ls, o);
  ls->add_option("--status", j->status, "IN_PROGRESS, CANCELED, COMPLETED");
  ls->callback([o, j] { list(*o, *j); });

  auto* de = cmd->add_subcommand("describe", "DescribeJob, and the job document");
  add_common(de, o);
  add_job_id(de, j)->required();
  de->add_flag("--before-substitution", j->before_substitution,
               "The document of a managed template's job with its placeholders");
  de->callback([o, j] { describe(*o, *j); });

  auto* le = cmd->add_subcommand(
      "list-executions",
      "ListJobExecutionsForJob (--job-id) or ListJobExecutionsForThing (--thing)");
  add_common(le, o);
  add_job_id(le, j);
  le->add_option("--thing", j->thing, "Thing name");
  le->add_option("--status", j->status, "Only executions in this status (QUEUED, …)");
  le->callback([o, j] { list_executions(*o, *j); });

  auto* dx = cmd->add_subcommand("describe-execution", "DescribeJobExecution");
  add_common(dx, o);
  add_job_id(dx, j)->required();
  dx->add_option("--thing", j->thing, "Thing name")->required();
  dx->add_option("--execution-number", j->execution_number,
                 "That attempt (an earlier one a retry ended); default: the current one")
      ->check(CLI::PositiveNumber);
  dx->callback([o, j] { describe_execution(*o, *j); });

  auto* ca = cmd->add_subcommand("cancel", "CancelJob: QUEUED executions (--force: all) CANCELED");
  add_common(ca, o);
  add_job_id(ca, j)->required();
  ca->add_flag("--force", j->force, "Cancel IN_PROGRESS executions too");
  ca->add_option("--reason-code", j->reason_code, "reasonCode ([A-Z0-9_], up to 128)");
  ca->add_option("--comment", j->comment, "comment (up to 2028 characters)");
  ca->callback([o, j] { cancel(*o, *j); });

  auto* cx = cmd->add_subcommand("cancel-execution", "CancelJobExecution (prints nothing)");
  add_common(cx, o);
  add_job_id(cx, j)->required();
  cx->add_option("--thing", j->thing, "Thing name")->required();
  cx->add_flag("--force", j->force, "Cancel an IN_PROGRESS execution too");
  cx->callback([o, j] { cancel_execution(*o, *j); });

  auto* rm = cmd->add_subcommand(
      "delete", "DeleteJob (prints nothing): a COMPLETED or CANCELED job; --force: any");
  add_common(rm, o);
  add_job_id(rm, j)->required();
  rm->add_flag("--force", j->force, "Delete a job that is IN_PROGRESS too");
  rm->callback([o, j] { remove(*o, *j); });
}

const registrar reg{85, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
