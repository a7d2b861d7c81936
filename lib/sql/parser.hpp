// Private: recursive-descent parser for rule SQL and template expressions.
#pragma once

#include "sql/ast.hpp"
#include "sql/lexer.hpp"

#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <string_view>

namespace iotblocks::sql::detail {

/// Parses a whole statement. `max_depth` bounds expression nesting.
result<statement> parse_statement(std::string_view src, std::size_t max_depth);

/// Parses one expression at the start of `src` (a template's ${...}); `consumed` is
/// the offset of the first token after it.
result<ast_ptr> parse_expression_prefix(std::string_view src, std::size_t max_depth,
                                        std::size_t& consumed);

}  // namespace iotblocks::sql::detail
