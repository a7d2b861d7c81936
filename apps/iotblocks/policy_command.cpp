// `iotblocks policy eval|check|invoke`: AWS IoT policy documents from the
// command line.
//   policy eval --policy p.json [--policy q.json] --action iot:Publish
//       --resource arn:aws:iot:us-east-1:000000000000:topic/Greenhouse/probe_1
//       --var iot:ClientId=probe_1 [--var name=value ...]
//     prints the decision and the deciding statement; exit 0 ALLOWED, 1 denied.
//     --var takes every name context::set knows: iot:Certificate.Subject.CommonName.2=bob
//     sets the third common name, cognito-identity.amazonaws.com:sub=... a Cognito identity.
//   policy check p.json [--resource-policy]
//     prints {"valid":true,...,"warnings":[...]}; exit 3 with the position when invalid.
//   policy invoke --policy destination.json --action lambda:InvokeFunction
//       --destination ARN --source-arn RULE_ARN [--source-account ID]
//     the rules-engine check of a destination's resource policy; exit 0 / 1.
#include "command.hpp"

#include <iotblocks/policy.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <memory>
#include <string>
#include <vector>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

struct eval_options {
  std::vector<std::string> policies;
  std::string action;
  std::string resource;
  std::vector<std::string> vars;
};

struct check_options {
  std::string file = "-";
  bool resource_policy = false;
};

struct invoke_options {
  std::string policy;
  std::string action;
  std::string destination;
  std::string source_arn;
  std::string source_account;
  std::string service = "iot.amazonaws.com";
};

// "file:line:column: message", as compilers write it.
std::string located(const std::string& path, const failure& f) {
  std::string out = path == "-" ? "stdin" : path;
  if (f.where.known())
    out += ":" + std::to_string(f.where.line) + ":" + std::to_string(f.where.column);
  return out + ": " + (f.message.empty() ? f.code.message() : std::string{f.message.view()});
}

policy::document load(const std::string& path, const policy::parse_options& o) {
  auto doc = policy::parse_document(read_input(path), o);
  if (!doc) throw error(bad_input, located(path, doc.fail()));
  return std::move(doc).value();
}

void eval(const eval_options& o) {
  policy::policy_set set;
  for (const auto& p : o.policies) set.add(p, 1, load(p, {}));
  policy::context ctx;
  for (const auto& v : o.vars) {
    const auto eq = v.find('=');
    if (eq == std::string::npos) throw error(usage, "--var takes name=value: '" + v + "'");
    if (auto r = ctx.set(v.substr(0, eq), v.substr(eq + 1)); !r) throw error(usage, r.describe());
  }
  const auto d = policy::evaluate(set, policy::request::named(o.action, o.resource), ctx);
  print_line(d.to_json());
  if (!d.allowed()) throw error(no_result, std::string(policy::to_string(d.result)));
}

void check(const check_options& o) {
  const auto options =
      o.resource_policy ? policy::resource_policy_options() : policy::parse_options{};
  auto doc = policy::parse_document(read_input(o.file), options);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()), true);
  };
  auto where = [&](const position& p) {
    if (!p.known()) return;
    str("line");
    w.Uint(p.line);
    str("column");
    w.Uint(p.column);
  };
  w.StartObject();
  str("valid");
  w.Bool(doc.ok());
  if (doc) {
    str("version");
    str(doc->version());
    str("statements");
    w.Uint64(doc->statement_count());
    str("warnings");
    w.StartArray();
    for (const auto& warn : doc->warnings()) {
      w.StartObject();
      str("message");
      str(warn.message);
      where(warn.where);
      w.EndObject();
    }
    w.EndArray();
  } else {
    const auto& f = doc.fail();
    str("error");
    w.StartObject();
    str("code");
    str(f.code.message());
    str("message");
    str(f.message.empty() ? f.code.message() : std::string{f.message.view()});
    where(f.where);
    w.EndObject();
  }
  w.EndObject();
  print_line({buffer.GetString(), buffer.GetSize()});
  if (!doc) throw error(bad_input, located(o.file, doc.fail()));
}

void invoke(const invoke_options& o) {
  const auto doc = load(o.policy, policy::resource_policy_options());
  policy::invocation inv;
  inv.action = o.action;
  inv.destination_arn = o.destination;
  inv.source_arn = o.source_arn;
  inv.source_account = o.source_account;
  inv.service = o.service;
  const auto d = policy::authorize_invocation(doc, inv);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("decision");
  const auto result = policy::to_string(d.result);
  w.String(result.data(), static_cast<rapidjson::SizeType>(result.size()));
  w.Key("cross_account");
  w.Bool(d.cross_account);
  if (d.statement != policy::decision::no_statement) {
    const auto info = doc.statement(d.statement);
    w.Key("statement");
    w.Uint64(d.statement);
    if (!info.sid.empty()) {
      w.Key("sid");
      w.String(info.sid.data(), static_cast<rapidjson::SizeType>(info.sid.size()));
    }
  }
  w.Key("reason");
  w.String(d.reason.c_str(), static_cast<rapidjson::SizeType>(d.reason.size()));
  w.EndObject();
  print_line({buffer.GetString(), buffer.GetSize()});
  if (!d.allowed()) throw error(no_result, std::string(result));
}

void setup(CLI::App& root) {
  auto* cmd = root.add_subcommand("policy", "AWS IoT policies: evaluate and check documents");
  cmd->require_subcommand(1);

  auto e = std::make_shared<eval_options>();
  auto* ev = cmd->add_subcommand(
      "eval", "Decide a request against policy documents; print the decision and the statement");
  ev->add_option("--policy", e->policies, "Policy document (repeat for several; '-': stdin)")
      ->required();
  ev->add_option("--action", e->action, "Action, e.g. iot:Publish")->required();
  ev->add_option("--resource", e->resource, "Resource ARN, e.g. arn:aws:iot:...:topic/a")
      ->required();
  ev->add_option("--var", e->vars,
                 "Policy variable name=value (iot:ClientId, iot:Connection.Thing.ThingName, "
                 "iot:Certificate.Subject.CommonName, iot:Certificate.Subject.CommonName.2 "
                 "(the third value), cognito-identity.amazonaws.com:sub, aws:SourceIp, ...); "
                 "repeat to add values");
  ev->callback([e] { eval(*e); });

  auto c = std::make_shared<check_options>();
  auto* ch = cmd->add_subcommand("check", "Check a policy document; print warnings or the error");
  ch->add_option("file", c->file, "Policy document ('-': stdin)")->capture_default_str();
  ch->add_flag("--resource-policy", c->resource_policy,
               "Check as a resource policy (rule destination; Principal required)");
  ch->callback([c] { check(*c); });

  auto i = std::make_shared<invoke_options>();
  auto* in = cmd->add_subcommand(
      "invoke", "May a rule invoke a destination? Check the destination's resource policy");
  in->add_option("--policy", i->policy, "The destination's resource policy")->required();
  in->add_option("--action", i->action, "Action, e.g. lambda:InvokeFunction")->required();
  in->add_option("--destination", i->destination, "Destination ARN")->required();
  in->add_option("--source-arn", i->source_arn, "ARN of the invoking rule")->required();
  in->add_option("--source-account", i->source_account, "Account of the rule (default: from ARN)");
  in->add_option("--service", i->service, "Calling service principal")->capture_default_str();
  in->callback([i] { invoke(*i); });
}

const registrar reg{70, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
