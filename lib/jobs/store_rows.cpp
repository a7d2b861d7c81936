#include "jobs/store_rows.hpp"

#include "core/json.hpp"
#include "jobs/config_json.hpp"

namespace iotblocks::jobs::detail {

std::string details_json(const status_details& d) {
  rapidjson::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  for (const auto& [k, v] : d) doc.AddMember(json::string_value(k, a), json::string_value(v, a), a);
  return json::write(doc);
}

std::string targets_json(const std::vector<std::string>& targets) {
  rapidjson::Document doc;
  doc.SetArray();
  auto& a = doc.GetAllocator();
  for (const auto& t : targets) doc.PushBack(json::string_value(t, a), a);
  return json::write(doc);
}

// The job's rollout, abort and retry configurations, rollout progress, ended counts and
// cancel reason, as one JSON object (the configurations in CreateJob's shapes).
std::string config_json(const job& j) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (j.rollout.enabled()) d.AddMember("rollout", write_rollout(j.rollout, a), a);
  if (rolls_out(j)) {
    const auto& p = j.progress;
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("targets", static_cast<std::uint64_t>(p.targets), a);
    o.AddMember("released", static_cast<std::uint64_t>(p.released), a);
    o.AddMember("rate", p.rate, a);
    o.AddMember("windowStart", p.window_start, a);
    o.AddMember("windowReleased", static_cast<std::uint64_t>(p.window_released), a);
    o.AddMember("notifiedMark", static_cast<std::uint64_t>(p.notified_mark), a);
    o.AddMember("succeededMark", static_cast<std::uint64_t>(p.succeeded_mark), a);
    d.AddMember("progress", o, a);
  }
  if (!j.abort_criteria.empty()) d.AddMember("abort", write_abort(j.abort_criteria, a), a);
  if (!j.retry_criteria.empty()) d.AddMember("retry", write_retry(j.retry_criteria, a), a);
  rapidjson::Value ended(rapidjson::kArrayType);
  for (auto n : j.ended) ended.PushBack(static_cast<std::uint64_t>(n), a);
  d.AddMember("ended", ended, a);
  if (!j.reason_code.empty()) d.AddMember("reasonCode", json::string_value(j.reason_code, a), a);
  if (!j.comment.empty()) d.AddMember("comment", json::string_value(j.comment, a), a);
  if (!j.template_id.empty()) d.AddMember("template", json::string_value(j.template_id, a), a);
  if (j.scheduling.enabled()) {
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("startTime", j.scheduling.start_time, a);
    o.AddMember("endTime", j.scheduling.end_time, a);
    o.AddMember("endBehavior", json::string_value(to_string(j.scheduling.behavior), a), a);
    o.AddMember("ended", j.schedule_ended, a);
    if (!j.scheduling.maintenance_windows.empty()) {
      o.AddMember("maintenanceWindows", write_windows(j.scheduling.maintenance_windows, a), a);
    }
    d.AddMember("scheduling", o, a);
  }
  if (!j.document_parameters.empty()) {
    rapidjson::Value o(rapidjson::kObjectType);
    for (const auto& [k, v] : j.document_parameters) {
      o.AddMember(json::string_value(k, a), json::string_value(v, a), a);
    }
    d.AddMember("documentParameters", o, a);
  }
  return json::write(d);
}

std::string read_config(std::string_view text, job& j) {
  auto d = json::parse(text);
  if (!d || !d->IsObject()) return "config is not a JSON object";
  std::string bad;
  if (const auto* r = json::find(*d, "rollout")) {
    if (bad = read_rollout(*r, j.rollout); !bad.empty()) return bad;
    if (json::find(*d, "progress") == nullptr) return "config: rollout without progress";
  }
  if (const auto* p = json::find(*d, "progress")) {
    if (!p->IsObject()) return "config: bad rollout progress";
    auto size = [&](std::string_view k, std::size_t& out) {
      const auto* v = json::find(*p, k);
      if (v == nullptr || !v->IsUint64()) return false;
      out = static_cast<std::size_t>(v->GetUint64());
      return true;
    };
    const auto* rate = json::find(*p, "rate");
    const auto* start = json::find(*p, "windowStart");
    auto& g = j.progress;
    if (!size("targets", g.targets) || !size("released", g.released) ||
        !size("windowReleased", g.window_released) || !size("notifiedMark", g.notified_mark) ||
        !size("succeededMark", g.succeeded_mark) || rate == nullptr || !rate->IsNumber() ||
        start == nullptr || !start->IsInt64() || g.released > g.targets) {
      return "config: bad rollout progress";
    }
    g.rate = rate->GetDouble();
    g.window_start = start->GetInt64();
  }
  if (const auto* v = json::find(*d, "abort")) {
    if (bad = read_abort(*v, j.abort_criteria); !bad.empty()) return bad;
  }
  if (const auto* v = json::find(*d, "retry")) {
    if (bad = read_retry(*v, j.retry_criteria); !bad.empty()) return bad;
  }
  if (const auto* v = json::find(*d, "ended")) {
    if (!v->IsArray() || v->Size() != j.ended.size()) return "config: bad ended counts";
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
      if (!(*v)[i].IsUint64()) return "config: bad ended counts";
      j.ended[i] = static_cast<std::size_t>((*v)[i].GetUint64());
    }
  }
  if (auto v = json::get_string(*d, "reasonCode")) j.reason_code = std::string(*v);
  if (auto v = json::get_string(*d, "comment")) j.comment = std::string(*v);
  if (auto v = json::get_string(*d, "template")) j.template_id = std::string(*v);
  if (const auto* v = json::find(*d, "scheduling")) {
    auto start = v->IsObject() ? json::get_int64(*v, "startTime") : std::nullopt;
    auto end = v->IsObject() ? json::get_int64(*v, "endTime") : std::nullopt;
    auto behavior = v->IsObject() ? json::get_string(*v, "endBehavior") : std::nullopt;
    auto ended = v->IsObject() ? json::get_bool(*v, "ended") : std::nullopt;
    if (!start || !end || !behavior || !ended) return "config: bad scheduling";
    j.scheduling.start_time = *start;
    j.scheduling.end_time = *end;
    if (!behavior->empty()) {
      auto b = parse_end_behavior(*behavior);
      if (!b) return "config: bad scheduling endBehavior";
      j.scheduling.behavior = *b;
    }
    j.schedule_ended = *ended;
    if (const auto* w = json::find(*v, "maintenanceWindows")) {
      if (bad = read_windows(*w, j.scheduling.maintenance_windows); !bad.empty()) return bad;
    }
  }
  if (const auto* v = json::find(*d, "documentParameters")) {
    if (!v->IsObject()) return "config: bad documentParameters";
    for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
      if (!it->value.IsString()) return "config: bad documentParameters";
      j.document_parameters.emplace(json::view(it->name), json::view(it->value));
    }
  }
  return {};
}

bool read_details(std::string_view text, status_details& out) {
  auto d = json::parse(text);
  if (!d || !d->IsObject()) return false;
  for (auto it = d->MemberBegin(); it != d->MemberEnd(); ++it) {
    if (!it->value.IsString()) return false;
    out.emplace(std::string(json::view(it->name)), std::string(json::view(it->value)));
  }
  return true;
}

bool read_targets(std::string_view text, std::vector<std::string>& out) {
  auto d = json::parse(text);
  if (!d || !d->IsArray()) return false;
  for (const auto& t : d->GetArray()) {
    if (!t.IsString()) return false;
    out.emplace_back(json::view(t));
  }
  return true;
}

}  // namespace iotblocks::jobs::detail
