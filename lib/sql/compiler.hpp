// Private: lowering of the syntax tree to a program, with the semantic checks.
#pragma once

#include "sql/ast.hpp"
#include "sql/program.hpp"

#include <iotblocks/core/result.hpp>
#include <iotblocks/sql/rule.hpp>

#include <optional>
#include <string_view>

namespace iotblocks::sql::detail {

class compiler {
 public:
  compiler(program& p, std::string_view src, const compile_options& o) : p_(p), src_(src), o_(o) {}

  std::optional<failure> err;

  /// Compiles SET assignments into variable slots.
  void compile_sets(const std::vector<statement::assignment>& sets);
  /// Compiles the statement's SELECT into p.selects[0] (with the WHERE alias check).
  void compile_main(const select_stmt& s);
  /// Compiles one expression at the top-level scope.
  std::int32_t compile_expr(const ast& a) { return compile(a); }
  /// Marks WHERE-spine nodes and computes whether WHERE needs a validated payload.
  void analyse();

  /// Shifts error positions (template expressions parsed from a substring).
  std::size_t offset_base = 0;

 private:
  std::int32_t compile(const ast& a);
  std::int32_t add(node n, std::initializer_list<std::int32_t> kids = {});
  std::int32_t add_n(node n, const std::vector<std::int32_t>& kids);
  std::optional<std::int32_t> root_path(const ast& a);
  std::int32_t compile_call(const ast& a);
  std::int32_t compile_select(const select_stmt& s, std::size_t offset);
  void compile_items(const select_stmt& s, select_spec& spec);
  void fail(std::size_t offset, sql::error code, std::string msg);
  bool needs_validation(std::int32_t n, int depth);
  void mark_truth(std::int32_t n);

  program& p_;
  std::string_view src_;
  const compile_options& o_;
  std::size_t scope_ = 0;
};

}  // namespace iotblocks::sql::detail
