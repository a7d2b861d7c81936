// Rule documents: the topic-rule payload JSON that AWS IoT's CreateTopicRule
// takes (`sql`, `description`, `ruleDisabled`, `awsIotSqlVersion`, `actions`,
// `errorAction`), checked for shape with the line and column of each fault.
// The SQL and the action parameters are checked later, when the engine
// compiles the rule.
//
//   auto doc = rules::parse_rule_document(R"({"sql":"SELECT * FROM 'doorbell/+'",
//       "actions":[{"sns":{"targetArn":"arn:aws:sns:us-west-2:012345678901:door-alert",
//                          "messageFormat":"RAW"}}]})");
//   doc->actions[0].type;         // "sns"
//   doc->actions[0].parameters;   // {"targetArn":...,"messageFormat":"RAW"} as JSON text
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/rules/error.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::rules {

/// One entry of `actions` (or the `errorAction`): {"<type>": {parameters}}.
struct action_spec {
  std::string type;        ///< "republish", "dynamoDB", "http", ...
  std::string parameters;  ///< the parameter object as compact JSON text
  position where;          ///< position of the parameter object in the document
};

/// A parsed topic-rule payload. Distinct objects: safe. Shared objects: safe for reading.
struct rule_document {
  std::string sql;
  position sql_where;  ///< where the "sql" string starts (its opening quote)
  std::string description;
  bool disabled = false;
  std::string sql_version = "2016-03-23";
  std::vector<action_spec> actions;
  std::optional<action_spec> error_action;
  std::vector<std::string> warnings;  ///< legal but probably unintended (an old SQL version)

  /// Canonical JSON of the document (the parameters as given).
  std::string to_json() const;
};

struct document_limits {
  std::size_t max_size = 256 * 1024;  ///< bytes of the JSON text
  std::size_t max_actions = 10;       ///< AWS IoT's limit per rule
  unsigned max_depth = 32;            ///< JSON nesting
};

/// Parses a topic-rule payload. Errors: core::error::invalid_json / json_too_deep,
/// error::invalid_document, error::unsupported_sql_version, core::error::limit_exceeded;
/// each with the position of the offending value.
result<rule_document> parse_rule_document(std::string_view json,
                                          const document_limits& limits = {});

/// Checks a rule name: 1 to 128 characters of [A-Za-z0-9_] (error::invalid_rule_name).
result<void> validate_rule_name(std::string_view name);

}  // namespace iotblocks::rules

IOTBLOCKS_API_END
