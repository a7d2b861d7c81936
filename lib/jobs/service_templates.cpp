// The jobs service's job templates: CreateJobTemplate, DeleteJobTemplate, and CreateJob's
// jobTemplateArn (from_template).
#include <iotblocks/jobs/managed_templates.hpp>
#include <iotblocks/jobs/service.hpp>

#include "core/json.hpp"

namespace iotblocks::jobs {

namespace {
constexpr std::size_t max_description = 2028;  // AWS's JobDescription
}  // namespace

result<void> service::create_template(job_template t) {
  std::unique_lock lock{mutex_};
  if (!valid_job_id(t.id, limits_.max_job_id())) {
    return failure{
        error::invalid_request, "jobTemplateId must be 1-64 characters of [a-zA-Z0-9_-]", {}};
  }
  if (t.description.empty() || t.description.size() > max_description) {
    return failure{error::invalid_request, "description must be 1-2028 characters", {}};
  }
  if (t.document.size() > limits_.max_document_size()) {
    return failure{error::limit_exceeded, "the job document exceeds the maximum size", {}};
  }
  auto doc = json::parse(t.document, {.max_depth = limits_.max_depth()});
  if (!doc || !doc->IsObject()) {
    return failure{error::invalid_request, "the job document must be a JSON object", {}};
  }
  t.document = json::write(*doc);
  if (t.in_progress_timeout_minutes < 0 ||
      t.in_progress_timeout_minutes > limits::max_timeout_minutes) {
    return failure{error::invalid_request, "inProgressTimeoutInMinutes must be 1-10080", {}};
  }
  for (const auto& bad : {t.rollout.enabled() ? check_rollout(t.rollout) : std::string{},
                          t.abort_criteria.empty() ? std::string{} : check_abort(t.abort_criteria),
                          t.retry_criteria.empty() ? std::string{} : check_retry(t.retry_criteria),
                          check_scheduling({0, 0, end_behavior::none, t.maintenance_windows}, 0)}) {
    if (!bad.empty()) return failure{error::invalid_request, bad, {}};
  }
  if (store_.find_template(t.id)) {
    return failure{error::conflict, "a job template with this id exists", {}};
  }
  t.created_at = now();
  batch b;
  b.templates.push_back(std::move(t));
  if (auto ec = store_.commit(b)) return failure{error::internal_error, ec.message(), {}};
  return {};
}

result<void> service::delete_template(std::string_view id) {
  std::unique_lock lock{mutex_};
  if (!store_.find_template(id)) {
    return failure{error::resource_not_found, "no job template with this id", {}};
  }
  batch b;
  b.erased_templates.emplace_back(id);
  if (auto ec = store_.commit(b)) return failure{error::internal_error, ec.message(), {}};
  return {};
}

std::optional<job_template> service::describe_template(std::string_view id) const {
  std::lock_guard lock{mutex_};
  return store_.find_template(id);
}

result<job_spec> service::from_template(std::string_view id, job_spec spec) const {
  auto t = describe_template(id);
  if (!t) return failure{error::resource_not_found, "no job template with this id", {}};
  if (spec.document.empty()) spec.document = t->document;
  if (spec.in_progress_timeout_minutes == 0) {
    spec.in_progress_timeout_minutes = t->in_progress_timeout_minutes;
  }
  if (!spec.rollout.enabled()) spec.rollout = t->rollout;
  if (spec.abort_criteria.empty()) spec.abort_criteria = t->abort_criteria;
  if (spec.retry_criteria.empty()) spec.retry_criteria = t->retry_criteria;
  if (spec.scheduling.maintenance_windows.empty()) {
    spec.scheduling.maintenance_windows = t->maintenance_windows;
  }
  spec.template_id = t->id;
  return spec;
}

result<job_spec> service::from_managed_template(std::string_view name_version, job_spec spec) {
  const auto colon = name_version.find(':');
  const auto name = name_version.substr(0, colon);
  const auto version =
      colon == std::string_view::npos ? std::string_view{} : name_version.substr(colon + 1);
  const auto* t = find_managed_template(name, version);
  if (!t) {
    return failure{
        error::resource_not_found, "no managed job template " + std::string(name_version), {}};
  }
  if (!spec.document.empty()) {
    return failure{error::invalid_request,
                   "a job from a managed template takes its document from the template",
                   {}};
  }
  auto doc = document_from_template(*t, spec.document_parameters);
  if (!doc) return doc.fail();
  spec.document = std::move(*doc);
  if (spec.description.empty()) spec.description = t->description;
  spec.template_id = std::string(t->name) + ':' + std::string(t->version);
  return spec;
}

}  // namespace iotblocks::jobs
