#include <iotblocks/core/error.hpp>
#include <iotblocks/sql/error.hpp>

namespace iotblocks::sql {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::syntax_error: return "syntax error";
    case error::unterminated_string: return "unterminated string";
    case error::invalid_number: return "invalid number";
    case error::unknown_function: return "unknown function";
    case error::external_not_registered: return "external function is not registered";
    case error::wrong_arity: return "wrong number of arguments";
    case error::alias_in_where: return "WHERE cannot use a SELECT alias";
    case error::too_deep: return "expression nests too deeply";
    case error::too_long: return "SQL text is too long";
    case error::invalid_topic_filter: return "invalid topic filter in FROM";
    case error::unknown_variable: return "unknown variable";
    case error::duplicate_variable: return "variable assigned twice";
    case error::invalid_cast_type: return "unknown type in cast";
    case error::invalid_utf8: return "text is not valid UTF-8";
    case error::invalid_template: return "malformed substitution template";
    case error::binary_payload: return "a non-JSON payload cannot be merged into an object";
    case error::payload_too_deep: return "payload nests too deeply";
    case error::memory_limit: return "evaluation exceeded its memory limit";
    case error::external_failed: return "registered function failed";
  }
  return "unknown iotblocks.sql error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return detail::lasting_category<&message>("iotblocks.sql");
}

}  // namespace iotblocks::sql
