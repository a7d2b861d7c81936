// AWS managed job templates over the AWS-shaped HTTP API: ListManagedJobTemplates and
// DescribeManagedJobTemplate (`aws iot list-managed-job-templates` …), from the jobs
// library's catalogue. CreateJob with a managed template's ARN is in aws_api_jobs.cpp.
#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"

#include <iotblocks/jobs/managed_templates.hpp>

namespace iotblocks::gateway::aws {
namespace {

/// "arn:aws:iot:<region>::jobtemplate/<name>:<version>" (no account, as AWS writes it).
std::string managed_arn(const call& c, const jobs::managed_template& t) {
  std::string prefix = c.arn_prefix();  // "arn:aws:iot:<region>:<account>:"
  prefix.erase(prefix.rfind(':', prefix.size() - 2) + 1);
  return prefix + ":jobtemplate/" + std::string(t.name) + ':' + std::string(t.version);
}

void put_summary(rapidjson::Value& o, const call& c, const jobs::managed_template& t, alloc& a) {
  put(o, "templateArn", managed_arn(c, t), a);
  put(o, "templateName", t.name, a);
  put(o, "description", t.description, a);
  rapidjson::Value envs(rapidjson::kArrayType);
  for (auto e : t.environments) envs.PushBack(json::string_value(e, a), a);
  o.AddMember("environments", envs, a);
  put(o, "templateVersion", t.version, a);
}

net::http_reply list_managed_job_templates(call& c) {
  std::optional<net::http_reply> bad;
  const auto max = page_size(c, "maxResults", 50, 250, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  const std::string name = c.r.query_param("templateName");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& t : jobs::managed_templates()) {  // sorted by name, version
    if (!name.empty() && t.name != name) continue;
    const std::string key = std::string(t.name) + ':' + std::string(t.version);
    if (!from->empty() && key < *from) continue;
    if (arr.Size() == *max) {
      put(d, "nextToken", make_token(key), a);
      break;
    }
    rapidjson::Value o(rapidjson::kObjectType);
    put_summary(o, c, t, a);
    arr.PushBack(o, a);
  }
  d.AddMember("managedJobTemplates", arr, a);
  return ok(d);
}

net::http_reply describe_managed_job_template(call& c) {
  const std::string version = c.r.query_param("templateVersion");
  const auto* t = jobs::find_managed_template(c.params[0], version);
  if (!t) {
    return error(404, "ResourceNotFoundException",
                 "no managed job template " + c.params[0] +
                     (version.empty() ? std::string{} : " in version " + version));
  }
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  put_summary(d, c, *t, a);
  rapidjson::Value params(rapidjson::kArrayType);
  for (const auto& p : t->parameters) {
    rapidjson::Value o(rapidjson::kObjectType);
    put(o, "key", p.key, a);
    put(o, "description", p.description, a);
    put(o, "regex", p.regex, a);
    put(o, "example", p.example, a);
    o.AddMember("optional", p.optional, a);
    params.PushBack(o, a);
  }
  d.AddMember("documentParameters", params, a);
  put(d, "document", t->document, a);
  return ok(d);
}

}  // namespace

std::span<const operation> managed_job_template_operations() {
  static const operation all[] = {
      {"GET", "/managed-job-templates", list_managed_job_templates, "iot:ListManagedJobTemplates"},
      {"GET", "/managed-job-templates/{}", describe_managed_job_template,
       "iot:DescribeManagedJobTemplate"},
  };
  return all;
}

}  // namespace iotblocks::gateway::aws
