#include <iotblocks/rules/metrics.hpp>

#include "core/json.hpp"
#include "rules/iso_time.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <mutex>
#include <unordered_map>

namespace iotblocks::rules {

namespace detail {
std::string iso8601(std::int64_t unix_ms) {
  const std::int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  const auto ms = static_cast<int>(unix_ms - secs * 1000);
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}
}  // namespace detail

namespace {

constexpr std::int64_t minute_ms = 60'000;

struct aggregate {
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::uint64_t count = 0;

  void add(double v) {
    sum += v;
    min = std::min(min, v);
    max = std::max(max, v);
    ++count;
  }
  void merge(const aggregate& o) {
    sum += o.sum;
    min = std::min(min, o.min);
    max = std::max(max, o.max);
    count += o.count;
  }
  double get(statistic s) const {
    switch (s) {
      case statistic::sum: return sum;
      case statistic::average: return sum / static_cast<double>(count);
      case statistic::minimum: return min;
      case statistic::maximum: return max;
      case statistic::sample_count: return static_cast<double>(count);
    }
    return 0;
  }
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

bool compare(comparison op, double v, double threshold) {
  switch (op) {
    case comparison::greater_or_equal: return v >= threshold;
    case comparison::greater: return v > threshold;
    case comparison::less: return v < threshold;
    case comparison::less_or_equal: return v <= threshold;
  }
  return false;
}

std::string_view phrase(comparison op) {
  switch (op) {
    case comparison::greater_or_equal: return "greater than or equal to";
    case comparison::greater: return "greater than";
    case comparison::less: return "less than";
    case comparison::less_or_equal: return "less than or equal to";
  }
  return "";
}

using writer = rapidjson::Writer<rapidjson::StringBuffer>;
void put_string(writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

std::string_view to_string(statistic s) noexcept {
  switch (s) {
    case statistic::sum: return "Sum";
    case statistic::average: return "Average";
    case statistic::minimum: return "Minimum";
    case statistic::maximum: return "Maximum";
    case statistic::sample_count: return "SampleCount";
  }
  return "";
}
std::string_view to_string(comparison c) noexcept {
  switch (c) {
    case comparison::greater_or_equal: return "GreaterThanOrEqualToThreshold";
    case comparison::greater: return "GreaterThanThreshold";
    case comparison::less: return "LessThanThreshold";
    case comparison::less_or_equal: return "LessThanOrEqualToThreshold";
  }
  return "";
}
std::string_view to_string(missing_data m) noexcept {
  switch (m) {
    case missing_data::missing: return "missing";
    case missing_data::not_breaching: return "notBreaching";
    case missing_data::breaching: return "breaching";
    case missing_data::ignore: return "ignore";
  }
  return "";
}
std::string_view to_string(alarm_state s) noexcept {
  switch (s) {
    case alarm_state::insufficient_data: return "INSUFFICIENT_DATA";
    case alarm_state::ok: return "OK";
    case alarm_state::alarm: return "ALARM";
  }
  return "";
}
std::optional<statistic> parse_statistic(std::string_view s) noexcept {
  for (auto v : {statistic::sum, statistic::average, statistic::minimum, statistic::maximum,
                 statistic::sample_count}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}
std::optional<comparison> parse_comparison(std::string_view s) noexcept {
  for (auto v : {comparison::greater_or_equal, comparison::greater, comparison::less,
                 comparison::less_or_equal}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}
std::optional<missing_data> parse_missing_data(std::string_view s) noexcept {
  for (auto v : {missing_data::missing, missing_data::not_breaching, missing_data::breaching,
                 missing_data::ignore}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

result<void> alarm_definition::validate() const {
  if (name.empty() || name.size() > 255)
    return {error::invalid_alarm, "AlarmName has 1 to 255 characters"};
  if (metric_namespace.empty() || metric_name.empty()) {
    return {error::invalid_alarm, "Namespace and MetricName are required"};
  }
  if (period_s < 60 || period_s % 60 != 0 || period_s > 86400) {
    return {error::invalid_alarm, "Period is a multiple of 60 seconds up to 86400"};
  }
  if (evaluation_periods < 1 || static_cast<std::int64_t>(evaluation_periods) * period_s > 86400) {
    return {error::invalid_alarm, "EvaluationPeriods is at least 1 and spans at most one day"};
  }
  if (datapoints_to_alarm > evaluation_periods) {
    return {error::invalid_alarm, "DatapointsToAlarm is at most EvaluationPeriods"};
  }
  if (!std::isfinite(threshold)) return {error::invalid_alarm, "Threshold must be a finite number"};
  return {};
}

result<alarm_definition> alarm_definition::from_json(std::string_view text) {
  auto parsed = json::parse(text, {.max_depth = 8, .validate_utf8 = true});
  if (!parsed) return std::move(parsed).take_failure();
  const auto& d = *parsed;
  if (!d.IsObject()) return {error::invalid_alarm, "an alarm is a JSON object"};
  alarm_definition a;
  auto bad = [](std::string_view key, std::string_view what) -> failure {
    return {error::invalid_alarm, fmt::format("\"{}\" {}", key, what), {}};
  };
  auto strings = [&](const rapidjson::Value& v, std::string_view key,
                     std::vector<std::string>& out) -> result<void> {
    if (!v.IsArray()) return bad(key, "must be an array of strings");
    for (const auto& e : v.GetArray()) {
      if (!e.IsString()) return bad(key, "must be an array of strings");
      out.emplace_back(json::view(e));
    }
    return {};
  };
  for (const auto& m : d.GetObject()) {
    const std::string_view key = json::view(m.name);
    const auto& v = m.value;
    if (key == "AlarmName" || key == "AlarmDescription" || key == "Namespace" ||
        key == "MetricName" || key == "Statistic" || key == "ComparisonOperator" ||
        key == "TreatMissingData" || key == "Unit") {
      if (!v.IsString()) return bad(key, "must be a string");
      const std::string_view s = json::view(v);
      if (key == "AlarmName") a.name = s;
      if (key == "AlarmDescription") a.description = s;
      if (key == "Namespace") a.metric_namespace = s;
      if (key == "MetricName") a.metric_name = s;
      if (key == "Statistic") {
        auto st = parse_statistic(s);
        if (!st) return bad(key, "is one of Sum, Average, Minimum, Maximum, SampleCount");
        a.stat = *st;
      }
      if (key == "ComparisonOperator") {
        auto op = parse_comparison(s);
        if (!op)
          return bad(key,
                     "is one of GreaterThanOrEqualToThreshold, GreaterThanThreshold, "
                     "LessThanThreshold, LessThanOrEqualToThreshold");
        a.op = *op;
      }
      if (key == "TreatMissingData") {
        auto t = parse_missing_data(s);
        if (!t) return bad(key, "is one of missing, notBreaching, breaching, ignore");
        a.treat_missing = *t;
      }
    } else if (key == "Period" || key == "EvaluationPeriods" || key == "DatapointsToAlarm") {
      if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > 86400 * 10) {
        return bad(key, "must be a non-negative integer");
      }
      if (key == "Period") a.period_s = v.GetInt64();
      if (key == "EvaluationPeriods") a.evaluation_periods = static_cast<unsigned>(v.GetInt64());
      if (key == "DatapointsToAlarm") a.datapoints_to_alarm = static_cast<unsigned>(v.GetInt64());
    } else if (key == "Threshold") {
      if (!v.IsNumber()) return bad(key, "must be a number");
      a.threshold = v.GetDouble();
    } else if (key == "ActionsEnabled") {
      if (!v.IsBool()) return bad(key, "must be true or false");
      a.actions_enabled = v.GetBool();
    } else if (key == "AlarmActions") {
      if (auto r = strings(v, key, a.alarm_actions); !r) return std::move(r).take_failure();
    } else if (key == "OKActions") {
      if (auto r = strings(v, key, a.ok_actions); !r) return std::move(r).take_failure();
    } else if (key == "InsufficientDataActions") {
      if (auto r = strings(v, key, a.insufficient_data_actions); !r) {
        return std::move(r).take_failure();
      }
    } else {
      return bad(key, "is not a put-metric-alarm element this store supports");
    }
  }
  if (auto r = a.validate(); !r) return std::move(r).take_failure();
  return a;
}

const std::vector<std::string>& alarm_transition::actions() const noexcept {
  static const std::vector<std::string> none;
  if (!alarm || !alarm->actions_enabled) return none;
  switch (to) {
    case alarm_state::alarm: return alarm->alarm_actions;
    case alarm_state::ok: return alarm->ok_actions;
    case alarm_state::insufficient_data: return alarm->insufficient_data_actions;
  }
  return none;
}

std::string alarm_transition::to_json() const {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("AlarmName");
  put_string(w, alarm->name);
  w.Key("AlarmDescription");
  put_string(w, alarm->description);
  w.Key("NewStateValue");
  put_string(w, to_string(to));
  w.Key("NewStateReason");
  put_string(w, reason);
  w.Key("StateChangeTime");
  put_string(w, detail::iso8601(time_ms));
  w.Key("OldStateValue");
  put_string(w, to_string(from));
  w.Key("Trigger");
  w.StartObject();
  w.Key("MetricName");
  put_string(w, alarm->metric_name);
  w.Key("Namespace");
  put_string(w, alarm->metric_namespace);
  w.Key("Statistic");
  put_string(w, to_string(alarm->stat));
  w.Key("Period");
  w.Int64(alarm->period_s);
  w.Key("EvaluationPeriods");
  w.Uint(alarm->evaluation_periods);
  w.Key("DatapointsToAlarm");
  w.Uint(alarm->datapoints_to_alarm ? alarm->datapoints_to_alarm : alarm->evaluation_periods);
  w.Key("ComparisonOperator");
  put_string(w, to_string(alarm->op));
  w.Key("Threshold");
  w.Double(alarm->threshold);
  w.Key("TreatMissingData");
  put_string(w, to_string(alarm->treat_missing));
  w.EndObject();
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

struct metric_store::impl {
  const clock* time;
  std::int64_t retention_ms = 24 * 3600 * 1000LL;
  std::size_t max_metrics = 10'000;
  std::size_t max_alarms = 5'000;
  mutable std::mutex m;
  std::unordered_map<std::string, std::map<std::int64_t, aggregate>> series;  // key ns\x1fname
  struct alarm_entry {
    std::shared_ptr<const alarm_definition> def;
    alarm_state state = alarm_state::insufficient_data;
    std::string reason = "Unchecked: Initial alarm creation";
    std::int64_t since_ms = 0;
  };
  std::map<std::string, alarm_entry, std::less<>> alarms;
  std::function<void(const alarm_transition&)> listener;

  static std::string key(std::string_view ns, std::string_view name) {
    std::string k;
    k.reserve(ns.size() + name.size() + 1);
    k.append(ns).push_back('\x1f');
    k.append(name);
    return k;
  }

  std::optional<aggregate> period(const std::map<std::int64_t, aggregate>& s, std::int64_t start_ms,
                                  std::int64_t end_ms) const {
    std::optional<aggregate> out;
    for (auto it = s.lower_bound(floor_div(start_ms, minute_ms));
         it != s.end() && it->first * minute_ms < end_ms; ++it) {
      if (!out) out.emplace();
      out->merge(it->second);
    }
    return out;
  }

  void judge(alarm_entry& e, std::int64_t now, std::vector<alarm_transition>& changes) const {
    const alarm_definition& a = *e.def;
    const std::int64_t p = a.period_s * 1000;
    const std::int64_t end = floor_div(now, p) * p;
    const unsigned n_periods = a.evaluation_periods;
    const unsigned needed = a.datapoints_to_alarm ? a.datapoints_to_alarm : n_periods;
    static const std::map<std::int64_t, aggregate> empty;
    const auto sit = series.find(key(a.metric_namespace, a.metric_name));
    const auto& s = sit == series.end() ? empty : sit->second;
    unsigned present = 0;
    unsigned breaching = 0;
    std::string values;
    for (unsigned k = n_periods; k > 0; --k) {
      const std::int64_t start = end - static_cast<std::int64_t>(k) * p;
      auto agg = period(s, start, start + p);
      if (!agg) continue;
      ++present;
      const double v = agg->get(a.stat);
      if (compare(a.op, v, a.threshold)) ++breaching;
      if (values.size() < 400) {
        values += fmt::format("{}{} ({})", values.empty() ? "" : ", ", v, detail::iso8601(start));
      }
    }
    const unsigned missing = n_periods - present;
    unsigned evaluable = present;
    if (a.treat_missing == missing_data::breaching) {
      breaching += missing;
      evaluable = n_periods;
    } else if (a.treat_missing == missing_data::not_breaching) {
      evaluable = n_periods;
    }
    alarm_state next = e.state;
    std::string reason;
    if (breaching >= needed) {
      next = alarm_state::alarm;
      reason = fmt::format(
          "Threshold Crossed: {} out of the last {} datapoints were {} the threshold ({}). [{}]",
          breaching, n_periods, phrase(a.op), a.threshold, values);
    } else if (evaluable == 0) {
      if (a.treat_missing == missing_data::missing) {
        next = alarm_state::insufficient_data;
        reason = fmt::format("Insufficient Data: no datapoints in the last {} periods of {} s",
                             n_periods, a.period_s);
      }
    } else {
      next = alarm_state::ok;
      reason = fmt::format(
          "Threshold Crossed: {} out of the last {} datapoints were {} the threshold ({}), {} "
          "needed. [{}]",
          breaching, n_periods, phrase(a.op), a.threshold, needed, values);
    }
    if (next != e.state) {
      changes.push_back({e.def, e.state, next, reason, now});
      e.state = next;
      e.reason = std::move(reason);
      e.since_ms = now;
    }
  }
};

metric_store::metric_store(const clock& c) : impl_(std::make_unique<impl>()) { impl_->time = &c; }
metric_store::~metric_store() = default;

metric_store& metric_store::retention(std::chrono::seconds s) {
  std::lock_guard lock{impl_->m};
  impl_->retention_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s).count();
  return *this;
}
metric_store& metric_store::max_metrics(std::size_t n) {
  std::lock_guard lock{impl_->m};
  impl_->max_metrics = n;
  return *this;
}
metric_store& metric_store::max_alarms(std::size_t n) {
  std::lock_guard lock{impl_->m};
  impl_->max_alarms = n;
  return *this;
}
const clock& metric_store::time_source() const noexcept { return *impl_->time; }

result<void> metric_store::put(const metric_datum& d) {
  if (d.metric_namespace.empty() || d.metric_name.empty() || d.metric_namespace.size() > 255 ||
      d.metric_name.size() > 255) {
    return {error::invalid_metric, "metric namespace and name have 1 to 255 characters"};
  }
  if (!std::isfinite(d.value))
    return {error::invalid_metric, "metric value must be a finite number"};
  const std::int64_t now = impl_->time->now_ms();
  std::lock_guard lock{impl_->m};
  if (d.timestamp_ms < now - impl_->retention_ms) {
    return {error::invalid_metric, "metric timestamp is older than the retention period"};
  }
  auto k = impl::key(d.metric_namespace, d.metric_name);
  auto it = impl_->series.find(k);
  if (it == impl_->series.end()) {
    if (impl_->series.size() >= impl_->max_metrics) {
      return {error::limit_exceeded, fmt::format("more than {} metrics", impl_->max_metrics)};
    }
    it = impl_->series.emplace(std::move(k), std::map<std::int64_t, aggregate>{}).first;
  }
  auto& s = it->second;
  s[floor_div(d.timestamp_ms, minute_ms)].add(d.value);
  const std::int64_t oldest = floor_div(now - impl_->retention_ms, minute_ms);
  while (!s.empty() && s.begin()->first < oldest) s.erase(s.begin());
  return {};
}

result<void> metric_store::put_alarm(alarm_definition a) {
  if (auto r = a.validate(); !r) return r;
  const std::int64_t now = impl_->time->now_ms();
  std::lock_guard lock{impl_->m};
  auto it = impl_->alarms.find(a.name);
  if (it == impl_->alarms.end() && impl_->alarms.size() >= impl_->max_alarms) {
    return {error::limit_exceeded, fmt::format("more than {} alarms", impl_->max_alarms)};
  }
  impl::alarm_entry e;
  const std::string name = a.name;
  e.def = std::make_shared<const alarm_definition>(std::move(a));
  e.since_ms = now;
  impl_->alarms.insert_or_assign(name, std::move(e));
  return {};
}

bool metric_store::delete_alarm(std::string_view name) {
  std::lock_guard lock{impl_->m};
  auto it = impl_->alarms.find(name);
  if (it == impl_->alarms.end()) return false;
  impl_->alarms.erase(it);
  return true;
}

std::optional<alarm_status> metric_store::describe_alarm(std::string_view name) const {
  std::lock_guard lock{impl_->m};
  auto it = impl_->alarms.find(name);
  if (it == impl_->alarms.end()) return std::nullopt;
  return alarm_status{it->second.def, it->second.state, it->second.reason, it->second.since_ms};
}

std::vector<alarm_status> metric_store::alarms() const {
  std::lock_guard lock{impl_->m};
  std::vector<alarm_status> out;
  for (const auto& [name, e] : impl_->alarms) out.push_back({e.def, e.state, e.reason, e.since_ms});
  return out;
}

std::vector<metric_point> metric_store::statistics(std::string_view ns, std::string_view name,
                                                   std::int64_t start_ms, std::int64_t end_ms,
                                                   std::int64_t period_s, statistic stat) const {
  std::vector<metric_point> out;
  if (period_s < 60 || period_s % 60 != 0 || end_ms <= start_ms) return out;
  const std::int64_t p = period_s * 1000;
  std::lock_guard lock{impl_->m};
  auto it = impl_->series.find(impl::key(ns, name));
  if (it == impl_->series.end()) return out;
  for (std::int64_t t = floor_div(start_ms, p) * p; t < end_ms; t += p) {
    if (auto agg = impl_->period(it->second, t, t + p))
      out.push_back({t, agg->get(stat), agg->count});
  }
  return out;
}

std::vector<alarm_transition> metric_store::evaluate() {
  std::vector<alarm_transition> changes;
  std::function<void(const alarm_transition&)> listener;
  {
    const std::int64_t now = impl_->time->now_ms();
    std::lock_guard lock{impl_->m};
    for (auto& [name, e] : impl_->alarms) impl_->judge(e, now, changes);
    listener = impl_->listener;
  }
  if (listener) {
    for (const auto& c : changes) listener(c);
  }
  return changes;
}

void metric_store::on_transition(std::function<void(const alarm_transition&)> listener) {
  std::lock_guard lock{impl_->m};
  impl_->listener = std::move(listener);
}

}  // namespace iotblocks::rules
