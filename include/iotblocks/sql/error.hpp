// Error codes of the rule SQL component (category "iotblocks.sql"): compile
// errors carry the line and column of the fault, evaluation errors describe why
// a rule could not produce its output.
//
//   auto r = sql::compile("SELECT timestmp() FROM 't'");
//   r.error() == sql::error::unknown_function;
//   r.describe();   // "unknown function 'timestmp' (did you mean 'timestamp'?) at 1:8"
#pragma once

#include <iotblocks/core/export.hpp>

#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::sql {

enum class error {
  syntax_error = 1,         ///< the text does not follow the grammar
  unterminated_string,      ///< a quoted string or identifier has no closing quote
  invalid_number,           ///< a numeric literal cannot be read
  unknown_function,         ///< no built-in or registered function has this name
  external_not_registered,  ///< an AWS service function (aws_lambda, ...) with no registration
  wrong_arity,              ///< a function called with too few or too many arguments
  alias_in_where,           ///< WHERE names an alias defined in SELECT
  too_deep,                 ///< expressions nest deeper than compile_options::max_depth
  too_long,                 ///< the text is longer than compile_options::max_length
  invalid_topic_filter,     ///< FROM is not a valid MQTT topic filter
  unknown_variable,         ///< @name used without a SET
  duplicate_variable,       ///< @name assigned twice
  invalid_cast_type,        ///< cast(x AS type) with an unknown type
  invalid_utf8,             ///< the text is not valid UTF-8
  invalid_template,         ///< a substitution template is malformed
  binary_payload,           ///< a non-JSON payload merged into a JSON object (SELECT *, x)
  payload_too_deep,         ///< the payload nests deeper than evaluator_options::max_payload_depth
  memory_limit,             ///< an evaluation needed more than evaluator_options::max_memory
  external_failed,          ///< a registered function reported a failure
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace iotblocks::sql

template <>
struct std::is_error_code_enum<iotblocks::sql::error> : std::true_type {};

IOTBLOCKS_API_END
