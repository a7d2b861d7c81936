#include <iotblocks/jobs/model.hpp>

#include <algorithm>
#include <utility>

namespace iotblocks::jobs {

std::string_view to_string(job_status s) noexcept {
  switch (s) {
    case job_status::in_progress: return "IN_PROGRESS";
    case job_status::canceled: return "CANCELED";
    case job_status::completed: return "COMPLETED";
    case job_status::deletion_in_progress: return "DELETION_IN_PROGRESS";
    case job_status::scheduled: return "SCHEDULED";
  }
  return "IN_PROGRESS";
}

std::string_view to_string(execution_status s) noexcept {
  switch (s) {
    case execution_status::queued: return "QUEUED";
    case execution_status::in_progress: return "IN_PROGRESS";
    case execution_status::succeeded: return "SUCCEEDED";
    case execution_status::failed: return "FAILED";
    case execution_status::timed_out: return "TIMED_OUT";
    case execution_status::rejected: return "REJECTED";
    case execution_status::removed: return "REMOVED";
    case execution_status::canceled: return "CANCELED";
  }
  return "QUEUED";
}

std::optional<execution_status> parse_execution_status(std::string_view s) noexcept {
  for (auto v : all_execution_statuses) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

std::optional<job_status> parse_job_status(std::string_view s) noexcept {
  for (auto v : {job_status::in_progress, job_status::canceled, job_status::completed,
                 job_status::deletion_in_progress, job_status::scheduled}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

bool is_terminal(execution_status s) noexcept {
  return s != execution_status::queued && s != execution_status::in_progress;
}

bool transition_allowed(execution_status from, execution_status to, actor who) noexcept {
  using enum execution_status;
  if (is_terminal(from)) return false;
  if (who == actor::device) {
    return to == in_progress || to == succeeded || to == failed || to == rejected;
  }
  switch (to) {
    case canceled:
    case removed: return true;
    case timed_out: return from == in_progress;
    default: return false;
  }
}

namespace {

bool name_char(char c, bool colon) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || (colon && c == ':');
}

bool valid_name(std::string_view s, std::size_t max, bool colon) noexcept {
  return !s.empty() && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [colon](char c) { return name_char(c, colon); });
}

// Code points in well-formed UTF-8 `s`; false when one is a control character (Cc).
bool count_printable(std::string_view s, std::size_t& n) noexcept {
  n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) == 0x80) continue;
    ++n;
    if (b < 0x20 || b == 0x7F) return false;
    if (b == 0xC2 && i + 1 < s.size()) {
      const auto c = static_cast<unsigned char>(s[i + 1]);
      if (c >= 0x80 && c <= 0x9F) return false;  // C1 controls U+0080..U+009F
    }
  }
  return true;
}

}  // namespace

bool valid_thing_name(std::string_view name, std::size_t max) noexcept {
  return valid_name(name, max, true);
}

bool valid_job_id(std::string_view id, std::size_t max) noexcept {
  return valid_name(id, max, false);
}

std::string check_status_details(const status_details& d, const limits& l) {
  if (d.size() > l.max_status_details()) {
    return "statusDetails has more than " + std::to_string(l.max_status_details()) + " entries";
  }
  for (const auto& [key, value] : d) {
    if (!valid_name(key, limits::max_detail_key, true)) {
      return "statusDetails key must be 1-128 characters of [a-zA-Z0-9:_-]";
    }
    std::size_t n = 0;
    if (!count_printable(value, n) || n == 0 || n > limits::max_detail_value) {
      return "statusDetails value of '" + key +
             "' must be 1-1024 characters without control characters";
    }
  }
  return {};
}

std::int64_t execution::deadline() const noexcept {
  if (in_progress_deadline == 0) return step_deadline;
  if (step_deadline == 0) return in_progress_deadline;
  return std::min(in_progress_deadline, step_deadline);
}

execution queue(std::string job_id, std::string thing, std::uint64_t sequence, std::int64_t now,
                std::int64_t in_progress_timeout_minutes) {
  execution e;
  e.job_id = std::move(job_id);
  e.thing = std::move(thing);
  e.sequence = sequence;
  e.queued_at = now;
  e.last_updated_at = now;
  e.in_progress_timeout_minutes = in_progress_timeout_minutes;
  return e;
}

std::error_code apply_update(execution& e, const update_request& u, std::int64_t now) {
  if (!u.status) return error::invalid_request;
  if (u.step_timeout_minutes &&
      (*u.step_timeout_minutes < 1 || *u.step_timeout_minutes > limits::max_timeout_minutes)) {
    return error::invalid_request;
  }
  if (u.execution_number && *u.execution_number != e.execution_number) {
    return error::resource_not_found;
  }
  if (u.expected_version && *u.expected_version != e.version) return error::version_mismatch;
  if (e.status == execution_status::canceled || e.status == execution_status::removed ||
      e.status == execution_status::timed_out) {
    return error::terminal_state_reached;  // the service ended it under the device
  }
  if (!transition_allowed(e.status, *u.status, actor::device)) {
    return error::invalid_state_transition;
  }
  const bool starting = e.status == execution_status::queued;
  e.status = *u.status;
  if (u.details) e.details = *u.details;
  ++e.version;
  e.last_updated_at = now;
  if (is_terminal(e.status)) {
    e.in_progress_deadline = 0;
    e.step_deadline = 0;
    return {};
  }
  if (starting) {
    e.started_at = now;
    if (e.in_progress_timeout_minutes > 0) {
      e.in_progress_deadline = now + e.in_progress_timeout_minutes * 60;
    }
  }
  if (u.step_timeout_minutes) e.step_deadline = now + *u.step_timeout_minutes * 60;
  return {};
}

std::error_code apply_service(execution& e, execution_status to, std::int64_t now) {
  if (!transition_allowed(e.status, to, actor::service)) return error::invalid_state_transition;
  e.status = to;
  e.last_updated_at = now;
  e.in_progress_deadline = 0;
  e.step_deadline = 0;
  return {};
}

std::int64_t schedule_at(const job& j) noexcept {
  if (j.status == job_status::scheduled) return std::max<std::int64_t>(j.scheduling.start_time, 1);
  if (j.status == job_status::in_progress && j.scheduling.end_time != 0 && !j.schedule_ended) {
    return j.scheduling.end_time;
  }
  return 0;
}

}  // namespace iotblocks::jobs
