// schedulingConfig.maintenanceWindows: their JSON, and when a rollout may release.
#include <iotblocks/jobs/cron.hpp>
#include <iotblocks/jobs/error.hpp>
#include <iotblocks/jobs/scheduling.hpp>

#include "core/json.hpp"
#include "jobs/config_json.hpp"

#include <algorithm>

namespace iotblocks::jobs {
namespace detail {

std::string read_windows(const rapidjson::Value& v, std::vector<maintenance_window>& out,
                         std::string_view where) {
  const std::string name(where);
  if (!v.IsArray()) return name + ": expected an array";
  if (v.Size() > max_maintenance_windows) {
    return name + ": at most " + std::to_string(max_maintenance_windows) + " windows";
  }
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const auto at = name + "[" + std::to_string(i) + "]";
    const auto& w = v[i];
    if (!w.IsObject()) return at + ": expected an object";
    for (auto it = w.MemberBegin(); it != w.MemberEnd(); ++it) {
      const auto m = json::view(it->name);
      if (m != "startTime" && m != "durationInMinutes") {
        return at + ": unknown member " + std::string(m);
      }
    }
    auto start = json::get_string(w, "startTime");
    if (!start) return at + ".startTime: required, a cron expression";
    auto cron = parse_cron(*start);
    if (!cron) {
      return at + ".startTime: " + std::string(cron.fail().message.view()) + " (character " +
             std::to_string(cron.fail().where.offset + 1) + ")";
    }
    const auto* d = json::find(w, "durationInMinutes");
    if (d == nullptr || !d->IsInt64() || d->GetInt64() < 1 || d->GetInt64() > max_window_minutes) {
      return at + ".durationInMinutes: required, an integer 1-1430";
    }
    out.push_back({std::string(*start), d->GetInt64()});
  }
  return {};
}

rapidjson::Value write_windows(const std::vector<maintenance_window>& windows, alloc& a) {
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& w : windows) {
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("startTime", json::string_value(w.start_time, a), a);
    o.AddMember("durationInMinutes", w.duration_minutes, a);
    list.PushBack(o, a);
  }
  return list;
}

}  // namespace detail

result<std::vector<maintenance_window>> parse_maintenance_windows(std::string_view text) {
  auto d = json::parse(text);
  if (!d) return d.fail();
  std::vector<maintenance_window> out;
  if (auto bad = detail::read_windows(*d, out); !bad.empty()) {
    return failure{make_error_code(error::invalid_request), std::move(bad), {}};
  }
  return out;
}

bool rollout_open(const scheduling_config& c, std::int64_t t) {
  if (c.start_time != 0 && t < c.start_time) return false;
  if (c.maintenance_windows.empty()) return true;
  for (const auto& w : c.maintenance_windows) {
    auto cron = parse_cron(w.start_time);
    if (!cron) continue;
    // Open at t when a window started in (t - duration, t].
    auto s = next_match(*cron, t - w.duration_minutes * 60 + 1);
    if (s && *s <= t) return true;
  }
  return false;
}

std::optional<std::int64_t> next_window_start(const scheduling_config& c, std::int64_t t) {
  t = std::max(t, c.start_time);
  std::optional<std::int64_t> best;
  for (const auto& w : c.maintenance_windows) {
    auto cron = parse_cron(w.start_time);
    auto s = cron ? next_match(*cron, t) : std::nullopt;
    if (s && (!best || *s < *best)) best = s;
  }
  return best;
}

std::vector<std::int64_t> next_window_starts(const scheduling_config& c, std::int64_t t,
                                             std::size_t n) {
  std::vector<std::int64_t> out;
  while (out.size() < n) {
    auto s = next_window_start(c, t);
    if (!s) break;
    out.push_back(*s);
    t = *s + 60;
  }
  return out;
}

}  // namespace iotblocks::jobs
