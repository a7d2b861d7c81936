// Private: compiling and matching the strings of a policy: Resource ARNs with
// IAM wildcards and variables, StringLike values, Action names.
#pragma once

#include <iotblocks/policy/context.hpp>

#include "policy/compiled.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace iotblocks::policy::detail {

struct template_options {
  bool wildcards = true;  // '*' and '?' are wildcards (false: StringEquals)
  bool variables = true;  // "${...}" is a variable (false: 2008-10-17, numeric values)
};

/// Why a string did not compile; `offset` is the byte in the string.
struct template_error {
  std::string message;
  std::size_t offset = 0;
  bool variable = false;  // the fault is in a "${...}"
};

/// Compiles `text`. Unknown variable names (see parse_var) are reported through
/// `unknown_variable` (offset of the "${"), not as errors.
bool compile_template(std::string_view text, const template_options& o, text_template& out,
                      template_error& err, std::string* unknown_variable = nullptr);

/// Compiles a Resource entry or ARN value: "*" or "arn:p:s:r:a:rest". Variables
/// are allowed only in the resource part, as IAM demands.
bool compile_arn(std::string_view text, const template_options& o, arn_pattern& out,
                 template_error& err, std::string* unknown_variable = nullptr);

/// A request resource split at its first five colons (not an ARN when !arn).
struct split_arn {
  bool arn = false;
  std::array<std::string_view, 5> head;
  std::string_view tail;
  std::string_view whole;
};
split_arn split(std::string_view resource) noexcept;

enum class match_result : std::uint8_t { no, yes, unresolved };

/// Whether every variable of the template / pattern has a value in `ctx`.
bool resolvable(const text_template& t, const context& ctx) noexcept;
bool resolvable(const arn_pattern& p, const context& ctx) noexcept;

/// Matches `s` against a template; variables are substituted as literal text.
/// `unresolved` when the match reaches a variable without a value in `ctx`; a
/// mismatch found before reaching it is `no` (callers that need to know
/// whether everything resolves ask resolvable()).
match_result match(const text_template& t, std::string_view s, const context& ctx,
                   bool ignore_case = false) noexcept;

/// With `resource` set (a statement's Resource, not a condition's ARN) and
/// ctx.any_account, the region and account fields are not compared.
match_result match(const arn_pattern& p, const split_arn& r, const context& ctx,
                   bool resource = false) noexcept;

/// Plain IAM wildcard match without variables ('*' any run, '?' one character),
/// optionally ASCII case-insensitive (Action names).
bool wildcard_match(std::string_view pattern, std::string_view s, bool ignore_case) noexcept;

}  // namespace iotblocks::policy::detail
