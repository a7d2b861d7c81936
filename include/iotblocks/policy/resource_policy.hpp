// Resource policies on rule destinations: may this rule invoke this
// destination? The rules engine calls authorize_invocation() before every
// cross-service action. A destination owned by account B accepts a rule of
// account A (cross-account) only when an Allow statement of its resource
// policy names A as the source account (aws:SourceAccount, or Principal AWS)
// and the rule's ARN (aws:SourceArn); same-account invocations need an
// applicable Allow. Any applicable Deny wins.
//
//   // Forecast Corp (987654321012) lets Weather Corp's rule call its function:
//   auto text = policy::add_permission("", {
//       .statement_id = "weather",
//       .action = "lambda:InvokeFunction",
//       .destination_arn = "arn:aws:lambda:us-east-1:987654321012:function:LambdaForWeatherCorp",
//       .source_account = "123456789012",
//       .source_arn = "arn:aws:iot:us-east-1:123456789012:rule/WeatherCorpRule"}).value();
//   auto doc = policy::parse_document(text, policy::resource_policy_options()).value();
//   auto d = policy::authorize_invocation(doc, {
//       .action = "lambda:InvokeFunction",
//       .destination_arn = "arn:aws:lambda:us-east-1:987654321012:function:LambdaForWeatherCorp",
//       .source_arn = "arn:aws:iot:us-east-1:123456789012:rule/WeatherCorpRule"});
//   d.allowed();   // true
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/policy/document.hpp>
#include <iotblocks/policy/evaluate.hpp>

#include <cstddef>
#include <string>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::policy {

/// Parse options for resource policies (Principal required, 20 KiB like Lambda).
parse_options resource_policy_options() noexcept;

/// What the rules engine presents when a rule action calls a destination.
struct invocation {
  std::string_view action{};           ///< "lambda:InvokeFunction", "sqs:SendMessage", ...
  std::string_view destination_arn{};  ///< the destination (the policy's Resource)
  std::string_view source_arn{};       ///< the rule: arn:aws:iot:<region>:<account>:rule/<name>
  std::string_view source_account{};   ///< the rule's account; taken from source_arn when empty
  std::string_view service = "iot.amazonaws.com";  ///< the calling service principal
};

struct invocation_decision {
  outcome result = outcome::implicit_deny;
  std::size_t statement = decision::no_statement;  ///< deciding statement, if any
  bool cross_account = false;
  std::string reason;  ///< for logs, e.g. why an Allow did not count

  bool allowed() const noexcept { return result == outcome::allowed; }
};

/// Evaluates `inv` against a destination's resource policy (a document parsed
/// with resource_policy_options()). Context keys available to conditions:
/// aws:SourceAccount, aws:SourceArn, aws:PrincipalServiceName.
invocation_decision authorize_invocation(const document& resource_policy, const invocation& inv);

/// One permission, as Lambda's add-permission creates it.
struct permission {
  std::string statement_id{};  ///< Sid, unique in the policy
  std::string action{};
  std::string destination_arn{};
  std::string principal_service = "iot.amazonaws.com";
  std::string source_account{};  ///< becomes StringEquals aws:SourceAccount
  std::string source_arn{};      ///< becomes ArnLike aws:SourceArn
};

/// Adds `p` as a statement to the resource policy `existing` (JSON text; empty
/// for a new policy) and returns the new text. Errors: the parse errors of
/// `existing`; policy::error::duplicate_element when the Sid is taken.
result<std::string> add_permission(std::string_view existing, const permission& p);

/// Removes the statement with Sid `statement_id`; core::error::not_found otherwise.
result<std::string> remove_permission(std::string_view existing, std::string_view statement_id);

}  // namespace iotblocks::policy

IOTBLOCKS_API_END
