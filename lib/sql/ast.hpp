// Private: the syntax tree produced by the parser; names and positions kept for
// the compiler's checks and messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace iotblocks::sql::detail {

enum class ast_kind : unsigned char {
  integer,
  decimal,
  string,
  boolean,
  null,
  field,     ///< identifier (text)
  member,    ///< kids[0].text
  variable,  ///< @text
  star,      ///< * as an expression (payload, or the element in a nested SELECT)
  call,      ///< text(kids...)
  cast,      ///< cast(kids[0] AS text)
  neg,
  not_,
  binary,  ///< kids[0] op kids[1]
  case_,   ///< CASE kids[0] (WHEN kids[2i+1] THEN kids[2i+2])... [ELSE last] ; has_else
  array,   ///< [kids...]
  object,  ///< {keys[i]: kids[i]}
  select,  ///< (nested SELECT)
};

enum class binop : unsigned char { or_, and_, eq, ne, lt, le, gt, ge, add, sub, mul, div, mod };

struct select_stmt;

struct ast {
  ast_kind kind;
  std::size_t offset = 0;  ///< where in the source the node starts
  std::string text;        ///< names, string values, number text
  std::int64_t i = 0;
  double d = 0;
  bool b = false;  ///< boolean value; for case_: has an ELSE
  binop op = binop::add;
  std::vector<std::unique_ptr<ast>> kids;
  std::vector<std::string> keys;  ///< object literal keys
  std::unique_ptr<select_stmt> sub;
};
using ast_ptr = std::unique_ptr<ast>;

struct select_item {
  ast_ptr expr;                    ///< null for '*'
  std::vector<std::string> alias;  ///< dotted alias, empty without AS
  std::size_t offset = 0;
  std::size_t alias_offset = 0;
};

struct select_stmt {
  bool value = false;
  std::vector<select_item> items;
  ast_ptr source;     ///< nested: the FROM expression
  std::string topic;  ///< top level: the FROM filter
  bool has_from = false;
  std::size_t topic_offset = 0;
  ast_ptr where;
};

struct statement {
  struct assignment {
    std::string name;
    std::size_t offset = 0;
    ast_ptr expr;
  };
  std::vector<assignment> sets;
  select_stmt select;
};

}  // namespace iotblocks::sql::detail
