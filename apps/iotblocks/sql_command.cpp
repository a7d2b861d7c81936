// `iotblocks sql eval --sql '...' --topic T [--clientid C] [--template T]... < payload`:
// applies the rule to one message published on T as the rules engine does: FROM first
// (sql::matches_from), then WHERE, and prints the output payload (exit 1 and nothing on
// standard output when FROM or WHERE does not match); each --template is rendered on a
// line of its own after it. One final newline of the input is not part of the payload.
// `iotblocks sql check 'SQL'`: compiles and prints what the rule reads, or the error
// with its line and column (exit 3).
#include "command.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/sql.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <vector>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

struct eval_args {
  std::string sql;
  std::string topic;
  std::string client_id;
  std::string principal;
  std::string input;
  std::vector<std::string> templates;
  std::vector<std::string> user_properties;
  std::int64_t timestamp = -1;
};

void put(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()), true);
}

sql::rule compile_or_throw(const std::string& text) {
  auto r = sql::compile(text);
  if (!r) throw error(bad_input, r.describe());
  return std::move(*r);
}

void eval(const eval_args& a) {
  const sql::rule rule = compile_or_throw(a.sql);
  std::vector<sql::substitution_template> templates;
  for (const auto& t : a.templates) {
    auto ct = sql::compile_template(t, {}, &rule);
    if (!ct) throw error(bad_input, "template '" + t + "': " + ct.describe());
    templates.push_back(std::move(*ct));
  }
  if (auto ec = topic::validate_name(a.topic)) {
    throw error(usage, "--topic '" + a.topic + "' is not a topic name: " + ec.message());
  }
  std::string payload = read_input(a.input);
  // `echo '{...}' | iotblocks sql eval ...`: the shell's final newline is not payload.
  if (!payload.empty() && payload.back() == '\n') payload.pop_back();
  if (!payload.empty() && payload.back() == '\r') payload.pop_back();
  std::vector<sql::user_property> props;
  for (const auto& p : a.user_properties) {
    const auto eq = p.find('=');
    if (eq == std::string::npos) throw error(usage, "--user-property takes name=value");
    props.push_back({std::string_view(p).substr(0, eq), std::string_view(p).substr(eq + 1)});
  }
  sql::message m;
  m.topic = a.topic;
  m.payload = as_bytes(payload);
  if (!a.client_id.empty()) m.client_id = a.client_id;
  if (!a.principal.empty()) m.principal = a.principal;
  if (a.timestamp >= 0) m.timestamp_ms = a.timestamp;
  m.user_properties = props;
  if (rule.from().empty()) {
    throw error(no_result,
                "the rule has no FROM clause: no topic triggers it (only Basic Ingest, "
                "by rule name)");
  }
  if (!sql::matches_from(rule, m.topic)) {
    throw error(no_result,
                "topic '" + a.topic + "' does not match FROM '" + std::string(rule.from()) + "'");
  }
  sql::evaluator ev;
  auto out = ev.evaluate(rule, m);
  if (!out) throw error(failed, out.describe());
  if (!*out) throw error(no_result, "WHERE did not match");
  const std::string output(**out);
  print_line(output);
  for (const auto& t : templates) {
    auto s = ev.render(t, m);
    if (!s) throw error(failed, s.describe());
    print_line(*s);
  }
}

void check(const std::string& text) {
  const sql::rule rule = compile_or_throw(text);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("valid");
  w.Bool(true);
  w.Key("from");
  put(w, rule.from());
  w.Key("where");
  w.Bool(rule.has_where());
  w.Key("value");
  w.Bool(rule.select_value());
  w.Key("reads");
  w.StartArray();
  for (const auto& p : rule.payload_paths()) put(w, p);
  w.EndArray();
  w.Key("variables");
  w.StartArray();
  for (const auto& v : rule.variables()) put(w, v);
  w.EndArray();
  w.EndObject();
  print_line({buf.GetString(), buf.GetSize()});
}

void setup(CLI::App& root) {
  auto* cmd = root.add_subcommand("sql", "AWS IoT rule SQL (2016-03-23)");
  cmd->require_subcommand(1);

  auto a = std::make_shared<eval_args>();
  auto* e = cmd->add_subcommand(
      "eval",
      "Apply a rule to one message (payload on stdin) as the rules engine does: the topic must "
      "match the FROM filter (MQTT: + one level, # the rest), then WHERE must be true; "
      "otherwise exit 1 with nothing on stdout");
  e->add_option("--sql", a->sql, "The rule")->required();
  e->add_option("--topic", a->topic,
                "Topic the message was published to (required, as in AWS IoT: FROM is matched "
                "against it; a rule without FROM is triggered by no topic)")
      ->required();
  e->add_option("--clientid", a->client_id, "MQTT client id for clientid()");
  e->add_option("--principal", a->principal, "Principal for principal()");
  e->add_option("--timestamp", a->timestamp, "timestamp() in Unix ms (default: now)");
  e->add_option("--user-property", a->user_properties, "MQTT 5 user property name=value");
  e->add_option("--template", a->templates, "Substitution template to render after the output");
  e->add_option("--payload", a->input, "Payload file (default: standard input)");
  e->callback([a] { eval(*a); });

  auto text = std::make_shared<std::string>();
  auto* c = cmd->add_subcommand("check", "Compile a rule; print what it reads or the error");
  c->add_option("sql", *text, "The rule")->required();
  c->callback([text] { check(*text); });
}

const registrar reg{30, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
