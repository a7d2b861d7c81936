// Private: the compiled form of a policy document, shared by the parser, the
// evaluator and the serialiser.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/policy/document.hpp>

#include "policy/ip.hpp"
#include "policy/variables.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace iotblocks::policy::detail {

inline constexpr std::size_t action_words = 6;  // bits for up to 384 known actions
using action_bits = std::array<std::uint64_t, action_words>;

/// A string with optional wildcards (`*`, `?`) and variables, compiled to tokens.
struct text_template {
  enum class kind : std::uint8_t { literal, star, qmark, variable };
  struct token {
    kind k = kind::literal;
    std::string text;  // literal
    var_ref var;       // variable
  };
  std::vector<token> tokens;
  bool plain = true;    // one literal (or empty): compare directly
  std::string literal;  // the text when plain
};

/// A Resource entry or ARN condition value: "*" or six colon-separated parts,
/// matched part by part; wildcards in the last part span '/' and ':'.
struct arn_pattern {
  bool any = false;
  std::array<text_template, 5> head;  // "arn", partition, service, region, account
  text_template tail;                 // resource part
};

enum class cond_op : std::uint8_t {
  string_equals,
  string_not_equals,
  string_equals_ignore_case,
  string_not_equals_ignore_case,
  string_like,
  string_not_like,
  numeric_equals,
  numeric_not_equals,
  numeric_less_than,
  numeric_less_than_equals,
  numeric_greater_than,
  numeric_greater_than_equals,
  boolean,
  ip_address,
  not_ip_address,
  arn_equals,
  arn_like,
  arn_not_equals,
  arn_not_like,
  null,
};

enum class set_qualifier : std::uint8_t { none, for_all_values, for_any_value };

struct condition {
  cond_op op = cond_op::string_equals;
  set_qualifier qualifier = set_qualifier::none;
  bool if_exists = false;
  bool negated = false;
  var_ref key;
  std::vector<text_template> strings;  // String* operators
  std::vector<arn_pattern> arns;       // Arn* operators
  std::vector<cidr> cidrs;             // IpAddress, NotIpAddress
  std::vector<double> numbers;         // Numeric*
  std::vector<bool> bools;             // Bool, Null
  // original text, for to_json
  std::string op_text;
  std::string key_text;
  std::vector<std::string> value_texts;
};

struct statement {
  effect eff = effect::deny;
  std::string sid;
  position where;
  bool not_action = false;
  action_bits actions{};
  std::vector<std::string> action_texts;  // also matched for actions outside the table
  bool not_resource = false;
  bool has_resource = false;
  std::vector<arn_pattern> resources;
  std::vector<std::string> resource_texts;
  std::vector<condition> conditions;
  // Principal (resource policies only)
  bool has_principal = false;
  bool principal_any = false;
  std::vector<std::string> principal_accounts;  // 12-digit account ids
  std::vector<std::string> principal_services;  // lowercase service principals
  std::vector<std::pair<std::string, std::vector<std::string>>> principal_texts;
};

struct compiled_document {
  document_kind kind = document_kind::identity;
  std::string version;
  std::string id;
  bool variables = true;  // false for 2008-10-17: "${...}" is literal text
  std::vector<statement> statements;
  std::vector<std::uint32_t> denies;  // statement indices, document order
  std::vector<std::uint32_t> allows;
  std::vector<warning> warnings;
};

}  // namespace iotblocks::policy::detail
