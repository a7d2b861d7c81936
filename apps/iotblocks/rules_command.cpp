// `iotblocks rules check|run`: check topic-rule documents, and dry-run a message
// through a directory of rules, printing what each action would do.
#include "command.hpp"

#include <iotblocks/rules/engine.hpp>

#include "core/json.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;
void put(writer& w, std::string_view k, std::string_view v) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

[[noreturn]] void fail_with(const failure& f, const std::string& what) {
  throw error(f.code.category() == rules::error_category() || f.where.known() ? bad_input : failed,
              what + ": " + f.describe());
}

/// Records what an action would do: every top-level string parameter is rendered
/// as a substitution template.
class dry_run_action final : public rules::action {
 public:
  struct shared {
    std::mutex m;
    std::vector<std::string> lines;
  };
  dry_run_action(std::string type, std::string_view params, std::shared_ptr<shared> out)
      : type_(std::move(type)), out_(std::move(out)) {
    auto d = json::parse(params);
    if (d && d->IsObject()) {
      for (const auto& m : d->GetObject()) {
        if (m.value.IsString()) {
          keys_.emplace_back(json::view(m.name));
          texts_.emplace_back(json::view(m.value));
        }
      }
    }
  }
  std::vector<std::string> templates() const override { return texts_; }
  rules::action_status execute(const rules::action_input& in) override {
    rapidjson::StringBuffer sb;
    writer w(sb);
    w.StartObject();
    put(w, "rule", in.rule.name);
    put(w, "action", type_);
    w.Key("parameters");
    w.StartObject();
    for (std::size_t i = 0; i < keys_.size(); ++i) put(w, keys_[i], in.values[i]);
    w.EndObject();
    put(w, "output", in.output);
    w.EndObject();
    std::lock_guard lock{out_->m};
    out_->lines.emplace_back(sb.GetString(), sb.GetSize());
    return {};
  }

 private:
  std::string type_;
  std::vector<std::string> keys_;
  std::vector<std::string> texts_;
  std::shared_ptr<shared> out_;
};

rules::engine_options quiet() {
  rules::engine_options o;
  o.tick_interval = std::chrono::milliseconds(0);
  return o;
}

void setup(CLI::App& root) {
  auto* cmd = root.add_subcommand("rules", "Check topic rules and dry-run messages through them");
  cmd->require_subcommand(1);

  auto* check =
      cmd->add_subcommand("check", "Check a topic-rule document (AWS topic-rule payload JSON)");
  static std::string check_file;
  static std::string check_name = "rule";
  check->add_option("file", check_file, "rule document ('-' for standard input)")->required();
  check->add_option("--name", check_name, "rule name to check with");
  check->callback([] {
    rules::engine e{quiet()};
    auto info = e.check_rule(check_name, read_input(check_file));
    if (!info) fail_with(info.fail(), check_file);
    rapidjson::StringBuffer sb;
    writer w(sb);
    w.StartObject();
    put(w, "name", info->identity.name);
    put(w, "arn", info->identity.arn);
    put(w, "from", info->from);
    w.Key("disabled");
    w.Bool(info->document.disabled);
    w.Key("actions");
    w.StartArray();
    for (const auto& a : info->document.actions) w.String(a.type.c_str());
    w.EndArray();
    if (info->document.error_action) put(w, "errorAction", info->document.error_action->type);
    w.Key("warnings");
    w.StartArray();
    for (const auto& s : info->document.warnings) w.String(s.c_str());
    w.EndArray();
    w.EndObject();
    print_line({sb.GetString(), sb.GetSize()});
  });

  auto* run = cmd->add_subcommand(
      "run",
      "Dispatch one message (payload on standard input) through the rules of a directory "
      "(<name>.json each) and print what every action would do, one JSON line each");
  static std::string dir;
  static std::string topic;
  static std::string client_id;
  static std::string payload_file = "-";
  run->add_option("--rules", dir, "directory of <rule name>.json files")->required();
  run->add_option("--topic", topic, "topic of the message")->required();
  run->add_option("--client-id", client_id, "client id of the publisher");
  run->add_option("--payload", payload_file, "payload file ('-': standard input)");
  run->callback([] {
    auto out = std::make_shared<dry_run_action::shared>();
    rules::engine e{quiet()};
    for (const char* type : {"republish", "dynamoDB", "http", "cloudwatchMetric", "sns", "command",
                             "function", "lambda", "anomaly"}) {
      e.register_action(
          type, [type, out](std::string_view params) -> result<std::unique_ptr<rules::action>> {
            return std::unique_ptr<rules::action>(new dry_run_action(type, params, out));
          });
    }
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    if (ec) throw error(bad_input, fmt::format("cannot list '{}': {}", dir, ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto r = e.add_rule(f.stem().string(), read_input(f.string()));
      if (!r) fail_with(r.fail(), f.string());
    }
    const std::string payload = read_input(payload_file);
    rules::message m;
    m.topic = topic;
    m.payload = as_bytes(payload);
    if (!client_id.empty()) m.client_id = client_id;
    const std::size_t matched = e.dispatch(m);
    e.flush();
    std::lock_guard lock{out->m};
    std::sort(out->lines.begin(), out->lines.end());
    for (const auto& l : out->lines) print_line(l);
    if (matched == 0) throw error(no_result, "no rule matched");
  });
}

const registrar reg{90, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
