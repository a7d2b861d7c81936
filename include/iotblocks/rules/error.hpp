// Error codes of the rules engine (category "iotblocks.rules"). Rule documents
// report the line and column of the fault; SQL faults keep the sql component's
// codes, I/O faults the transport's (net's with net_rules).
//
//   auto r = engine.add_rule("TooBright", text);
//   if (r.error() == rules::error::unknown_action) std::cerr << r.describe();
#pragma once

#include <iotblocks/core/export.hpp>

#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::rules {

enum class error {
  invalid_document = 1,     ///< a topic-rule payload element has the wrong type or shape
  invalid_rule_name,        ///< a rule name outside [A-Za-z0-9_]{1,128}
  unknown_action,           ///< an action type no factory is registered for
  invalid_action,           ///< an action parameter is missing or malformed
  unsupported_sql_version,  ///< awsIotSqlVersion is not one this engine evaluates
  rule_exists,              ///< add_rule with a name already in use
  no_such_rule,             ///< the named rule does not exist
  queue_full,               ///< an action queue was full; the invocation was dropped
  action_failed,            ///< an action reported a failure (message says why)
  no_such_destination,      ///< a notify topic, function or table that does not exist
  access_denied,            ///< a cross-account destination's resource policy denies the rule
  invalid_metric,           ///< a metric datum is malformed (value not a number, bad unit)
  invalid_alarm,            ///< an alarm definition is malformed
  limit_exceeded,           ///< a configured limit was reached (rules, metrics, alarms)
  stopped,                  ///< the engine is shutting down
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace iotblocks::rules

template <>
struct std::is_error_code_enum<iotblocks::rules::error> : std::true_type {};

IOTBLOCKS_API_END
