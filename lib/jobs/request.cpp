#include <iotblocks/jobs/request.hpp>

#include "core/json.hpp"

namespace iotblocks::jobs {

namespace {

constexpr std::string_view things_prefix = "$aws/things/";

std::string_view next_segment(std::string_view& rest) {
  const auto slash = rest.find('/');
  const std::string_view seg = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  return seg;
}

failure bad(std::string message) { return failure{error::invalid_request, std::move(message), {}}; }

}  // namespace

result<jobs_topic> parse_topic(std::string_view topic, const limits& l) {
  if (!topic.starts_with(things_prefix)) return failure{error::not_a_jobs_topic, {}, {}};
  std::string_view rest = topic.substr(things_prefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return failure{error::not_a_jobs_topic, {}, {}};
  jobs_topic t;
  t.thing = rest.substr(0, slash);
  rest = rest.substr(slash + 1);
  if (!rest.starts_with("jobs/") && rest != "jobs") return failure{error::not_a_jobs_topic, {}, {}};
  rest = rest.size() > 5 ? rest.substr(5) : std::string_view{};
  // What the service publishes itself passes through.
  if (rest == "notify" || rest == "notify-next" || rest.ends_with("/accepted") ||
      rest.ends_with("/rejected")) {
    return failure{error::not_a_jobs_topic, {}, {}};
  }
  if (!valid_thing_name(t.thing, l.max_thing_name())) {
    return failure{error::invalid_topic, "invalid thing name", {}};
  }
  const std::string_view first = next_segment(rest);
  if (rest.empty() && first == "get") {
    t.op = operation::get_pending;
    return t;
  }
  if (rest.empty() && first == "start-next") {
    t.op = operation::start_next;
    return t;
  }
  const std::string_view second = next_segment(rest);
  if (!rest.empty() || (second != "get" && second != "update")) {
    return failure{error::invalid_topic, "the topic maps to no jobs API", {}};
  }
  t.job_id = first;
  t.op = second == "get" ? operation::describe : operation::update;
  const bool next = t.op == operation::describe && first == "$next";
  if (!next && !valid_job_id(first, l.max_job_id())) {
    return failure{error::invalid_topic, "invalid job id", {}};
  }
  return t;
}

std::string topic_prefix(std::string_view thing) {
  std::string s{things_prefix};
  s.append(thing);
  s.append("/jobs");
  return s;
}

result<request> parse_request(operation op, std::string_view payload, const limits& l) {
  request r;
  r.include_job_document = op == operation::describe;
  if (payload.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (op == operation::update) return bad("status is required");
    return r;
  }
  if (payload.size() > l.max_request_size()) {
    return failure{error::invalid_json, "payload exceeds the maximum size", {}};
  }
  auto doc = json::parse(payload, {.max_depth = l.max_depth()});
  if (!doc) return failure{error::invalid_json, doc.fail().message, doc.fail().where};
  const rapidjson::Value& v = *doc;
  if (!v.IsObject()) return bad("the payload must be a JSON object");

  if (const auto* t = json::find(v, "clientToken")) {
    if (!t->IsString() || t->GetStringLength() > l.max_client_token()) {
      return bad("clientToken must be a string of at most " + std::to_string(l.max_client_token()) +
                 " characters");
    }
    r.client_token.assign(t->GetString(), t->GetStringLength());
  }
  auto get_flag = [&](std::string_view key, bool& out) -> bool {
    const auto* f = json::find(v, key);
    if (!f) return true;
    if (!f->IsBool()) return false;
    out = f->GetBool();
    return true;
  };
  auto get_long = [&](std::string_view key, std::optional<std::int64_t>& out) -> bool {
    const auto* f = json::find(v, key);
    if (!f) return true;
    if (!f->IsInt64()) return false;
    out = f->GetInt64();
    return true;
  };

  if (op == operation::describe) {
    if (!get_flag("includeJobDocument", r.include_job_document)) {
      return bad("includeJobDocument must be a boolean");
    }
    if (!get_long("executionNumber", r.update.execution_number)) {
      return bad("executionNumber must be an integer");
    }
    return r;
  }
  if (op == operation::get_pending) return r;

  if (const auto* d = json::find(v, "statusDetails")) {
    if (!d->IsObject()) return bad("statusDetails must be an object of strings");
    status_details details;
    for (const auto& m : d->GetObject()) {
      if (!m.value.IsString()) return bad("statusDetails values must be strings");
      details.insert_or_assign(std::string{json::view(m.name)}, std::string{json::view(m.value)});
    }
    if (auto msg = check_status_details(details, l); !msg.empty()) return bad(std::move(msg));
    r.update.details = std::move(details);
  }
  if (!get_long("stepTimeoutInMinutes", r.update.step_timeout_minutes)) {
    return bad("stepTimeoutInMinutes must be an integer");
  }
  if (r.update.step_timeout_minutes &&
      (*r.update.step_timeout_minutes < 1 ||
       *r.update.step_timeout_minutes > limits::max_timeout_minutes)) {
    return bad("stepTimeoutInMinutes must be between 1 and 10080");
  }
  if (op == operation::start_next) return r;

  const auto* s = json::find(v, "status");
  if (!s) return bad("status is required");
  if (!s->IsString()) return bad("status must be a string");
  r.update.status = parse_execution_status(json::view(*s));
  if (!r.update.status) return bad("unknown status '" + std::string{json::view(*s)} + "'");
  if (!get_long("expectedVersion", r.update.expected_version)) {
    return bad("expectedVersion must be an integer");
  }
  if (!get_long("executionNumber", r.update.execution_number)) {
    return bad("executionNumber must be an integer");
  }
  if (!get_flag("includeJobExecutionState", r.include_execution_state)) {
    return bad("includeJobExecutionState must be a boolean");
  }
  if (!get_flag("includeJobDocument", r.include_job_document)) {
    return bad("includeJobDocument must be a boolean");
  }
  return r;
}

std::string client_token_of(std::string_view payload, const limits& l) {
  if (payload.size() > l.max_request_size()) return {};
  auto doc = json::parse(payload, {.max_depth = l.max_depth()});
  if (!doc || !doc->IsObject()) return {};
  const auto* t = json::find(*doc, "clientToken");
  if (!t || !t->IsString() || t->GetStringLength() > l.max_client_token()) return {};
  return {t->GetString(), t->GetStringLength()};
}

}  // namespace iotblocks::jobs
