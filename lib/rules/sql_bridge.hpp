// Private: the one place where the rules engine talks to the sql component.
// Compiles a rule's SQL and its actions' substitution templates once, and
// evaluates them per message with a per-thread evaluator.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/sql/rule.hpp>
#include <iotblocks/sql/template.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::rules::detail {

/// Per-message context the SQL functions see besides the message itself.
struct eval_context {
  const message& msg;
  std::int64_t timestamp_ms;
  std::string_view account;
};

/// Compiles the rule SQL. Errors carry the sql component's code and the line:column in the SQL.
/// `functions` (may be null): the application's SQL functions (engine_options::functions).
result<sql::rule> compile_query(std::string_view text,
                                const sql::function_registry* functions = nullptr);
result<sql::substitution_template> compile_template(
    std::string_view text, const sql::rule& q, const sql::function_registry* functions = nullptr);

/// Evaluates; nullopt when WHERE is not true. The view lives until the next call on this thread.
result<std::optional<std::string_view>> evaluate(const sql::rule& q, const eval_context& c);
result<std::string> render(const sql::substitution_template& t, const eval_context& c);

}  // namespace iotblocks::rules::detail
