// AWS's cron expressions (the EventBridge form a maintenance window's startTime takes):
// `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, in UTC. Parsed once into bit
// sets; next_match finds the first minute at or after a time that the expression names,
// searching a bounded span of days.
//
//   auto c = iotblocks::jobs::parse_cron("cron(0 22 ? * MON-FRI *)");  // 22:00 on weekdays
//   auto at = iotblocks::jobs::next_match(*c, now);                     // nullopt: none ahead
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::jobs {

/// A parsed expression. Day-of-week counts 1 (SUN) to 7 (SAT), as AWS's does.
/// Distinct objects: safe. Shared objects: safe to read.
struct cron_expression {
  std::uint64_t minutes = 0;           ///< bit m: minute m (0..59)
  std::uint32_t hours = 0;             ///< bit h: hour h (0..23)
  std::uint32_t days = 0;              ///< bit d: day of month d (1..31)
  bool last_day = false;               ///< `L` in day-of-month: the month's last day
  std::uint8_t nearest_weekday = 0;    ///< `nW`: the weekday (MON-FRI) nearest day n (1..31)
  bool last_weekday_of_month = false;  ///< `LW`: the month's last weekday (MON-FRI)
  bool any_day = false;                ///< `?` in day-of-month: day-of-week decides
  std::uint16_t months = 0;            ///< bit m: month m (1..12)
  std::uint8_t weekdays = 0;           ///< bit d: weekday d (1..7)
  std::uint8_t last_weekdays = 0;      ///< `dL`: bit d, the month's last weekday d
  std::array<std::uint8_t, 8> nth{};   ///< `d#n`: bit n of nth[d], the n-th weekday d (1..5)
  bool any_weekday = false;            ///< `?` in day-of-week: day-of-month decides
  std::bitset<230> years;              ///< bit y - 1970: year y (1970..2199)
  friend bool operator==(const cron_expression&, const cron_expression&) = default;
};

/// How far next_match looks ahead: 1827 days (five years, one leap day).
inline constexpr std::int64_t cron_search_days = 1827;

/// Parses `cron(…)` (or the six fields without the wrapper). Each field takes `*`, values,
/// `a-b` ranges and `,` lists, with `/step` after `*`, a value or a range; months also
/// JAN..DEC, weekdays SUN..SAT. Day-of-month takes `L`, and alone `nW` (the weekday nearest
/// day n within its month: a Saturday moves to Friday, a Sunday to Monday, never across the
/// month's ends; no match in a month without day n) and `LW` (the last weekday); day-of-week
/// `L` (SAT), `dL` and `d#n`; exactly one of the two is `?`. Errors:
/// invalid_request with a message naming the field and the position of the fault in `text`.
result<cron_expression> parse_cron(std::string_view text);

/// The first whole minute at or after `t` (seconds since the epoch, UTC) that `c` names,
/// looking at most cron_search_days ahead; nullopt when there is none in that span.
std::optional<std::int64_t> next_match(const cron_expression& c, std::int64_t t);

}  // namespace iotblocks::jobs

IOTBLOCKS_API_END
