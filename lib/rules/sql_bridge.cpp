#include "rules/sql_bridge.hpp"

#include <iotblocks/sql/evaluator.hpp>
#include <iotblocks/sql/message.hpp>

namespace iotblocks::rules::detail {
namespace {

sql::evaluator& local_evaluator() {
  thread_local sql::evaluator ev;
  return ev;
}

sql::message to_sql(const eval_context& c) {
  sql::message m = c.msg;
  if (!c.account.empty() && !m.account_id) m.account_id = c.account;
  m.timestamp_ms = c.timestamp_ms;
  return m;
}

}  // namespace

result<sql::rule> compile_query(std::string_view text, const sql::function_registry* functions) {
  return sql::compile(text, sql::compile_options{}.functions(functions));
}

result<sql::substitution_template> compile_template(std::string_view text, const sql::rule& q,
                                                    const sql::function_registry* functions) {
  return sql::compile_template(text, sql::compile_options{}.functions(functions), &q);
}

result<std::optional<std::string_view>> evaluate(const sql::rule& q, const eval_context& c) {
  return local_evaluator().evaluate(q, to_sql(c));
}

result<std::string> render(const sql::substitution_template& t, const eval_context& c) {
  return local_evaluator().render(t, to_sql(c));
}

}  // namespace iotblocks::rules::detail
