// Evaluates compiled rules and templates against messages. An evaluator owns the
// scratch memory of evaluations, so after warm-up evaluating allocates nothing
// when the rule does not match. Use one evaluator per thread.
//
// No call of the evaluator applies the FROM clause: each assumes the message's topic
// already matched the rule's FROM filter. Check it with sql::matches_from (rule.hpp),
// or route messages to rules by rule::from() with a topic index, as the rules engine does.
//
//   sql::evaluator ev;
//   if (!sql::matches_from(rule, msg.topic)) return;   // FROM does not match: no trigger
//   auto out = ev.evaluate(rule, msg);
//   if (!out) log(out.describe());              // evaluation error
//   else if (!*out) { /* WHERE did not match */ }
//   else publish(**out);                        // output payload, valid until the next call
#pragma once

#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/sql/message.hpp>
#include <iotblocks/sql/rule.hpp>
#include <iotblocks/sql/template.hpp>
#include <iotblocks/sql/value.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::sql {

namespace detail {
struct IOTBLOCKS_HIDDEN eval_state;
}

/// Limits of one evaluation. Distinct objects: safe. Shared objects: unsafe.
class evaluator_options {
 public:
  /// Deepest nesting accepted in a JSON payload; deeper payloads fail with
  /// error::payload_too_deep. Default 64.
  evaluator_options& max_payload_depth(std::size_t n) noexcept {
    max_payload_depth_ = n;
    return *this;
  }
  /// Scratch memory one evaluation may use (strings, arrays, objects it builds).
  /// Default 16 MiB.
  evaluator_options& max_memory(std::size_t n) noexcept {
    max_memory_ = n;
    return *this;
  }
  /// Work budget of one regexp_* call, in automaton steps (input characters times
  /// live states); past it the call returns Undefined. Default 2,000,000.
  evaluator_options& max_regex_steps(std::size_t n) noexcept {
    max_regex_steps_ = n;
    return *this;
  }
  /// Clock for timestamp() when the message carries no timestamp. Default: system clock.
  evaluator_options& clock(const iotblocks::clock* c) noexcept {
    clock_ = c;
    return *this;
  }

  std::size_t max_payload_depth() const noexcept { return max_payload_depth_; }
  std::size_t max_memory() const noexcept { return max_memory_; }
  std::size_t max_regex_steps() const noexcept { return max_regex_steps_; }
  const iotblocks::clock& clock() const noexcept { return clock_ ? *clock_ : default_clock(); }

 private:
  std::size_t max_payload_depth_ = 64;
  std::size_t max_memory_ = 16 * 1024 * 1024;
  std::size_t max_regex_steps_ = 2'000'000;
  const iotblocks::clock* clock_ = nullptr;
};

/// Reusable evaluation scratch. Distinct objects: safe. Shared objects: unsafe.
class evaluator {
 public:
  explicit evaluator(evaluator_options options = {});
  ~evaluator();
  evaluator(evaluator&&) noexcept;
  evaluator& operator=(evaluator&&) noexcept;

  /// Evaluates WHERE only: true when the rule matches the message. Assumes the topic
  /// matched FROM (not checked; see matches_from).
  result<bool> matches(const rule& r, const message& m);

  /// Evaluates the rule, assuming the topic matched FROM (not checked; see
  /// matches_from). nullopt when WHERE is not true; otherwise the output
  /// payload: JSON text, or the payload bytes for `SELECT *` on a non-JSON payload.
  /// The view stays valid until the next call on this evaluator.
  result<std::optional<std::string_view>> evaluate(const rule& r, const message& m);

  /// Like evaluate (FROM not checked), but returns the output as a value (nullopt when no match;
  /// a non-JSON payload selected with * comes back as a String of its bytes).
  result<std::optional<value>> evaluate_value(const rule& r, const message& m);

  /// Renders a substitution template: strings verbatim, other values as JSON,
  /// Undefined as "".
  result<std::string> render(const substitution_template& t, const message& m);

  const evaluator_options& options() const noexcept;

 private:
  std::unique_ptr<detail::eval_state> s_;
};

}  // namespace iotblocks::sql

IOTBLOCKS_API_END
