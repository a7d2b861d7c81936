// The action interface of the rules engine. Built-in actions (republish,
// dynamoDB, http, cloudwatchMetric, sns, command, anomaly, function, lambda)
// implement it, and so can an application's own: register a factory under a
// type name and rule documents may use {"<type>": {parameters}}.
//
//   class audit_action final : public rules::action {
//    public:
//     rules::action_status execute(const rules::action_input& in) override {
//       audit_log.append(in.rule.name, in.output);
//       return {};
//     }
//   };
//   engine.register_action("audit", [](std::string_view params)
//       -> iotblocks::result<std::unique_ptr<rules::action>> {
//     return std::make_unique<audit_action>();
//   });
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/rules/error.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::rules {

/// The message a rule matched, owned: actions run after dispatch() has returned.
struct message_record {
  std::string topic;
  std::string payload;  ///< the original bytes
  std::string client_id;
  std::string principal;
  std::string source_ip;
  std::int64_t timestamp_ms = 0;
  std::uint8_t qos = 0;
};

/// The rule an action belongs to.
struct rule_identity {
  std::string name;
  std::string account;
  std::string arn;  ///< arn:aws:iot:<region>:<account>:rule/<name>
};

/// One invocation of an action. Valid during execute() only.
struct action_input {
  const rule_identity& rule;
  const message_record& message;
  std::string_view output;  ///< the SELECT output (JSON, or raw bytes for SELECT * on binary)
  std::span<const std::string> values;  ///< the action's templates() rendered for this message
  unsigned attempt = 0;                 ///< 0 first, then 1, 2, ... for retries
  /// Scratch kept across the attempts of this invocation (e.g. the subscriptions
  /// a notification already reached, so a retry does not deliver twice).
  std::vector<std::string>* progress = nullptr;
};

/// How an invocation ended. Default-constructed: success.
struct action_status {
  std::error_code code;
  std::string message;
  bool retryable = false;  ///< worth another attempt after a backoff (I/O faults)

  bool ok() const noexcept { return !code; }
  static action_status fail(std::error_code c, std::string m, bool retry = false) {
    return {c, std::move(m), retry};
  }
};

/// A destination that may belong to another account (cross-account check).
struct destination_ref {
  std::string arn;         ///< e.g. arn:aws:lambda:us-east-1:987654321012:function:f; empty: none
  std::string permission;  ///< e.g. "lambda:InvokeFunction", "sns:Publish"
};

/// A configured action of one rule. execute() runs on an engine worker, never
/// concurrently for the same action object (invocations are queued per action).
class action {
 public:
  virtual ~action() = default;
  /// Substitution templates to render per message; values arrive in action_input::values.
  virtual std::vector<std::string> templates() const { return {}; }
  /// What an error message names as failedResource (table, URL, topic, host:port).
  virtual std::string resource() const { return {}; }
  /// The destination to authorise for cross-account invocations; empty arn: none.
  virtual destination_ref destination() const { return {}; }
  /// Largest number of invocations execute_batch() takes at once. Default 1.
  virtual std::size_t max_batch() const noexcept { return 1; }

  virtual action_status execute(const action_input& in) = 0;
  /// Runs several invocations together (a store commits them in one transaction).
  /// Default: execute() one by one.
  virtual void execute_batch(std::span<const action_input> in, std::span<action_status> out) {
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = execute(in[i]);
  }
};

/// Builds an action from its parameter object (JSON text). Errors: error::invalid_action
/// with a message naming the parameter.
using action_factory =
    std::function<result<std::unique_ptr<action>>(std::string_view parameters_json)>;

}  // namespace iotblocks::rules

IOTBLOCKS_API_END
