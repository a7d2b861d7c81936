// schedulingConfig: times, AWS's rules and the JSON shape.
#include <iotblocks/jobs/cron.hpp>
#include <iotblocks/jobs/error.hpp>
#include <iotblocks/jobs/scheduling.hpp>

#include "core/json.hpp"
#include "jobs/config_json.hpp"

#include <chrono>
#include <cstdio>

namespace iotblocks::jobs {
namespace {

constexpr std::int64_t two_years = max_end_ahead;

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) noexcept {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

failure bad(std::string message) {
  return failure{make_error_code(error::invalid_request), std::move(message), {}};
}

}  // namespace

std::string_view to_string(end_behavior b) noexcept {
  switch (b) {
    case end_behavior::stop_rollout: return "STOP_ROLLOUT";
    case end_behavior::cancel: return "CANCEL";
    case end_behavior::force_cancel: return "FORCE_CANCEL";
    case end_behavior::none: break;
  }
  return "";
}

std::optional<end_behavior> parse_end_behavior(std::string_view s) noexcept {
  for (auto b : {end_behavior::stop_rollout, end_behavior::cancel, end_behavior::force_cancel}) {
    if (to_string(b) == s) return b;
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_date_time(std::string_view s) noexcept {
  if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() != 16 && s.size() != 19) return std::nullopt;
  if (!digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || s[10] != 'T' || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi)) {
    return std::nullopt;
  }
  if (s.size() == 19 && (s[16] != ':' || !digits(s, 17, 2, sec))) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y},
                                        std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const auto days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return static_cast<std::int64_t>(days) * 86400 + h * 3600 + mi * 60 + sec;
}

std::string format_date_time(std::int64_t seconds) {
  const auto days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  const std::int64_t rest = seconds - days * 86400;
  const std::chrono::year_month_day ymd{
      std::chrono::sys_days{std::chrono::days{static_cast<int>(days)}}};
  char buf[32];
  const int h = static_cast<int>(rest / 3600), mi = static_cast<int>(rest / 60 % 60),
            sec = static_cast<int>(rest % 60);
  int n =
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), h, mi);
  if (sec != 0) n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ":%02d", sec);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string check_scheduling(const scheduling_config& c, std::int64_t now) {
  if (c.maintenance_windows.size() > max_maintenance_windows) {
    return "schedulingConfig.maintenanceWindows: at most " +
           std::to_string(max_maintenance_windows) + " windows";
  }
  for (std::size_t i = 0; i < c.maintenance_windows.size(); ++i) {
    const auto& w = c.maintenance_windows[i];
    const auto at = "schedulingConfig.maintenanceWindows[" + std::to_string(i) + "]";
    if (auto cron = parse_cron(w.start_time); !cron) {
      return at + ".startTime: " + std::string(cron.fail().message.view()) + " (character " +
             std::to_string(cron.fail().where.offset + 1) + ")";
    }
    if (w.duration_minutes < 1 || w.duration_minutes > max_window_minutes) {
      return at + ".durationInMinutes: expected 1-1430";
    }
  }
  if (c.start_time != 0) {
    if (c.start_time < now + min_schedule_lead) {
      return "schedulingConfig.startTime must be at least 30 minutes from the current time";
    }
    if (c.start_time > now + max_start_ahead) {
      return "schedulingConfig.startTime can be scheduled at most a year in advance";
    }
  }
  if (c.end_time != 0) {
    if (c.end_time < now + min_schedule_lead) {
      return "schedulingConfig.endTime must be at least 30 minutes from the current time";
    }
    if (c.end_time > now + max_end_ahead) {
      return "schedulingConfig.endTime must be no later than two years from the current time";
    }
    const std::int64_t from = c.start_time != 0 ? c.start_time : now;
    if (c.end_time - from < min_schedule_span) {
      return "schedulingConfig: the duration between startTime and endTime must be at least "
             "30 minutes";
    }
    if (c.end_time - from > two_years) {
      return "schedulingConfig: the duration between startTime and endTime must be at most "
             "two years";
    }
  }
  return {};
}

result<scheduling_config> parse_scheduling_config(std::string_view text) {
  auto d = json::parse(text);
  if (!d) return d.fail();
  if (!d->IsObject()) return bad("schedulingConfig: expected an object");
  scheduling_config c;
  for (auto it = d->MemberBegin(); it != d->MemberEnd(); ++it) {
    const auto name = json::view(it->name);
    const auto& v = it->value;
    if (v.IsNull()) continue;
    if (name == "maintenanceWindows") {
      auto e =
          detail::read_windows(v, c.maintenance_windows, "schedulingConfig.maintenanceWindows");
      if (!e.empty()) return bad(std::move(e));
      continue;
    }
    if (name != "startTime" && name != "endTime" && name != "endBehavior") {
      return bad("schedulingConfig: unknown member " + std::string(name));
    }
    if (!v.IsString()) return bad("schedulingConfig." + std::string(name) + ": expected a string");
    const auto s = json::view(v);
    if (name == "endBehavior") {
      auto b = parse_end_behavior(s);
      if (!b) {
        return bad("schedulingConfig.endBehavior: expected STOP_ROLLOUT, CANCEL or FORCE_CANCEL");
      }
      c.behavior = *b;
      continue;
    }
    auto t = parse_date_time(s);
    if (!t || *t <= 0) {
      return bad("schedulingConfig." + std::string(name) +
                 ": expected YYYY-MM-DDTHH:MM (UTC), got " + std::string(s.substr(0, 64)));
    }
    (name == "startTime" ? c.start_time : c.end_time) = *t;
  }
  return c;
}

std::string to_json(const scheduling_config& c) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (c.start_time != 0) {
    d.AddMember("startTime", json::string_value(format_date_time(c.start_time), a), a);
  }
  if (c.end_time != 0) {
    d.AddMember("endTime", json::string_value(format_date_time(c.end_time), a), a);
  }
  if (c.behavior != end_behavior::none) {
    d.AddMember("endBehavior", json::string_value(to_string(c.behavior), a), a);
  }
  if (!c.maintenance_windows.empty()) {
    d.AddMember("maintenanceWindows", detail::write_windows(c.maintenance_windows, a), a);
  }
  return json::write(d);
}

}  // namespace iotblocks::jobs
