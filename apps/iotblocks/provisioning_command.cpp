// `iotblocks provision validate|evaluate|list-templates|describe-template …`: fleet
// provisioning templates offline. validate checks a template file (errors name the file
// and the path in the template); evaluate prints what RegisterThing would create for a
// device's parameters (a dry run: nothing is written); list-templates and describe-template
// read a template store file (the gateway's <data_dir>/provisioning_templates.db) and print
// ListProvisioningTemplates / DescribeProvisioningTemplate shapes. Exit codes: 1 no such
// template, 2 usage, 3 bad input (the template or the parameters), 4 the store failed.
#include "provisioning_command.hpp"
#include "command.hpp"

#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/template.hpp>
#include <iotblocks/provisioning/template_store.hpp>

#include "core/json.hpp"

#include <map>
#include <memory>
#include <string>

namespace iotblocks::cli {

using alloc = rapidjson::Document::AllocatorType;

namespace {
namespace IOTBLOCKS_CLI_UNIT {

void put(rapidjson::Value& o, std::string_view k, std::string_view v, alloc& a) {
  o.AddMember(json::string_value(k, a), json::string_value(v, a), a);
}

rapidjson::Value strings(const std::map<std::string, std::string>& m, alloc& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  for (const auto& [k, v] : m) put(o, k, v, a);
  return o;
}

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace

std::unique_ptr<provisioning::template_store> open_template_store(const std::string& path) {
  auto s = provisioning::template_store::open(path);
  if (!s) throw error(failed, path + ": " + s.describe());
  return std::move(*s);
}

std::map<std::string, std::string> read_parameters(const std::string& text) {
  std::map<std::string, std::string> out;
  if (text.empty()) return out;
  const std::string body = text.starts_with('@') ? read_input(text.substr(1)) : text;
  auto d = json::parse(body);
  if (!d) throw error(bad_input, "--parameters: " + d.describe());
  if (!d->IsObject()) throw error(bad_input, "--parameters: expected a JSON object of strings");
  for (auto it = d->MemberBegin(); it != d->MemberEnd(); ++it) {
    if (!it->value.IsString()) {
      throw error(bad_input, "--parameters." + std::string(json::view(it->name)) +
                                 ": expected a string (as RegisterThing's parameters)");
    }
    out.emplace(json::view(it->name), json::view(it->value));
  }
  return out;
}

rapidjson::Value plan_json(const provisioning::plan& p, alloc& a) {
  using namespace IOTBLOCKS_CLI_UNIT;  // put, strings
  rapidjson::Value o(rapidjson::kObjectType);
  if (p.thing) {
    const auto& t = *p.thing;
    rapidjson::Value v(rapidjson::kObjectType);
    put(v, "logicalName", t.logical_name, a);
    put(v, "thingName", t.name, a);
    if (t.type_name) put(v, "thingTypeName", *t.type_name, a);
    if (t.groups) {
      rapidjson::Value g(rapidjson::kArrayType);
      for (const auto& name : *t.groups) g.PushBack(json::string_value(name, a), a);
      v.AddMember("thingGroups", g, a);
    }
    if (t.attributes) v.AddMember("attributes", strings(*t.attributes, a), a);
    rapidjson::Value ov(rapidjson::kObjectType);
    put(ov, "ThingTypeName", provisioning::to_string(t.type_override), a);
    put(ov, "ThingGroups", provisioning::to_string(t.groups_override), a);
    put(ov, "AttributePayload", provisioning::to_string(t.attributes_override), a);
    v.AddMember("overrideSettings", ov, a);
    o.AddMember("thing", v, a);
  }
  if (p.certificate) {
    const auto& c = *p.certificate;
    rapidjson::Value v(rapidjson::kObjectType);
    put(v, "logicalName", c.logical_name, a);
    if (!c.id.empty()) put(v, "certificateId", c.id, a);
    if (!c.csr.empty()) put(v, "certificateSigningRequest", c.csr, a);
    if (!c.pem.empty()) put(v, "certificatePem", c.pem, a);
    if (!c.ca_pem.empty()) put(v, "caCertificatePem", c.ca_pem, a);
    put(v, "status", c.active ? "ACTIVE" : "INACTIVE", a);
    o.AddMember("certificate", v, a);
  }
  rapidjson::Value policies(rapidjson::kArrayType);
  for (const auto& pol : p.policies) {
    rapidjson::Value v(rapidjson::kObjectType);
    put(v, "logicalName", pol.logical_name, a);
    if (!pol.name.empty()) put(v, "policyName", pol.name, a);
    if (!pol.document.empty()) put(v, "policyDocument", pol.document, a);
    policies.PushBack(v, a);
  }
  o.AddMember("policies", policies, a);
  o.AddMember("deviceConfiguration", strings(p.device_configuration, a), a);
  return o;
}

namespace {
namespace IOTBLOCKS_CLI_UNIT {

struct options {
  std::string template_file;
  std::string store;
  std::string name;
  std::string parameters;
  std::string certificate_id = "0000000000000000000000000000000000000000000000000000000000000000";
  std::string region = "us-east-1";
  std::string account = "000000000000";
  bool pretty = false;

  std::string arn(std::string_view name_) const {
    return "arn:aws:iot:" + region + ":" + account + ":provisioningtemplate/" + std::string(name_);
  }
};

void print(const rapidjson::Value& v, const options& o) { print_line(json::write(v, o.pretty)); }

/// The template of --template FILE, or --template-name in --store.
provisioning::provisioning_template load_template(const options& o, std::string& label) {
  if (o.template_file.empty() == o.name.empty()) {
    throw error(usage, "give one of --template FILE and --template-name (with --store)");
  }
  if (!o.template_file.empty()) {
    label = o.template_file == "-" ? "<stdin>" : o.template_file;
    auto t = provisioning::parse_template(read_input(o.template_file));
    if (!t) throw error(bad_input, label + ": " + t.describe());
    return std::move(*t);
  }
  if (o.store.empty()) throw error(usage, "--template-name needs --store");
  label = o.name;
  auto t = open_template_store(o.store)->active(o.name);
  if (!t) throw error(no_result, "no such provisioning template: " + o.name);
  return std::move(t->parsed);
}

void validate(const options& o) {
  std::string label;
  auto t = load_template(o, label);
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  put(d, "template", label, a);
  d.AddMember("valid", true, a);
  rapidjson::Value names(rapidjson::kArrayType);
  for (const auto& n : t.parameter_names()) names.PushBack(json::string_value(n, a), a);
  d.AddMember("parameters", names, a);
  print(d, o);
}

void evaluate(const options& o) {
  std::string label;
  auto t = load_template(o, label);
  auto p = provisioning::evaluate(t, read_parameters(o.parameters),
                                  {{"AWS::IoT::Certificate::Id", o.certificate_id}});
  if (!p) throw error(bad_input, label + ": " + p.describe());
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  put(d, "template", label, a);
  d.AddMember("resources", plan_json(*p, a), a);
  print(d, o);
}

void list_templates(const options& o) {
  auto store = open_template_store(o.store);
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& t : store->list()) {
    rapidjson::Value v(rapidjson::kObjectType);
    put(v, "templateArn", o.arn(t.name), a);
    put(v, "templateName", t.name, a);
    put(v, "description", t.description, a);
    v.AddMember("creationDate", static_cast<double>(t.created_ms) / 1000.0, a);
    v.AddMember("lastModifiedDate", static_cast<double>(t.modified_ms) / 1000.0, a);
    v.AddMember("enabled", t.enabled, a);
    put(v, "type", t.type, a);
    arr.PushBack(v, a);
  }
  d.AddMember("templates", arr, a);
  print(d, o);
}

void describe_template(const options& o) {
  auto store = open_template_store(o.store);
  auto t = store->describe(o.name);
  if (!t) throw error(no_result, "no such provisioning template: " + o.name);
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  put(d, "templateArn", o.arn(t->name), a);
  put(d, "templateName", t->name, a);
  put(d, "description", t->description, a);
  d.AddMember("creationDate", static_cast<double>(t->created_ms) / 1000.0, a);
  d.AddMember("lastModifiedDate", static_cast<double>(t->modified_ms) / 1000.0, a);
  d.AddMember("defaultVersionId", t->default_version, a);
  put(d, "templateBody", t->body(), a);
  d.AddMember("enabled", t->enabled, a);
  put(d, "provisioningRoleArn", t->role_arn, a);
  if (t->hook) {
    rapidjson::Value h(rapidjson::kObjectType);
    put(h, "payloadVersion", t->hook->payload_version, a);
    put(h, "targetArn", t->hook->target_arn, a);
    d.AddMember("preProvisioningHook", h, a);
  }
  put(d, "type", t->type, a);
  print(d, o);
}

void add_output(CLI::App* cmd, const std::shared_ptr<options>& o) {
  cmd->add_flag("--pretty", o->pretty, "Indent the output");
}

void add_arn(CLI::App* cmd, const std::shared_ptr<options>& o) {
  cmd->add_option("--region", o->region, "Region in the ARNs printed")->capture_default_str();
  cmd->add_option("--account-id", o->account, "Account in the ARNs printed")->capture_default_str();
}

void add_template_source(CLI::App* cmd, const std::shared_ptr<options>& o) {
  cmd->add_option("--template", o->template_file, "Template body file ('-': standard input)");
  cmd->add_option("--template-name", o->name, "Template in --store (its default version)");
  cmd->add_option("--store", o->store,
                  "Template store file (the gateway's <data_dir>/provisioning_templates.db)");
}

void setup(CLI::App& root) {
  auto* cmd = root.add_subcommand("provision", "AWS IoT fleet provisioning templates, offline");
  cmd->require_subcommand(1);
  auto o = std::make_shared<options>();

  auto* va = cmd->add_subcommand("validate", "Check a template; print its parameter names");
  add_template_source(va, o);
  add_output(va, o);
  va->callback([o] { validate(*o); });

  auto* ev = cmd->add_subcommand(
      "evaluate", "Dry run: the resources RegisterThing would create for the parameters");
  add_template_source(ev, o);
  ev->add_option("--parameters", o->parameters, "RegisterThing's parameters: JSON, or @file");
  ev->add_option("--certificate-id", o->certificate_id, "AWS::IoT::Certificate::Id")
      ->capture_default_str();
  add_output(ev, o);
  ev->callback([o] { evaluate(*o); });

  auto* ls = cmd->add_subcommand("list-templates", "ListProvisioningTemplates");
  ls->add_option("--store", o->store, "Template store file")->required();
  add_arn(ls, o);
  add_output(ls, o);
  ls->callback([o] { list_templates(*o); });

  auto* de = cmd->add_subcommand("describe-template", "DescribeProvisioningTemplate");
  de->add_option("--store", o->store, "Template store file")->required();
  de->add_option("--template-name", o->name, "Template name")->required();
  add_arn(de, o);
  add_output(de, o);
  de->callback([o] { describe_template(*o); });

  add_register_thing(cmd);
}

const registrar reg{86, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
