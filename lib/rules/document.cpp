#include <iotblocks/core/error.hpp>
#include <iotblocks/rules/document.hpp>

#include "core/json.hpp"
#include "rules/json_locate.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace iotblocks::rules {
namespace {

using detail::locate_position;

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::invalid_document: return "invalid topic rule document";
    case error::invalid_rule_name: return "invalid rule name";
    case error::unknown_action: return "unknown action type";
    case error::invalid_action: return "invalid action parameters";
    case error::unsupported_sql_version: return "unsupported awsIotSqlVersion";
    case error::rule_exists: return "a rule with this name exists";
    case error::no_such_rule: return "no such rule";
    case error::queue_full: return "action queue full";
    case error::action_failed: return "action failed";
    case error::no_such_destination: return "no such destination";
    case error::access_denied: return "the destination's resource policy denies this rule";
    case error::invalid_metric: return "invalid metric datum";
    case error::invalid_alarm: return "invalid alarm definition";
    case error::limit_exceeded: return "limit exceeded";
    case error::stopped: return "the rules engine is stopped";
  }
  return "unknown iotblocks.rules error";
}

result<action_spec> parse_action(std::string_view text, const rapidjson::Value& v,
                                 std::string_view key, std::size_t index, bool in_list) {
  auto where = [&]() {
    return in_list ? locate_position(text, {"actions", index}) : locate_position(text, {key});
  };
  if (!v.IsObject() || v.MemberCount() != 1) {
    return {error::invalid_document,
            "an action must be an object with exactly one member: {\"<type>\": {parameters}}",
            where()};
  }
  const auto& m = *v.MemberBegin();
  action_spec spec;
  spec.type = json::view(m.name);
  if (!m.value.IsObject()) {
    return {error::invalid_document,
            fmt::format("the parameters of action '{}' must be an object", spec.type), where()};
  }
  spec.parameters = json::write(m.value);
  spec.where = in_list ? locate_position(text, {"actions", index, std::string_view(spec.type)})
                       : locate_position(text, {key, std::string_view(spec.type)});
  return spec;
}

void write_action(rapidjson::Writer<rapidjson::StringBuffer>& w, const action_spec& a) {
  w.StartObject();
  w.Key(a.type.data(), static_cast<rapidjson::SizeType>(a.type.size()));
  w.RawValue(a.parameters.data(), a.parameters.size(), rapidjson::kObjectType);
  w.EndObject();
}

}  // namespace

const std::error_category& error_category() noexcept {
  return iotblocks::detail::lasting_category<&message>("iotblocks.rules");
}

result<void> validate_rule_name(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return {error::invalid_rule_name, "a rule name has 1 to 128 characters"};
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) {
      return {error::invalid_rule_name, "a rule name has only the characters [A-Za-z0-9_]",
              at_offset(i)};
    }
  }
  return {};
}

result<rule_document> parse_rule_document(std::string_view text, const document_limits& limits) {
  if (text.size() > limits.max_size) {
    return {core::error::limit_exceeded,
            fmt::format("rule document is larger than {} bytes", limits.max_size)};
  }
  auto parsed = json::parse(text, {.max_depth = limits.max_depth, .validate_utf8 = true});
  if (!parsed) return std::move(parsed).take_failure();
  const rapidjson::Document& d = *parsed;
  if (!d.IsObject()) {
    return {error::invalid_document, "a topic rule payload is a JSON object", position_in(text, 0)};
  }
  rule_document out;
  bool have_sql = false;
  for (const auto& m : d.GetObject()) {
    const std::string_view key = json::view(m.name);
    auto here = [&] { return locate_position(text, {key}); };
    if (key == "sql") {
      if (!m.value.IsString()) return {error::invalid_document, "\"sql\" must be a string", here()};
      out.sql = json::view(m.value);
      out.sql_where = here();
      have_sql = true;
    } else if (key == "description") {
      if (!m.value.IsString()) {
        return {error::invalid_document, "\"description\" must be a string", here()};
      }
      out.description = json::view(m.value);
    } else if (key == "ruleDisabled") {
      if (!m.value.IsBool()) {
        return {error::invalid_document, "\"ruleDisabled\" must be true or false", here()};
      }
      out.disabled = m.value.GetBool();
    } else if (key == "awsIotSqlVersion") {
      if (!m.value.IsString()) {
        return {error::invalid_document, "\"awsIotSqlVersion\" must be a string", here()};
      }
      const std::string_view v = json::view(m.value);
      if (v == "2015-10-08" || v == "beta") {
        out.warnings.push_back(
            fmt::format("awsIotSqlVersion \"{}\" is evaluated with the 2016-03-23 semantics", v));
      } else if (v != "2016-03-23") {
        return {
            error::unsupported_sql_version,
            fmt::format("awsIotSqlVersion \"{}\" is not one of 2016-03-23, 2015-10-08, beta", v),
            here()};
      }
      out.sql_version = v;
    } else if (key == "actions") {
      if (!m.value.IsArray())
        return {error::invalid_document, "\"actions\" must be an array", here()};
      if (m.value.Size() > limits.max_actions) {
        return {core::error::limit_exceeded,
                fmt::format("a rule has at most {} actions", limits.max_actions), here()};
      }
      for (rapidjson::SizeType i = 0; i < m.value.Size(); ++i) {
        auto a = parse_action(text, m.value[i], key, i, true);
        if (!a) return std::move(a).take_failure();
        out.actions.push_back(std::move(*a));
      }
    } else if (key == "errorAction") {
      auto a = parse_action(text, m.value, key, 0, false);
      if (!a) return std::move(a).take_failure();
      out.error_action = std::move(*a);
    } else if (key == "ruleName") {
      // Accepted for files that carry their name; the engine takes the name as an argument.
      if (!m.value.IsString())
        return {error::invalid_document, "\"ruleName\" must be a string", here()};
    } else {
      return {error::invalid_document,
              fmt::format("unknown element \"{}\" (expected sql, description, ruleDisabled, "
                          "awsIotSqlVersion, actions, errorAction)",
                          key),
              here()};
    }
  }
  if (!have_sql) return {error::invalid_document, "\"sql\" is required", position_in(text, 0)};
  return out;
}

std::string rule_document::to_json() const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("sql");
  w.String(sql.data(), static_cast<rapidjson::SizeType>(sql.size()));
  if (!description.empty()) {
    w.Key("description");
    w.String(description.data(), static_cast<rapidjson::SizeType>(description.size()));
  }
  w.Key("ruleDisabled");
  w.Bool(disabled);
  w.Key("awsIotSqlVersion");
  w.String(sql_version.data(), static_cast<rapidjson::SizeType>(sql_version.size()));
  w.Key("actions");
  w.StartArray();
  for (const auto& a : actions) write_action(w, a);
  w.EndArray();
  if (error_action) {
    w.Key("errorAction");
    write_action(w, *error_action);
  }
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

}  // namespace iotblocks::rules
