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

IOTBLOCKS_API_BEGIN

namespace iotblocks::jobs {

/// AWS's JobEndBehavior; `none`: not given (the rollout stops, as STOP_ROLLOUT).
enum class end_behavior { none, stop_rollout, cancel, force_cancel };
std::string_view to_string(end_behavior b) noexcept;  ///< "STOP_ROLLOUT", …; "" for none
std::optional<end_behavior> parse_end_behavior(std::string_view s) noexcept;

/// schedulingConfig. Times are seconds since the epoch (UTC), 0 when not given.
struct scheduling_config {
  std::int64_t start_time = 0;
  std::int64_t end_time = 0;
  end_behavior behavior = end_behavior::none;
  bool enabled() const noexcept { return start_time != 0 || end_time != 0; }
  friend bool operator==(const scheduling_config&, const scheduling_config&) = default;
};

/// AWS's ranges, in seconds.
inline constexpr std::int64_t min_schedule_lead = 30 * 60;          ///< ≥ 30 min from now
inline constexpr std::int64_t max_start_ahead = 365 * 24 * 3600;    ///< startTime ≤ 1 year ahead
inline constexpr std::int64_t max_end_ahead = 2 * 365 * 24 * 3600;  ///< endTime ≤ 2 years ahead
inline constexpr std::int64_t min_schedule_span = 30 * 60;          ///< endTime - startTime

/// "YYYY-MM-DDTHH:MM" (AWS's StringDateTime; ":SS" and a trailing "Z" allowed), UTC, to
/// seconds since the epoch; nullopt when it is not a valid date and time.
std::optional<std::int64_t> parse_date_time(std::string_view s) noexcept;
/// "YYYY-MM-DDTHH:MM" (with ":SS" when the seconds are not 0).
std::string format_date_time(std::int64_t seconds);

/// Checks `c` against AWS's rules at `now`: startTime 30 min to 1 year ahead, endTime 30 min
/// to 2 years ahead and 30 min to 2 years after startTime; returns a message naming the
/// fault, or an empty string.
std::string check_scheduling(const scheduling_config& c, std::int64_t now);

/// schedulingConfig's JSON ({startTime, endTime, endBehavior}). Errors: invalid_json,
/// invalid_request naming the member (wrong type, a time that does not parse, an unknown
/// endBehavior or member; maintenanceWindows is not supported and refused).
result<scheduling_config> parse_scheduling_config(std::string_view json);
std::string to_json(const scheduling_config& c);

}  // namespace iotblocks::jobs

IOTBLOCKS_API_END
