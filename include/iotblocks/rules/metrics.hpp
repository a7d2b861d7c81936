// An embedded metric store with alarms, modelled on CloudWatch's PutMetricData
// and PutMetricAlarm: the `cloudwatchMetric` action writes datapoints, alarms
// compare a statistic per period with a threshold over the last N periods and
// move between OK, ALARM and INSUFFICIENT_DATA; each change runs the alarm's
// actions (notify topics, through the engine). Time comes from an injectable
// clock, so 15 periods of 60 s pass in a test without sleeping.
//
//   rules::metric_store store{clock};
//   rules::alarm_definition open;
//   open.name = "Trigger_SunShade_Open";
//   open.metric_namespace = "Greenhouse Lux Sensors";
//   open.metric_name = "ShadePosition";
//   open.stat = rules::statistic::sum;
//   open.period_s = 60;
//   open.evaluation_periods = 15;
//   open.op = rules::comparison::greater_or_equal;
//   open.threshold = 1;
//   open.alarm_actions = {"arn:aws:sns:us-east-1:000000000000:Sunshades"};
//   store.put_alarm(open).value();
//   store.put({"Greenhouse Lux Sensors", "ShadePosition", 1.0, "Count", clock.now_ms()}).value();
//   clock.advance(std::chrono::minutes(15));
//   for (const auto& t : store.evaluate()) notify(t.to_json());   // INSUFFICIENT_DATA -> ALARM
#pragma once

#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/rules/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::rules {

enum class statistic : std::uint8_t { sum, average, minimum, maximum, sample_count };
enum class comparison : std::uint8_t {
  greater_or_equal,  ///< GreaterThanOrEqualToThreshold
  greater,           ///< GreaterThanThreshold
  less,              ///< LessThanThreshold
  less_or_equal,     ///< LessThanOrEqualToThreshold
};
enum class missing_data : std::uint8_t {
  missing,        ///< all periods missing: INSUFFICIENT_DATA; otherwise judge the present ones
  not_breaching,  ///< a missing period counts as within the threshold
  breaching,      ///< a missing period counts as breaching
  ignore,         ///< missing periods are skipped; with too few present ones the state stays
};
enum class alarm_state : std::uint8_t { insufficient_data, ok, alarm };

/// CloudWatch spellings: "Sum", "GreaterThanOrEqualToThreshold", "notBreaching", "ALARM".
std::string_view to_string(statistic s) noexcept;
std::string_view to_string(comparison c) noexcept;
std::string_view to_string(missing_data m) noexcept;
std::string_view to_string(alarm_state s) noexcept;
std::optional<statistic> parse_statistic(std::string_view s) noexcept;
std::optional<comparison> parse_comparison(std::string_view s) noexcept;
std::optional<missing_data> parse_missing_data(std::string_view s) noexcept;

/// One datapoint.
struct metric_datum {
  std::string metric_namespace;
  std::string metric_name;
  double value = 0;
  std::string unit;  ///< CloudWatch unit name ("Count", "Seconds", ...); "None" if empty
  std::int64_t timestamp_ms = 0;  ///< Unix milliseconds
};

/// A statistic of one period.
struct metric_point {
  std::int64_t start_ms = 0;
  double value = 0;
  std::uint64_t samples = 0;
};

/// What put-metric-alarm takes. Periods are whole minutes (60, 120, ...).
struct alarm_definition {
  std::string name;
  std::string description;
  std::string metric_namespace;
  std::string metric_name;
  statistic stat = statistic::average;
  std::int64_t period_s = 60;
  unsigned evaluation_periods = 1;
  unsigned datapoints_to_alarm = 0;  ///< 0: equal to evaluation_periods
  comparison op = comparison::greater_or_equal;
  double threshold = 0;
  missing_data treat_missing = missing_data::missing;
  bool actions_enabled = true;
  std::vector<std::string> alarm_actions;              ///< on entering ALARM
  std::vector<std::string> ok_actions;                 ///< on entering OK
  std::vector<std::string> insufficient_data_actions;  ///< on entering INSUFFICIENT_DATA

  /// The JSON of `aws cloudwatch put-metric-alarm --cli-input-json` (AlarmName,
  /// Namespace, MetricName, Statistic, Period, EvaluationPeriods, DatapointsToAlarm,
  /// ComparisonOperator, Threshold, TreatMissingData, ActionsEnabled, AlarmActions,
  /// OKActions, InsufficientDataActions, AlarmDescription). Errors: error::invalid_alarm.
  static result<alarm_definition> from_json(std::string_view json);
  /// Checks ranges (period, periods, datapoints, names). Errors: error::invalid_alarm.
  result<void> validate() const;
};

/// A state change of an alarm.
struct alarm_transition {
  std::shared_ptr<const alarm_definition> alarm;
  alarm_state from = alarm_state::insufficient_data;
  alarm_state to = alarm_state::insufficient_data;
  std::string reason;
  std::int64_t time_ms = 0;

  /// The actions of the new state (empty when actions are disabled).
  const std::vector<std::string>& actions() const noexcept;
  /// The notification CloudWatch sends to SNS: {"AlarmName":...,"NewStateValue":"ALARM",...}.
  std::string to_json() const;
};

/// The current state of an alarm.
struct alarm_status {
  std::shared_ptr<const alarm_definition> alarm;
  alarm_state state = alarm_state::insufficient_data;
  std::string reason;
  std::int64_t since_ms = 0;
};

/// Datapoints in one-minute buckets per metric, and the alarms over them.
/// Distinct objects: safe. Shared objects: safe (one internal mutex).
class metric_store {
 public:
  explicit metric_store(const clock& c = default_clock());
  ~metric_store();
  metric_store(const metric_store&) = delete;
  metric_store& operator=(const metric_store&) = delete;

  /// How long datapoints are kept. Default 24 hours.
  metric_store& retention(std::chrono::seconds s);
  /// Most distinct metrics (namespace, name). Default 10,000.
  metric_store& max_metrics(std::size_t n);
  /// Most alarms. Default 5,000.
  metric_store& max_alarms(std::size_t n);

  /// Adds a datapoint. Errors: error::invalid_metric (non-finite value, empty names),
  /// error::limit_exceeded (too many metrics).
  result<void> put(const metric_datum& d);

  /// Creates or replaces an alarm; a replaced alarm starts again in INSUFFICIENT_DATA.
  result<void> put_alarm(alarm_definition a);
  bool delete_alarm(std::string_view name);
  std::optional<alarm_status> describe_alarm(std::string_view name) const;
  std::vector<alarm_status> alarms() const;

  /// The statistic per period over [start_ms, end_ms); periods without data are left out.
  std::vector<metric_point> statistics(std::string_view metric_namespace, std::string_view name,
                                       std::int64_t start_ms, std::int64_t end_ms,
                                       std::int64_t period_s, statistic stat) const;

  /// Evaluates every alarm over the complete periods before the clock's now and
  /// returns the state changes (also passed to the listener, outside the lock).
  std::vector<alarm_transition> evaluate();

  /// Called for each state change found by evaluate().
  void on_transition(std::function<void(const alarm_transition&)> listener);

  const clock& time_source() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::rules

IOTBLOCKS_API_END
