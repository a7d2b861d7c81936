// `iotblocks provision register-thing --data-dir DIR --template-name N --certificate-id ID
//  [--parameters JSON]`: RegisterThing offline on a gateway's data directory (no gateway may
// have it open): the template's plan for the registered certificate applied to the
// registry, thing groups and policy store — all of it or none of it — and continuous jobs
// targeting a group the thing joined given an execution. Prints RegisterThing's accepted
// payload (deviceConfiguration, thingName) and the resources. Exit codes: 1 refused (no such
// template or certificate, a conflict), 2 usage, 3 bad input (the template or the
// parameters; the message names the path in the template), 4 a store failed.
#include "command.hpp"
#include "provisioning_command.hpp"

#ifdef IOTBLOCKS_PROVISION_REGISTER

#include <iotblocks/jobs/service.hpp>
#include <iotblocks/jobs/store.hpp>
#include <iotblocks/policy/store.hpp>
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/request.hpp>
#include <iotblocks/provisioning/template.hpp>
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/registry/thing_groups.hpp>
#include <iotblocks/registry/thing_types.hpp>

#include "core/json.hpp"
#include "gateway/provisioning_plane.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

struct register_options {
  std::string data_dir;
  std::string name;
  std::string template_file;
  std::string parameters;
  std::string certificate_id;
  bool pretty = false;
};

std::string in_dir(const register_options& o, const char* file) {
  return (std::filesystem::path(o.data_dir) / file).string();
}

template <class T>
T opened(result<T> r, const std::string& path) {
  if (!r) throw error(failed, path + ": " + r.describe());
  return std::move(*r);
}

/// Continuous IN_PROGRESS jobs targeting one of the thing's groups reach it (as the gateway).
void follow_jobs(const register_options& o, const registry::thing_groups& groups,
                 const std::string& thing) {
  const auto path = in_dir(o, "jobs.db");
  if (!std::filesystem::exists(path)) return;
  auto store = opened(jobs::sqlite_store::open(path), path);
  jobs::service svc{*store};
  const auto member_of = groups.memberships(thing);
  for (const auto& id : store->job_ids()) {
    auto j = store->find_job(id);
    if (!j || !j->continuous || j->status != jobs::job_status::in_progress) continue;
    const bool targeted = std::any_of(j->targets.begin(), j->targets.end(), [&](const auto& t) {
      return t.starts_with("thinggroup/") &&
             std::binary_search(member_of.begin(), member_of.end(), t.substr(11));
    });
    if (!targeted) continue;
    if (auto out = svc.add_target(id, thing); !out) {
      throw error(failed, "job " + id + ": " + out.describe());
    }
  }
}

void register_thing(const register_options& o) {
  if (o.template_file.empty() == o.name.empty()) {
    throw error(usage, "give one of --template FILE and --template-name");
  }
  if (!std::filesystem::is_directory(o.data_dir)) {
    throw error(usage, "--data-dir: not a directory: " + o.data_dir);
  }
  std::string label = o.name;
  std::optional<provisioning::provisioning_template> parsed;
  if (!o.template_file.empty()) {
    label = o.template_file;
    auto t = provisioning::parse_template(read_input(o.template_file));
    if (!t) throw error(bad_input, label + ": " + t.describe());
    parsed = std::move(*t);
  } else {
    auto store = open_template_store(in_dir(o, "provisioning_templates.db"));
    auto t = store->active(o.name);
    if (!t) throw error(no_result, "no such provisioning template: " + o.name);
    if (!t->enabled) throw error(no_result, "provisioning template " + o.name + " is disabled");
    if (t->type != provisioning::fleet_provisioning_type) {
      throw error(no_result, "provisioning template " + o.name + " is a JITP template");
    }
    parsed = std::move(t->parsed);
  }
  const auto parameters = read_parameters(o.parameters);

  const auto reg_path = in_dir(o, "registry.db");
  auto reg = opened(registry::registry::open(reg_path), reg_path);
  const auto record = reg.find_certificate(o.certificate_id);
  if (!record) throw error(no_result, "no such certificate in the registry: " + o.certificate_id);
  auto plan = provisioning::evaluate(*parsed, parameters, gateway::certificate_parameters(*record));
  if (!plan) throw error(bad_input, label + ": " + plan.describe());

  const auto pol_path = in_dir(o, "policies.db");
  auto policies = opened(policy::store::open(pol_path), pol_path);
  const auto groups_path = in_dir(o, "thing_groups.db");
  auto groups = opened(registry::thing_groups::open(groups_path), groups_path);
  const auto types_path = in_dir(o, "thing_types.db");
  auto types = opened(registry::thing_types::open(types_path), types_path);

  const std::string template_name = o.name.empty() ? "cli" : o.name;
  auto applied = gateway::apply_provisioning_plan({reg, policies, *groups, *types}, template_name,
                                                  *plan, *record);
  if (!applied) {
    const auto ec = applied.error();
    const int code = ec == provisioning::error::internal_error      ? failed
                     : ec == provisioning::error::resource_conflict ? no_result
                                                                    : bad_input;
    throw error(code, label + ": " + applied.fail().describe());
  }
  if (plan->thing && !applied->added_groups.empty()) follow_jobs(o, *groups, plan->thing->name);

  auto accepted = json::parse(provisioning::register_thing_accepted(
      plan->device_configuration, plan->thing ? std::string_view(plan->thing->name) : ""));
  if (!accepted) throw error(failed, "internal: " + accepted.describe());
  auto& a = accepted->GetAllocator();
  accepted->AddMember("resources", plan_json(*plan, a), a);
  print_line(json::write(*accepted, o.pretty));
}

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace

void add_register_thing(CLI::App* provision) {
  using namespace IOTBLOCKS_CLI_UNIT;  // register_options, register_thing
  auto o = std::make_shared<register_options>();
  auto* cmd = provision->add_subcommand(
      "register-thing", "RegisterThing on a gateway's data directory, all or nothing");
  cmd->add_option("--data-dir", o->data_dir,
                  "The gateway's data_dir (registry.db, policies.db, thing_groups.db, …)")
      ->required();
  cmd->add_option("--template-name", o->name, "Template in <data-dir>/provisioning_templates.db");
  cmd->add_option("--template", o->template_file, "Template body file instead ('-': stdin)");
  cmd->add_option("--certificate-id", o->certificate_id,
                  "The device's registered certificate (AWS::IoT::Certificate::Id)")
      ->required();
  cmd->add_option("--parameters", o->parameters, "RegisterThing's parameters: JSON, or @file");
  cmd->add_flag("--pretty", o->pretty, "Indent the output");
  cmd->callback([o] { register_thing(*o); });
}

}  // namespace iotblocks::cli

#else

namespace iotblocks::cli {
void add_register_thing(CLI::App*) {}  // this build has no gateway component
}  // namespace iotblocks::cli

#endif
