// Private: the compiled form of a rule or template. Expressions are a flat node
// array with children as index ranges; names are resolved (payload paths to ids,
// functions to table entries, variables to slots) so evaluation never looks at text.
#pragma once

#include "sql/val.hpp"

#include <iotblocks/sql/functions.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::sql::detail {

struct eval_state;
/// A built-in function: the arguments, evaluated, and their count.
using builtin_fn = val (*)(eval_state& st, const val* args, std::size_t n);

enum class op : std::uint8_t {
  constant,   ///< node.constant
  root_path,  ///< payload path id
  scope,      ///< element of the nested SELECT at depth id (0 = outermost)
  member,     ///< kids[0].name
  variable,   ///< SET slot id
  star,       ///< the payload (JSON value or binary)
  call,       ///< built-in id, bound to `fn` at compile time
  external,   ///< registered function id
  cast,       ///< flags = cast_type
  neg,
  not_,
  and_,
  or_,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  add,
  sub,
  mul,
  div,
  mod,
  case_,   ///< kids: subject, (when, then)*, [else]; flags = has_else
  array,   ///< kids: items
  object,  ///< kids: values; id = key list index
  select,  ///< nested select id
};

enum class cast_type : std::uint8_t { string, integer, decimal, double_, boolean };

struct node {
  op code = op::constant;
  std::uint8_t flags = 0;
  bool truth = false;       ///< only whether the result is true matters (WHERE spine)
  std::uint32_t first = 0;  ///< children: kids[first, first + count)
  std::uint32_t count = 0;
  std::uint32_t id = 0;
  std::string_view name;    ///< member key
  builtin_fn fn = nullptr;  ///< op::call: the function, resolved when compiling
  val constant;
};

struct path_node {
  std::int32_t parent = -1;  ///< -1: the payload root
  std::string key;
  std::int32_t first_child = -1;   ///< a path under this one (-1: none)
  std::int32_t next_sibling = -1;  ///< the next path under the same parent
};

struct item_spec {
  std::int32_t expr = -1;          ///< -1: '*'
  std::vector<std::string> alias;  ///< output key path (never empty)
  std::string key_json;            ///< `"alias":` when the select is flat
};

struct select_spec {
  bool value = false;
  /// No '*', every alias one distinct key: the output object is written item by
  /// item with keys rendered at compile time, without building it first.
  bool flat = false;
  std::vector<item_spec> items;
  std::int32_t source = -1;  ///< nested: FROM expression
  std::int32_t where = -1;
};

struct template_part {
  std::string literal;
  std::int32_t expr = -1;  ///< -1: literal only
};

struct program {
  std::string text;
  std::string from;
  bool has_from = false;
  std::vector<node> nodes;
  std::vector<std::uint32_t> kids;
  std::vector<path_node> paths;
  std::vector<std::uint32_t> root_paths;  ///< ids of paths directly under the payload root
  std::vector<std::string> var_names;
  std::vector<std::int32_t> var_exprs;
  std::vector<select_spec> selects;  ///< [0]: the statement's SELECT (rules only)
  std::vector<std::vector<std::string_view>> key_lists;
  std::vector<std::shared_ptr<const function_registry::entry>> externals;
  std::deque<std::string> strings;   ///< storage of constant text (stable addresses)
  std::vector<template_part> parts;  ///< templates only

  bool where_needs_validation = false;  ///< WHERE may be true on a non-JSON payload
  bool star_only = false;               ///< SELECT * and nothing else
  std::size_t scope_depth = 0;          ///< deepest nested SELECT

  std::uint32_t kid(const node& n, std::uint32_t i) const noexcept { return kids[n.first + i]; }
  std::string_view keep(std::string s) {
    strings.push_back(std::move(s));
    return strings.back();
  }
};

}  // namespace iotblocks::sql::detail
