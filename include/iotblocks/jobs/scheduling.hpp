// CreateJob's schedulingConfig: a job SCHEDULED until its startTime, and what happens at its
// endTime (endBehavior). Values, AWS's rules and the JSON shape; the service starts and ends
// scheduled jobs in tick(now).
//
//   auto c = iotblocks::jobs::parse_scheduling_config(
//       R"({"startTime":"2026-12-08T09:00","endTime":"2026-12-08T12:00","endBehavior":"CANCEL"})");
//   iotblocks::jobs::check_scheduling(*c, now);   // "" when AWS would accept it at `now`
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::jobs {

/// AWS's JobEndBehavior; `none`: not given (the rollout stops, as STOP_ROLLOUT).
enum class end_behavior { none, stop_rollout, cancel, force_cancel };
std::string_view to_string(end_behavior b) noexcept;  ///< "STOP_ROLLOUT", …; "" for none
std::optional<end_behavior> parse_end_behavior(std::string_view s) noexcept;

/// One of schedulingConfig.maintenanceWindows: a window opens at each minute the cron
/// expression names (UTC, jobs/cron.hpp) and stays open duration_minutes.
struct maintenance_window {
  std::string start_time;             ///< AWS's CronExpression, `cron(0 22 ? * MON-FRI *)`
  std::int64_t duration_minutes = 0;  ///< 1..1430
  friend bool operator==(const maintenance_window&, const maintenance_window&) = default;
};

/// schedulingConfig. Times are seconds since the epoch (UTC), 0 when not given.
struct scheduling_config {
  std::int64_t start_time = 0;
  std::int64_t end_time = 0;
  end_behavior behavior = end_behavior::none;
  /// With windows, the rollout releases executions only while one is open.
  std::vector<maintenance_window> maintenance_windows = {};
  bool enabled() const noexcept {
    return start_time != 0 || end_time != 0 || !maintenance_windows.empty();
  }
  friend bool operator==(const scheduling_config&, const scheduling_config&) = default;
};

/// AWS's ranges, in seconds.
inline constexpr std::int64_t min_schedule_lead = 30 * 60;          ///< ≥ 30 min from now
inline constexpr std::int64_t max_start_ahead = 365 * 24 * 3600;    ///< startTime ≤ 1 year ahead
inline constexpr std::int64_t max_end_ahead = 2 * 365 * 24 * 3600;  ///< endTime ≤ 2 years ahead
inline constexpr std::int64_t min_schedule_span = 30 * 60;          ///< endTime - startTime
inline constexpr std::int64_t max_window_minutes = 1430;            ///< durationInMinutes (AWS)
/// This library's limit (AWS documents none): each tick checks every window of a job.
inline constexpr std::size_t max_maintenance_windows = 10;

/// "YYYY-MM-DDTHH:MM" (AWS's StringDateTime; ":SS" and a trailing "Z" allowed), UTC, to
/// seconds since the epoch; nullopt when it is not a valid date and time.
std::optional<std::int64_t> parse_date_time(std::string_view s) noexcept;
/// "YYYY-MM-DDTHH:MM" (with ":SS" when the seconds are not 0).
std::string format_date_time(std::int64_t seconds);

/// Checks `c` against AWS's rules at `now`: startTime 30 min to 1 year ahead, endTime 30 min
/// to 2 years ahead and 30 min to 2 years after startTime; returns a message naming the
/// fault, or an empty string.
std::string check_scheduling(const scheduling_config& c, std::int64_t now);

/// schedulingConfig's JSON ({startTime, endTime, endBehavior, maintenanceWindows}). Errors:
/// invalid_json, invalid_request naming the member (wrong type, a time that does not parse,
/// an unknown endBehavior or member, a window's cron expression with the fault's character
/// or its duration out of 1..1430, more than max_maintenance_windows windows).
result<scheduling_config> parse_scheduling_config(std::string_view json);
std::string to_json(const scheduling_config& c);
/// maintenanceWindows alone (CreateJobTemplate's member): a JSON array; errors as above.
result<std::vector<maintenance_window>> parse_maintenance_windows(std::string_view json);

/// Whether a rollout may release executions at `t`: at or after startTime (when given) and,
/// with maintenance windows, inside one (a window that opened at s is open for
/// s <= t < s + duration). Windows whose expression does not parse never open.
bool rollout_open(const scheduling_config& c, std::int64_t t);
/// The first time at or after `t` (and startTime) when a window opens; nullopt without
/// windows or when none opens within cron_search_days.
std::optional<std::int64_t> next_window_start(const scheduling_config& c, std::int64_t t);
/// Up to `n` window starts at or after `t`, in order (DescribeJob's scheduledJobRollouts: 7).
std::vector<std::int64_t> next_window_starts(const scheduling_config& c, std::int64_t t,
                                             std::size_t n = 7);

}  // namespace iotblocks::jobs

IOTBLOCKS_API_END
