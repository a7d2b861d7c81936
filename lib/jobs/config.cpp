// Job configurations as JSON in AWS's CreateJob shapes.
#include <iotblocks/jobs/config.hpp>

#include "core/json.hpp"
#include "jobs/config_json.hpp"

#include <initializer_list>

namespace iotblocks::jobs {
namespace detail {
namespace {

constexpr std::int64_t default_maximum_per_minute = 1000;  // AWS, when not given

bool only_members(const rapidjson::Value& v, std::initializer_list<std::string_view> names,
                  std::string_view where, std::string& fault) {
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    bool known = false;
    for (auto n : names) known = known || json::view(it->name) == n;
    if (!known) {
      fault = std::string(where) + ": unknown member " + std::string(json::view(it->name));
      return false;
    }
  }
  return true;
}

/// An integer member: absent leaves `out`; present must be an integer.
bool integer(const rapidjson::Value& v, std::string_view key, std::int64_t& out,
             std::string_view where, std::string& fault) {
  const auto* m = json::find(v, key);
  if (m == nullptr || m->IsNull()) return true;
  if (!m->IsInt64()) {
    fault = std::string(where) + "." + std::string(key) + ": expected an integer";
    return false;
  }
  out = m->GetInt64();
  return true;
}

bool number(const rapidjson::Value& v, std::string_view key, double& out, std::string_view where,
            std::string& fault) {
  const auto* m = json::find(v, key);
  if (m == nullptr || m->IsNull() || !m->IsNumber()) {
    fault = std::string(where) + "." + std::string(key) + ": expected a number";
    return false;
  }
  out = m->GetDouble();
  return true;
}

bool type_of(const rapidjson::Value& v, std::string_view where, failure_type& out,
             std::string& fault) {
  const auto* m = json::find(v, "failureType");
  auto t = m != nullptr && m->IsString() ? parse_failure_type(json::view(*m)) : std::nullopt;
  if (!t) {
    fault = std::string(where) + ".failureType: expected FAILED, REJECTED, TIMED_OUT or ALL";
    return false;
  }
  out = *t;
  return true;
}

const rapidjson::Value* criteria_list(const rapidjson::Value& v, std::string_view where,
                                      std::string& fault) {
  if (!v.IsObject()) {
    fault = std::string(where) + ": expected an object";
    return nullptr;
  }
  if (!only_members(v, {"criteriaList"}, where, fault)) return nullptr;
  const auto* list = json::find(v, "criteriaList");
  if (list == nullptr || !list->IsArray()) {
    fault = std::string(where) + ".criteriaList: expected a list";
    return nullptr;
  }
  for (const auto& c : list->GetArray()) {
    if (!c.IsObject()) {
      fault = std::string(where) + ".criteriaList: expected objects";
      return nullptr;
    }
  }
  return list;
}

}  // namespace

std::string read_rollout(const rapidjson::Value& v, rollout_config& out) {
  constexpr std::string_view where = "jobExecutionsRolloutConfig";
  std::string fault;
  if (!v.IsObject()) return std::string(where) + ": expected an object";
  if (!only_members(v, {"maximumPerMinute", "exponentialRate"}, where, fault)) return fault;
  rollout_config c;
  c.maximum_per_minute = default_maximum_per_minute;
  const auto* given = json::find(v, "maximumPerMinute");
  if (!integer(v, "maximumPerMinute", c.maximum_per_minute, where, fault)) return fault;
  if (const auto* e = json::find(v, "exponentialRate"); e != nullptr && !e->IsNull()) {
    const std::string at = std::string(where) + ".exponentialRate";
    if (!e->IsObject()) return at + ": expected an object";
    if (given == nullptr || given->IsNull()) {
      return std::string(where) + ".maximumPerMinute is required with exponentialRate";
    }
    if (!only_members(*e, {"baseRatePerMinute", "incrementFactor", "rateIncreaseCriteria"}, at,
                      fault)) {
      return fault;
    }
    if (json::find(*e, "baseRatePerMinute") == nullptr) return at + ".baseRatePerMinute: required";
    if (!integer(*e, "baseRatePerMinute", c.base_rate_per_minute, at, fault) ||
        !number(*e, "incrementFactor", c.increment_factor, at, fault)) {
      return fault;
    }
    if (c.base_rate_per_minute < 1) return at + ".baseRatePerMinute must be 1-1000";
    const auto* criteria = json::find(*e, "rateIncreaseCriteria");
    const std::string cat = at + ".rateIncreaseCriteria";
    if (criteria == nullptr || !criteria->IsObject()) return cat + ": expected an object";
    if (!only_members(*criteria, {"numberOfNotifiedThings", "numberOfSucceededThings"}, cat,
                      fault) ||
        !integer(*criteria, "numberOfNotifiedThings", c.notified_things, cat, fault) ||
        !integer(*criteria, "numberOfSucceededThings", c.succeeded_things, cat, fault)) {
      return fault;
    }
  }
  if (auto bad = check_rollout(c); !bad.empty()) return bad;
  out = c;
  return {};
}

std::string read_abort(const rapidjson::Value& v, std::vector<abort_criterion>& out) {
  constexpr std::string_view where = "abortConfig";
  std::string fault;
  const auto* list = criteria_list(v, where, fault);
  if (list == nullptr) return fault;
  std::vector<abort_criterion> criteria;
  const std::string at = std::string(where) + ".criteriaList";
  for (const auto& c : list->GetArray()) {
    abort_criterion a;
    if (!only_members(c,
                      {"failureType", "action", "thresholdPercentage", "minNumberOfExecutedThings"},
                      at, fault) ||
        !type_of(c, at, a.type, fault) ||
        !number(c, "thresholdPercentage", a.threshold_percentage, at, fault)) {
      return fault;
    }
    const auto* action = json::find(c, "action");
    if (action == nullptr || !action->IsString() || json::view(*action) != "CANCEL") {
      return at + ".action: expected CANCEL";
    }
    if (json::find(c, "minNumberOfExecutedThings") == nullptr) {
      return at + ".minNumberOfExecutedThings: required";
    }
    if (!integer(c, "minNumberOfExecutedThings", a.min_executed_things, at, fault)) return fault;
    criteria.push_back(a);
  }
  if (auto bad = check_abort(criteria); !bad.empty()) return bad;
  out = std::move(criteria);
  return {};
}

std::string read_retry(const rapidjson::Value& v, std::vector<retry_criterion>& out) {
  constexpr std::string_view where = "jobExecutionsRetryConfig";
  std::string fault;
  const auto* list = criteria_list(v, where, fault);
  if (list == nullptr) return fault;
  std::vector<retry_criterion> criteria;
  const std::string at = std::string(where) + ".criteriaList";
  for (const auto& c : list->GetArray()) {
    retry_criterion r;
    if (!only_members(c, {"failureType", "numberOfRetries"}, at, fault) ||
        !type_of(c, at, r.type, fault)) {
      return fault;
    }
    if (json::find(c, "numberOfRetries") == nullptr) return at + ".numberOfRetries: required";
    if (!integer(c, "numberOfRetries", r.retries, at, fault)) return fault;
    criteria.push_back(r);
  }
  if (auto bad = check_retry(criteria); !bad.empty()) return bad;
  out = std::move(criteria);
  return {};
}

rapidjson::Value write_rollout(const rollout_config& c, alloc& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  o.AddMember("maximumPerMinute", c.maximum_per_minute, a);
  if (c.exponential()) {
    rapidjson::Value e(rapidjson::kObjectType);
    e.AddMember("baseRatePerMinute", c.base_rate_per_minute, a);
    e.AddMember("incrementFactor", c.increment_factor, a);
    rapidjson::Value criteria(rapidjson::kObjectType);
    if (c.notified_things > 0) criteria.AddMember("numberOfNotifiedThings", c.notified_things, a);
    if (c.succeeded_things > 0) {
      criteria.AddMember("numberOfSucceededThings", c.succeeded_things, a);
    }
    e.AddMember("rateIncreaseCriteria", criteria, a);
    o.AddMember("exponentialRate", e, a);
  }
  return o;
}

rapidjson::Value write_abort(const std::vector<abort_criterion>& criteria, alloc& a) {
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& c : criteria) {
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("failureType", json::string_value(to_string(c.type), a), a);
    o.AddMember("action", "CANCEL", a);
    o.AddMember("thresholdPercentage", c.threshold_percentage, a);
    o.AddMember("minNumberOfExecutedThings", c.min_executed_things, a);
    list.PushBack(o, a);
  }
  rapidjson::Value o(rapidjson::kObjectType);
  o.AddMember("criteriaList", list, a);
  return o;
}

rapidjson::Value write_retry(const std::vector<retry_criterion>& criteria, alloc& a) {
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& c : criteria) {
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("failureType", json::string_value(to_string(c.type), a), a);
    o.AddMember("numberOfRetries", c.retries, a);
    list.PushBack(o, a);
  }
  rapidjson::Value o(rapidjson::kObjectType);
  o.AddMember("criteriaList", list, a);
  return o;
}

}  // namespace detail

namespace {

template <class T>
result<T> parse_with(std::string_view text, const limits& l,
                     std::string (*read)(const rapidjson::Value&, T&)) {
  if (text.size() > l.max_request_size()) {
    return failure{error::invalid_json, "the configuration exceeds the maximum size", {}};
  }
  auto doc = json::parse(text, {.max_depth = l.max_depth()});
  if (!doc) return failure{error::invalid_json, doc.fail().message, doc.fail().where};
  T out{};
  if (auto bad = read(*doc, out); !bad.empty()) return failure{error::invalid_request, bad, {}};
  return out;
}

template <class T>
std::string text_of(const T& v, rapidjson::Value (*write)(const T&, detail::alloc&)) {
  rapidjson::Document d;
  rapidjson::Value o = write(v, d.GetAllocator());
  return json::write(o);
}

}  // namespace

std::string to_json(const job_template& t) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  d.AddMember("jobTemplateId", json::string_value(t.id, a), a);
  d.AddMember("description", json::string_value(t.description, a), a);
  d.AddMember("document", json::string_value(t.document, a), a);
  d.AddMember("createdAt", t.created_at, a);
  if (t.in_progress_timeout_minutes > 0) {
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("inProgressTimeoutInMinutes", t.in_progress_timeout_minutes, a);
    d.AddMember("timeoutConfig", o, a);
  }
  if (t.rollout.enabled()) {
    d.AddMember("jobExecutionsRolloutConfig", detail::write_rollout(t.rollout, a), a);
  }
  if (!t.abort_criteria.empty()) {
    d.AddMember("abortConfig", detail::write_abort(t.abort_criteria, a), a);
  }
  if (!t.retry_criteria.empty()) {
    d.AddMember("jobExecutionsRetryConfig", detail::write_retry(t.retry_criteria, a), a);
  }
  if (!t.maintenance_windows.empty()) {
    d.AddMember("maintenanceWindows", detail::write_windows(t.maintenance_windows, a), a);
  }
  return json::write(d);
}

result<job_template> parse_job_template(std::string_view text, const limits& l) {
  if (text.size() > l.max_request_size()) {
    return failure{error::invalid_json, "the job template exceeds the maximum size", {}};
  }
  auto doc = json::parse(text, {.max_depth = l.max_depth()});
  if (!doc) return failure{error::invalid_json, doc.fail().message, doc.fail().where};
  const auto bad = [](std::string m) { return failure{error::invalid_request, std::move(m), {}}; };
  if (!doc->IsObject()) return bad("job template: expected an object");
  job_template t;
  auto id = json::get_string(*doc, "jobTemplateId");
  auto description = json::get_string(*doc, "description");
  auto document = json::get_string(*doc, "document");
  auto created = json::get_int64(*doc, "createdAt");
  if (!id || !description || !document || !created) {
    return bad("job template: jobTemplateId, description, document and createdAt are required");
  }
  t.id = std::string(*id);
  t.description = std::string(*description);
  t.document = std::string(*document);
  t.created_at = *created;
  if (const auto* v = json::find(*doc, "timeoutConfig")) {
    auto m = v->IsObject() ? json::get_int64(*v, "inProgressTimeoutInMinutes") : std::nullopt;
    if (!m) return bad("job template: timeoutConfig.inProgressTimeoutInMinutes");
    t.in_progress_timeout_minutes = *m;
  }
  std::string fault;
  if (const auto* v = json::find(*doc, "jobExecutionsRolloutConfig")) {
    fault = detail::read_rollout(*v, t.rollout);
  }
  if (const auto* v = json::find(*doc, "abortConfig"); v && fault.empty()) {
    fault = detail::read_abort(*v, t.abort_criteria);
  }
  if (const auto* v = json::find(*doc, "jobExecutionsRetryConfig"); v && fault.empty()) {
    fault = detail::read_retry(*v, t.retry_criteria);
  }
  if (const auto* v = json::find(*doc, "maintenanceWindows"); v && fault.empty()) {
    fault = detail::read_windows(*v, t.maintenance_windows);
  }
  if (!fault.empty()) return bad(fault);
  return t;
}

result<rollout_config> parse_rollout_config(std::string_view text, const limits& l) {
  return parse_with<rollout_config>(text, l, detail::read_rollout);
}
result<std::vector<abort_criterion>> parse_abort_config(std::string_view text, const limits& l) {
  return parse_with<std::vector<abort_criterion>>(text, l, detail::read_abort);
}
result<std::vector<retry_criterion>> parse_retry_config(std::string_view text, const limits& l) {
  return parse_with<std::vector<retry_criterion>>(text, l, detail::read_retry);
}

std::string to_json(const rollout_config& c) { return text_of(c, detail::write_rollout); }
std::string to_json(const std::vector<abort_criterion>& c) {
  return text_of(c, detail::write_abort);
}
std::string to_json(const std::vector<retry_criterion>& c) {
  return text_of(c, detail::write_retry);
}

}  // namespace iotblocks::jobs
