// The rules engine: topic rules in AWS IoT's topic-rule JSON, indexed by their
// FROM filter, evaluated once per matching message, with actions that run on
// worker threads behind bounded queues, retry I/O with exponential backoff,
// and report every invocation they could not complete to the rule's
// errorAction. Nothing is dropped silently: a full queue counts and reports.
//
//   rules::engine_options o;
//   o.store_path = "rules.db";                          // dynamoDB action's SQLite file
//   rules::engine engine{o};
//   engine.add_rule("TooBright", R"({"sql":"SELECT * FROM '/topic/Greenhouse/LuxSensors' WHERE lux
//   > 35000",
//       "actions":[{"cloudwatchMetric":{"metricNamespace":"Greenhouse Lux Sensors",
//                   "metricName":"ShadePosition","metricValue":"1","metricUnit":"Count"}}]})").value();
//   rules::message m;
//   m.topic = "/topic/Greenhouse/LuxSensors";
//   m.payload = iotblocks::as_bytes(R"({"lux":36250})");
//   engine.dispatch(m);                                  // evaluates now, acts on a worker
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/rules/action.hpp>
#include <iotblocks/rules/document.hpp>
#include <iotblocks/rules/error.hpp>
#include <iotblocks/rules/item_store.hpp>
#include <iotblocks/rules/metrics.hpp>
#include <iotblocks/rules/notify.hpp>
#include <iotblocks/rules/transport.hpp>
#include <iotblocks/sql/functions.hpp>
#include <iotblocks/sql/message.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::policy {
class document;
}

namespace iotblocks::rules {

/// A message to dispatch: the SQL's message type, MQTT 5 properties and trace id
/// included (set_mqtt_properties() fills the properties from a PUBLISH). Views;
/// valid for the duration of dispatch() only. `timestamp_ms` absent: the engine's clock.
using message = sql::message;

/// Where `republish` sends messages: the broker or gateway implements it.
class publisher {
 public:
  virtual ~publisher() = default;
  /// Called from engine workers; must be thread-safe. A failure is retried like I/O.
  virtual result<void> publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
                               bool retain) = 0;
};

/// What a `function` (lambda-style) action hands to the application.
struct function_event {
  const rule_identity& rule;
  const message_record& message;
  std::string_view output;  ///< the SELECT output: the function's event
};
using function_callback = std::function<result<void>(const function_event&)>;

/// What happens when an action's queue is full.
enum class overflow_policy : std::uint8_t {
  reject,  ///< count it, report it to the errorAction (default)
  block,   ///< dispatch() waits for room up to block_timeout, then rejects
};

struct retry_policy {
  unsigned max_attempts = 4;  ///< first attempt included
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{10'000};
  double multiplier = 2.0;
};

/// Settings of an engine. Defaults in brackets.
struct engine_options {
  const iotblocks::clock* time = nullptr;  ///< [system clock] timestamps, metrics, alarms
  std::string region = "us-east-1";
  std::string account = "000000000000";  ///< account of rules added without one
  std::size_t worker_threads = 2;        ///< threads running actions
  std::size_t queue_capacity = 1024;     ///< pending invocations per action
  overflow_policy overflow = overflow_policy::reject;
  std::chrono::milliseconds block_timeout{1000};
  retry_policy retry;
  std::size_t max_rules = 1'000'000;
  std::string store_path;                       ///< SQLite file of the dynamoDB action; empty: none
  std::shared_ptr<item_store> store;            ///< or an open store (wins over store_path)
  std::shared_ptr<rules::publisher> publisher;  ///< for republish; none: republish fails
  /// For http actions (e.g. net_rules::http_client_transport); none: they fail.
  std::shared_ptr<http_transport> http;
  /// For command actions (e.g. net_rules::tcp_command_transport); none: they fail.
  std::shared_ptr<command_transport> command;
  /// SQL functions rules may call besides the built-ins (e.g. get_thing_shadow); set
  /// before adding rules. None by default: such a call does not compile.
  std::shared_ptr<const sql::function_registry> functions;
  /// Alarms are evaluated on each tick(); the engine also ticks on its own at this
  /// interval of real time (0: only explicit tick()).
  std::chrono::milliseconds tick_interval{1000};
  /// Failures that could not be handed to an errorAction (none configured, or the
  /// errorAction failed too): one line each. Default: standard error.
  std::function<void(std::string_view)> on_unreported;
};

/// Counters of one rule (since it was added; kept across replace).
struct rule_metrics {
  std::uint64_t evaluated = 0;          ///< messages whose topic matched FROM (rule enabled)
  std::uint64_t matched = 0;            ///< of those, WHERE was true
  std::uint64_t evaluation_errors = 0;  ///< the SQL failed on the message
  std::uint64_t actions_succeeded = 0;
  std::uint64_t actions_failed = 0;   ///< gave up (after retries) or denied
  std::uint64_t actions_retried = 0;  ///< retry attempts scheduled
  std::uint64_t actions_dropped = 0;  ///< rejected by a full queue
  std::uint64_t error_actions_sent = 0;
  std::uint64_t unreported = 0;        ///< failures no errorAction took
  std::uint64_t latency_count = 0;     ///< completed invocations (success or final failure)
  std::uint64_t latency_total_us = 0;  ///< dispatch to completion
  std::uint64_t latency_max_us = 0;

  std::string to_json() const;
};

/// A rule as stored.
struct rule_info {
  rule_identity identity;
  rule_document document;
  std::string from;  ///< the FROM topic filter
};

/// Distinct objects: safe. Shared objects: safe (dispatch from many threads,
/// rules changed at any time; a message sees either the old or the new rule).
class engine {
 public:
  /// Starts the workers (and the alarm timer). Throws std::system_error when
  /// `store_path` cannot be opened as a SQLite database.
  explicit engine(engine_options options = {});
  /// Stops the timer, lets the workers finish what is queued (see stop()).
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Adds a rule. Errors: error::invalid_rule_name, error::rule_exists, the document
  /// and SQL errors (with positions), error::unknown_action / invalid_action naming
  /// the action, error::limit_exceeded.
  result<void> add_rule(std::string_view name, std::string_view document_json,
                        std::string_view account = {});
  /// Replaces an existing rule atomically; queued invocations of the old version finish.
  result<void> replace_rule(std::string_view name, std::string_view document_json,
                            std::string_view account = {});
  /// Adds or replaces.
  result<void> put_rule(std::string_view name, std::string_view document_json,
                        std::string_view account = {});
  bool remove_rule(std::string_view name);
  result<void> set_rule_enabled(std::string_view name, bool enabled);
  std::optional<rule_info> rule(std::string_view name) const;
  std::vector<std::string> rule_names() const;
  std::size_t rule_count() const;

  /// Checks a document as add_rule would, without adding it.
  result<rule_info> check_rule(std::string_view name, std::string_view document_json,
                               std::string_view account = {}) const;

  /// Evaluates every enabled rule whose FROM matches the topic and queues their
  /// actions. Returns the number of rules whose WHERE matched.
  std::size_t dispatch(const message& m);
  /// Called once when everything a dispatch started has finished (see below).
  using dispatch_done = std::function<void(std::error_code)>;
  /// As dispatch(m), and calls `done` once every action of every matching rule has
  /// finished: succeeded, or failed for good and its errorAction (if any) has run or
  /// failed too. ec is empty then; error::stopped if stop() failed an invocation
  /// (or the engine was already stopped); error::queue_full if an invocation was
  /// dropped because its action's queue was full (it is reported to the errorAction
  /// like a failure, but was never tried). Runs inside dispatch when nothing was
  /// queued, else on an engine worker thread: keep it short, do not call the engine
  /// from it. This is what an at-least-once consumer acknowledges on.
  std::size_t dispatch(const message& m, dispatch_done done);
  /// Basic Ingest (`$aws/rules/<rule>/<topic>`, as AWS IoT runs it): evaluates the
  /// rule named `rule`, if enabled, on `m` (whose topic is the part after the
  /// prefix) whatever its FROM filter says. nullopt: no such rule; else the number
  /// of rules whose WHERE matched (0 or 1). `done` as for dispatch.
  std::optional<std::size_t> dispatch_to(std::string_view rule, const message& m,
                                         dispatch_done done = {});

  /// Registers an action type (replaces a built-in of the same name).
  void register_action(std::string type, action_factory factory);
  /// Registers the callback of `function` actions named `name` (also `lambda` actions
  /// whose functionArn ends in ":function:<name>").
  void register_function(std::string name, function_callback fn);
  /// Sets (or with an empty document removes) the resource policy of a destination
  /// ARN: notify topics, functions, tables. Invocations from another account need one.
  void set_resource_policy(std::string_view destination_arn, const policy::document* doc);

  std::optional<rule_metrics> metrics(std::string_view rule_name) const;
  rule_metrics totals() const;

  metric_store& metrics_store() noexcept;
  rules::notifier& notifier() noexcept;
  std::shared_ptr<item_store> items() const noexcept;

  /// Evaluates alarms at the clock's now and queues their notifications.
  void tick();
  /// Waits until every accepted invocation has finished (including retries and
  /// error actions). @return false if `limit` passed first.
  bool flush(std::chrono::milliseconds limit = std::chrono::seconds(30));
  /// Finishes queued work for up to `limit`, then fails what is left (reported as
  /// error::stopped) and joins the threads. dispatch() afterwards queues nothing.
  void stop(std::chrono::milliseconds limit = std::chrono::seconds(5));

  const engine_options& options() const noexcept;

 private:
  /// dispatch / dispatch_to: every rule whose FROM matches, or the rule `only`.
  std::size_t run(const message& m, dispatch_done done, std::optional<std::string_view> only,
                  bool& rule_found);
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::rules

IOTBLOCKS_API_END
