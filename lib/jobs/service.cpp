#include <iotblocks/jobs/service.hpp>

#include "core/json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <random>
#include <thread>
#include <unordered_set>
#include <utility>

namespace iotblocks::jobs {

namespace {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::size_t max_description = 2028;  // AWS's JobDescription

void key(writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
void str(writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void field(writer& w, std::string_view k, std::string_view v) {
  key(w, k);
  str(w, v);
}
void field(writer& w, std::string_view k, std::int64_t v) {
  key(w, k);
  w.Int64(v);
}

void write_details(writer& w, const status_details& d) {
  key(w, "statusDetails");
  w.StartObject();
  for (const auto& [k, v] : d) field(w, k, v);
  w.EndObject();
}

void write_document(writer& w, std::string_view doc) {
  key(w, "jobDocument");
  w.RawValue(doc.data(), doc.size(), rapidjson::kObjectType);
}

// JobExecutionSummary.
void write_summary(writer& w, const execution& e) {
  w.StartObject();
  field(w, "jobId", e.job_id);
  field(w, "queuedAt", e.queued_at);
  if (e.started_at != 0) field(w, "startedAt", e.started_at);
  field(w, "lastUpdatedAt", e.last_updated_at);
  field(w, "versionNumber", e.version);
  field(w, "executionNumber", e.execution_number);
  w.EndObject();
}

// JobExecution; the document when `document` is given.
void write_execution(writer& w, const execution& e, std::int64_t now, const std::string* document) {
  w.StartObject();
  field(w, "jobId", e.job_id);
  field(w, "thingName", e.thing);
  field(w, "status", to_string(e.status));
  write_details(w, e.details);
  field(w, "queuedAt", e.queued_at);
  if (e.started_at != 0) field(w, "startedAt", e.started_at);
  field(w, "lastUpdatedAt", e.last_updated_at);
  field(w, "versionNumber", e.version);
  field(w, "executionNumber", e.execution_number);
  if (!is_terminal(e.status) && e.deadline() != 0) {
    field(w, "approximateSecondsBeforeTimedOut", std::max<std::int64_t>(0, e.deadline() - now));
  }
  if (document) write_document(w, *document);
  w.EndObject();
}

// JobExecutionState.
void write_state(writer& w, const execution& e) {
  key(w, "executionState");
  w.StartObject();
  field(w, "status", to_string(e.status));
  write_details(w, e.details);
  field(w, "versionNumber", e.version);
  w.EndObject();
}

void close(writer& w, std::int64_t now, std::string_view token) {
  field(w, "timestamp", now);
  if (!token.empty()) field(w, "clientToken", token);
  w.EndObject();
}

std::string text(rapidjson::StringBuffer& b) { return {b.GetString(), b.GetSize()}; }

/// An execution of `j` ended in `s`: one fewer open, one more in `s`.
void close_one(job& j, execution_status s) {
  --j.open_executions;
  ++count_of(j.ended, s);
}

/// The job of `id` in `b.jobs`, else from the store appended to it; nullptr if none.
job* job_in(batch& b, const store& st, std::string_view id) {
  auto it = std::find_if(b.jobs.begin(), b.jobs.end(), [&](const job& x) { return x.id == id; });
  if (it != b.jobs.end()) return &*it;
  auto j = st.find_job(id);
  if (!j) return nullptr;
  b.jobs.push_back(std::move(*j));
  return &b.jobs.back();
}

// How many more of `j`'s things get their execution at `now` (advancing j.progress): none
// outside its maintenance windows; with a rollout, the rollout's share; else all the rest.
std::size_t release_now(job& j, std::int64_t now) {
  if (!rollout_open(j.scheduling, now)) return 0;
  if (j.rollout.enabled()) {
    return release(j.progress, j.rollout, count_of(j.ended, execution_status::succeeded), now);
  }
  const std::size_t n = j.progress.targets - j.progress.released;
  j.progress.released = j.progress.targets;
  return n;
}

void add_thing(std::vector<std::string>& things, std::string_view thing) {
  if (std::find(things.begin(), things.end(), thing) == things.end()) things.emplace_back(thing);
}

/// What identifies a pending execution in pushes: its job and attempt.
std::string pending_key(const execution& e) {
  return e.job_id + '#' + std::to_string(e.execution_number);
}

constexpr std::string_view abort_reason = "ABORT_CRITERIA_MET";

std::string reply_topic(const jobs_topic& t, bool accepted) {
  std::string s = topic_prefix(t.thing);
  switch (t.op) {
    case operation::get_pending: s += "/get"; break;
    case operation::start_next: s += "/start-next"; break;
    case operation::describe:
      s += '/';
      s.append(t.job_id);
      s += "/get";
      break;
    case operation::update:
      s += '/';
      s.append(t.job_id);
      s += "/update";
      break;
  }
  s += accepted ? "/accepted" : "/rejected";
  return s;
}

outcome rejected(const jobs_topic& t, std::error_code ec, std::string_view msg, std::int64_t now,
                 std::string_view token, const execution* state = nullptr) {
  rapidjson::StringBuffer b;
  writer w{b};
  w.StartObject();
  field(w, "code", aws_code(ec));
  field(w, "message", msg.empty() ? std::string_view{ec.message()} : msg);
  if (state) write_state(w, *state);
  close(w, now, token);
  outcome o;
  o.error = ec;
  o.messages.push_back({reply_topic(t, false), text(b)});
  return o;
}

/// A store's failure as the service reports it: store_changed (the operation runs again),
/// anything else InternalError.
std::error_code store_failure(std::error_code ec) {
  return ec == error::store_changed ? ec : make_error_code(error::internal_error);
}

/// Attempts of one operation refused with store_changed before it gives up (InternalError).
constexpr int max_attempts = 16;

bool changed(const outcome& o) { return o.error == error::store_changed; }
template <class T>
bool changed(const result<T>& r) {
  return !r && r.error() == error::store_changed;
}

/// Runs `attempt` again, on fresh reads, while another process changed what it read.
/// Between attempts it waits a random time up to 2, 4, 8 … 50 ms: two processes that
/// keep writing one row would otherwise retry in step and collide every time.
template <class F>
auto retry_changed(F&& attempt) {
  thread_local std::minstd_rand jitter{static_cast<std::uint_fast32_t>(
      std::chrono::steady_clock::now().time_since_epoch().count() ^
      static_cast<std::int64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id())))};
  for (int i = 1;; ++i) {
    auto r = attempt();
    if (i == max_attempts || !changed(r)) return r;
    const int cap_us = std::min(1000 << std::min(i, 6), 50'000);
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, cap_us)(jitter)));
  }
}

}  // namespace

service::service(store& s, const clock& c, const jobs::limits& l)
    : store_(s), clock_(c), limits_(l), sequence_(s.last_sequence()) {}

std::uint64_t service::next_sequence() {
  if (!sequence_synced_) sequence_ = std::max(sequence_, store_.last_sequence());
  sequence_synced_ = true;
  return ++sequence_;
}

void service::begin_operation() {
  store_.begin_reads();
  sequence_synced_ = false;
}

service& service::notify_filter(std::function<bool(std::string_view)> f) {
  notify_filter_ = std::move(f);
  return *this;
}

service& service::announce_pushes(bool on) {
  announce_ = on;
  return *this;
}

result<std::vector<message>> service::take_announced() {
  return retry_changed([&]() -> result<std::vector<message>> {
    std::unique_lock lock{mutex_};
    (void)store_.refresh();
    begin_operation();
    auto owed = store_.announced();
    if (owed.empty()) return std::vector<message>{};
    const std::int64_t t = now();
    batch b;
    std::vector<message> out;
    for (auto& [thing, before] : owed) {
      push_changes(before, thing, t, out);
      b.erased_announced.push_back(std::move(thing));
    }
    std::future<std::error_code> durable;
    if (store_.groups_commits()) {
      durable = store_.commit_deferred(b);
    } else if (auto ec = store_.commit(b)) {
      return failure{store_failure(ec), ec.message(), {}};
    }
    lock.unlock();
    if (durable.valid()) {
      if (auto ec = durable.get()) return failure{store_failure(ec), ec.message(), {}};
    }
    return out;
  });
}

service::pending_view service::view_of(std::string_view thing) const {
  pending_view v;
  auto list = store_.pending(thing);
  if (!list.empty()) v.next = pending_key(list.front());
  v.ids.reserve(list.size());
  for (auto& e : list) v.ids.push_back(pending_key(e));
  std::sort(v.ids.begin(), v.ids.end());
  return v;
}

void service::push_changes(const pending_view& before, std::string_view thing, std::int64_t now,
                           std::vector<message>& out) const {
  if (notify_filter_ && !notify_filter_(thing)) return;
  build_pushes(before, thing, now, out, nullptr);
}

std::vector<message> service::pushes_since(std::string_view thing, pending_view& last) const {
  std::vector<message> out;
  std::lock_guard lock{mutex_};
  pending_view now_view;
  build_pushes(last, thing, now(), out, &now_view);
  last = std::move(now_view);
  return out;
}

void service::build_pushes(const pending_view& before, std::string_view thing, std::int64_t now,
                           std::vector<message>& out, pending_view* after) const {
  const auto list = store_.pending(thing);
  std::vector<std::string> ids;
  ids.reserve(list.size());
  for (const auto& e : list) ids.push_back(pending_key(e));
  std::sort(ids.begin(), ids.end());
  if (ids != before.ids) {
    rapidjson::StringBuffer b;
    writer w{b};
    w.StartObject();
    field(w, "timestamp", now);
    key(w, "jobs");
    w.StartObject();
    for (auto status : {execution_status::in_progress, execution_status::queued}) {
      bool open = false;
      for (const auto& e : list) {
        if (e.status != status) continue;
        if (!open) {
          key(w, to_string(status));
          w.StartArray();
          open = true;
        }
        write_summary(w, e);
      }
      if (open) w.EndArray();
    }
    w.EndObject();
    w.EndObject();
    out.push_back({topic_prefix(thing) + "/notify", text(b)});
  }
  const std::string next = list.empty() ? std::string{} : pending_key(list.front());
  if (next != before.next) {
    rapidjson::StringBuffer b;
    writer w{b};
    w.StartObject();
    field(w, "timestamp", now);
    if (!list.empty()) {
      const auto doc = store_.find_document(list.front().job_id);
      key(w, "execution");
      write_execution(w, list.front(), now, doc ? &*doc : nullptr);
    }
    w.EndObject();
    out.push_back({topic_prefix(thing) + "/notify-next", text(b)});
  }
  if (after != nullptr) *after = {std::move(ids), next};
}

// `b.jobs` holds the jobs whose counts the caller already adjusted.
void service::finish_jobs(batch& b, std::int64_t now, std::vector<std::string>& things) const {
  for (auto& j : b.jobs) {
    if (j.status == job_status::in_progress) {
      if (auto c = abort_due(j.abort_criteria, j.ended)) abort_job(b, j, *c, now, things);
    }
    if (j.open_executions == 0 && j.status == job_status::in_progress && !j.continuous &&
        (!rolls_out(j) || j.progress.done())) {
      j.status = job_status::completed;
      j.completed_at = now;
    }
    j.last_updated_at = now;
  }
}

void service::abort_job(batch& b, job& j, const abort_criterion& c, std::int64_t now,
                        std::vector<std::string>& things) const {
  j.status = job_status::canceled;
  j.completed_at = now;
  j.reason_code = abort_reason;
  j.comment = "abortConfig: " + std::string(to_string(c.type)) + " executions reached " +
              json::write(rapidjson::Value(c.threshold_percentage)) + "% of at least " +
              std::to_string(c.min_executed_things) + " executed things";
  cancel_open(b, j, false, now, things);
}

void service::cancel_open(batch& b, job& j, bool force, std::int64_t now,
                          std::vector<std::string>& things) const {
  auto cancel = [&](execution& e) {
    if (e.status != execution_status::queued &&
        !(force && e.status == execution_status::in_progress)) {
      return false;
    }
    (void)apply_service(e, execution_status::canceled, now);
    close_one(j, execution_status::canceled);
    add_thing(things, e.thing);
    return true;
  };
  // Executions this batch already changes are canceled there, the others from the store.
  std::unordered_set<std::string_view> in_batch;
  for (auto& e : b.executions) {
    if (e.job_id != j.id) continue;
    in_batch.insert(e.thing);
    cancel(e);
  }
  // Appended after the loop: `in_batch` views the things of b.executions.
  std::vector<execution> from_store;
  for (auto& e : store_.executions_of(j.id)) {
    if (in_batch.contains(e.thing)) continue;
    if (cancel(e)) from_store.push_back(std::move(e));
  }
  for (auto& e : from_store) b.executions.push_back(std::move(e));
}

execution service::after_end(const execution& e, job& j, std::int64_t now, batch& b) {
  if (j.status == job_status::in_progress &&
      e.retry_attempt < retries_allowed(j.retry_criteria, e.status)) {
    b.attempts.push_back(e);  // DescribeJobExecution still finds it by its executionNumber
    return retry(e, next_sequence(), now);
  }
  close_one(j, e.status);
  return e;
}

void service::release_rollouts(batch& b, std::int64_t now, std::vector<std::string>& things) {
  for (const auto& id : store_.rolling_out()) {
    const bool loaded =
        std::none_of(b.jobs.begin(), b.jobs.end(), [&](const job& x) { return x.id == id; });
    job* j = job_in(b, store_, id);
    if (j == nullptr || j->status != job_status::in_progress) continue;
    if (!rollout_open(j->scheduling, now)) {  // paused outside its maintenance windows
      if (loaded) b.jobs.pop_back();          // unchanged: not written
      continue;
    }
    const std::size_t from = j->progress.released;
    const std::size_t n = release_now(*j, now);
    if (n == 0) continue;
    std::unordered_set<std::string> seen;  // a thing a continuous job's add_target repeated
    for (auto& thing : store_.rollout_targets(id, from, n)) {
      if (!seen.insert(thing).second || store_.find_execution(thing, id)) continue;
      b.executions.push_back(
          queue(id, thing, next_sequence(), now, j->in_progress_timeout_minutes));
      ++j->open_executions;
      add_thing(things, thing);
    }
    j->last_updated_at = now;
  }
}

void service::run_schedules(batch& b, std::int64_t now, std::vector<std::string>& things) {
  // Only a job whose start or end is due joins the batch (else every tick would write).
  for (const auto& id : store_.schedule_due(now)) {
    job* j = job_in(b, store_, id);
    if (j == nullptr) continue;
    if (j->status == job_status::scheduled && now >= j->scheduling.start_time) {
      j->status = job_status::in_progress;
      std::size_t n = std::numeric_limits<std::int32_t>::max();  // every thing, without a rollout
      if (rolls_out(*j)) {  // with maintenance windows, none outside them
        j->progress = start_rollout(j->rollout, j->progress.targets, now);
        n = release_now(*j, now);
      }
      std::unordered_set<std::string> seen;  // a thing a continuous job's add_target repeated
      for (auto& thing : store_.rollout_targets(id, 0, n)) {
        if (!seen.insert(thing).second) continue;
        b.executions.push_back(
            queue(id, thing, next_sequence(), now, j->in_progress_timeout_minutes));
        ++j->open_executions;
        add_thing(things, thing);
      }
      j->last_updated_at = now;
    }
    if (j->status != job_status::in_progress || j->scheduling.end_time == 0 || j->schedule_ended ||
        now < j->scheduling.end_time) {
      continue;
    }
    j->schedule_ended = true;
    j->last_updated_at = now;
    const auto behavior = j->scheduling.behavior;
    if (behavior == end_behavior::cancel || behavior == end_behavior::force_cancel) {
      const bool force = behavior == end_behavior::force_cancel;
      cancel_open(b, *j, force, now, things);
      j->status = job_status::canceled;
      j->force_canceled = force;
      j->completed_at = now;
    } else if (rolls_out(*j)) {  // STOP_ROLLOUT: the things not reached get none
      j->progress.targets = j->progress.released;
    }
  }
}

result<std::vector<message>> service::commit_and_push(batch& b,
                                                      const std::vector<std::string>& things,
                                                      std::int64_t now,
                                                      std::unique_lock<std::mutex>& lock) {
  std::vector<pending_view> before;
  if (announce_) {  // the publishing process builds them (take_announced)
    for (const auto& t : things) b.announced.emplace_back(t, view_of(t));
  } else {
    before.reserve(things.size());
    for (const auto& t : things) {
      before.push_back(notify_filter_ && !notify_filter_(t) ? pending_view{} : view_of(t));
    }
  }
  std::future<std::error_code> durable;
  if (store_.groups_commits()) {
    durable = store_.commit_deferred(b);
  } else if (auto ec = store_.commit(b)) {
    return failure{store_failure(ec), ec.message(), {}};
  }
  std::vector<message> out;
  if (!announce_) {
    for (std::size_t i = 0; i < things.size(); ++i) push_changes(before[i], things[i], now, out);
  }
  lock.unlock();
  if (durable.valid()) {
    if (auto ec = durable.get()) return failure{store_failure(ec), ec.message(), {}};
  }
  return out;
}

result<std::vector<message>> service::create_job(const job_spec& spec) {
  return retry_changed([&]() -> result<std::vector<message>> {
    std::unique_lock lock{mutex_};
    begin_operation();
    const std::int64_t t = now();
    if (!valid_job_id(spec.id, limits_.max_job_id())) {
      return failure{error::invalid_request, "jobId must be 1-64 characters of [a-zA-Z0-9_-]", {}};
    }
    if (spec.document.size() > limits_.max_document_size()) {
      return failure{error::limit_exceeded, "the job document exceeds the maximum size", {}};
    }
    auto doc = json::parse(spec.document, {.max_depth = limits_.max_depth()});
    if (!doc || !doc->IsObject()) {
      return failure{error::invalid_request, "the job document must be a JSON object", {}};
    }
    if (spec.description.size() > max_description) {
      return failure{error::invalid_request, "description exceeds 2028 characters", {}};
    }
    if (!spec.document_parameters.empty() && spec.template_id.find(':') == std::string::npos) {
      return failure{error::invalid_request,
                     "documentParameters can only be used when creating jobs from AWS managed "
                     "templates",
                     {}};
    }
    if (spec.targets.empty() && !spec.continuous) {
      return failure{error::invalid_request, "targets is empty", {}};
    }
    if (spec.targets.size() > limits_.max_targets()) {
      return failure{error::limit_exceeded, "too many targets", {}};
    }
    if (spec.in_progress_timeout_minutes < 0 ||
        spec.in_progress_timeout_minutes > limits::max_timeout_minutes) {
      return failure{error::invalid_request, "inProgressTimeoutInMinutes must be 1-10080", {}};
    }
    if (spec.rollout.enabled()) {
      if (auto bad = check_rollout(spec.rollout); !bad.empty()) {
        return failure{error::invalid_request, bad, {}};
      }
    }
    if (!spec.abort_criteria.empty()) {
      if (auto bad = check_abort(spec.abort_criteria); !bad.empty()) {
        return failure{error::invalid_request, bad, {}};
      }
    }
    if (!spec.retry_criteria.empty()) {
      if (auto bad = check_retry(spec.retry_criteria); !bad.empty()) {
        return failure{error::invalid_request, bad, {}};
      }
    }
    if (spec.scheduling.enabled()) {
      if (auto bad = check_scheduling(spec.scheduling, t); !bad.empty()) {
        return failure{error::invalid_request, bad, {}};
      }
    }
    if (store_.find_job(spec.id)) return failure{error::resource_already_exists, {}, {}};
    std::vector<std::string> things;
    things.reserve(spec.targets.size());
    std::unordered_set<std::string_view> seen;
    seen.reserve(spec.targets.size());
    for (const auto& thing : spec.targets) {
      if (!valid_thing_name(thing, limits_.max_thing_name())) {
        return failure{error::invalid_request, "invalid thing name in targets", {}};
      }
      if (seen.insert(thing).second) things.push_back(thing);
    }
    batch b;
    job j;
    j.id = spec.id;
    j.document = json::write(*doc);
    j.description = spec.description;
    j.targets = spec.target_names;
    j.continuous = spec.continuous;
    j.in_progress_timeout_minutes = spec.in_progress_timeout_minutes;
    j.created_at = t;
    j.last_updated_at = t;
    j.template_id = spec.template_id;
    j.document_parameters = spec.document_parameters;
    j.abort_criteria = spec.abort_criteria;
    j.retry_criteria = spec.retry_criteria;
    j.scheduling = spec.scheduling;
    if (spec.rollout.enabled()) j.rollout = spec.rollout;
    if (spec.scheduling.start_time != 0) {  // its things wait until tick() starts it
      j.status = job_status::scheduled;
      if (rolls_out(j)) j.progress = start_rollout(spec.rollout, things.size(), t);
      b.jobs.push_back(std::move(j));
      b.rollouts.emplace_back(spec.id, std::move(things));
      return commit_and_push(b, {}, t, lock);
    }
    std::size_t now_queued = things.size();
    const bool rolling = rolls_out(j);
    if (rolling) {  // with maintenance windows and no startTime: none outside a window
      j.progress = start_rollout(spec.rollout, things.size(), t);
      now_queued = release_now(j, t);
    }
    j.open_executions = now_queued;
    b.jobs.push_back(std::move(j));
    b.executions.reserve(now_queued);
    for (std::size_t i = 0; i < now_queued; ++i) {
      b.executions.push_back(
          queue(spec.id, things[i], next_sequence(), t, spec.in_progress_timeout_minutes));
    }
    if (rolling) {
      b.rollouts.emplace_back(spec.id, things);
      things.resize(now_queued);
    }
    return commit_and_push(b, things, t, lock);  // a failed one leaves a gap in the sequence
  });
}

result<std::vector<message>> service::cancel_job(std::string_view id, bool force,
                                                 std::string_view reason_code,
                                                 std::string_view comment) {
  return retry_changed([&]() -> result<std::vector<message>> {
    std::unique_lock lock{mutex_};
    begin_operation();
    const std::int64_t t = now();
    auto j = store_.find_job(id);
    if (!j) return failure{error::resource_not_found, "no job with this id", {}};
    if (j->status == job_status::completed) {
      return failure{error::conflict, "the job is COMPLETED", {}};
    }
    if (j->status == job_status::canceled && !force) {
      return failure{error::conflict, "the job is already CANCELED", {}};
    }
    batch b;
    std::vector<std::string> things;
    for (auto& e : store_.executions_of(id)) {
      if (e.status == execution_status::queued ||
          (force && e.status == execution_status::in_progress)) {
        (void)apply_service(e, execution_status::canceled, t);
        things.push_back(e.thing);
        b.executions.push_back(std::move(e));
        close_one(*j, execution_status::canceled);
      }
    }
    if (!reason_code.empty()) j->reason_code = reason_code;
    if (!comment.empty()) j->comment = comment;
    j->status = job_status::canceled;
    j->force_canceled = j->force_canceled || force;
    j->completed_at = t;
    j->last_updated_at = t;
    b.jobs.push_back(std::move(*j));
    return commit_and_push(b, things, t, lock);
  });
}

result<std::vector<message>> service::delete_job(std::string_view id, bool force) {
  return retry_changed([&]() -> result<std::vector<message>> {
    std::unique_lock lock{mutex_};
    begin_operation();
    const std::int64_t t = now();
    auto j = store_.find_job(id);
    if (!j) return failure{error::resource_not_found, "no job with this id", {}};
    if (!force && j->status == job_status::in_progress) {
      return failure{error::conflict, "the job is IN_PROGRESS: delete with force", {}};
    }
    std::vector<std::string> things;
    for (const auto& e : store_.executions_of(id)) {
      if (!is_terminal(e.status)) things.push_back(e.thing);
    }
    batch b;
    b.erased_jobs.emplace_back(id);
    return commit_and_push(b, things, t, lock);
  });
}

result<std::vector<message>> service::cancel_execution(std::string_view job_id,
                                                       std::string_view thing, bool force,
                                                       std::optional<std::int64_t> expected_version,
                                                       const status_details* details) {
  return retry_changed([&]() -> result<std::vector<message>> {
    std::unique_lock lock{mutex_};
    begin_operation();
    const std::int64_t t = now();
    auto e = store_.find_execution(thing, job_id);
    auto j = store_.find_job(job_id);
    if (!e || !j) return failure{error::resource_not_found, "no such job execution", {}};
    if (details != nullptr) {
      if (auto bad = check_status_details(*details, limits_); !bad.empty()) {
        return failure{error::invalid_request, bad, {}};
      }
    }
    if (expected_version && *expected_version != e->version) {
      return failure{error::version_mismatch,
                     "expectedVersion " + std::to_string(*expected_version) +
                         " is not the current version " + std::to_string(e->version),
                     {}};
    }
    if (e->status == execution_status::in_progress && !force) {
      return failure{
          error::invalid_state_transition, "the execution is IN_PROGRESS: use force", {}};
    }
    if (auto ec = apply_service(*e, execution_status::canceled, t)) {
      return failure{ec, "the execution is " + std::string(to_string(e->status)), {}};
    }
    if (details != nullptr) e->details = *details;
    batch b;
    b.executions.push_back(std::move(*e));
    close_one(*j, execution_status::canceled);
    b.jobs.push_back(std::move(*j));
    std::vector<std::string> things{std::string{thing}};
    finish_jobs(b, t, things);
    return commit_and_push(b, things, t, lock);
  });
}

result<std::vector<message>> service::delete_execution(std::string_view job_id,
                                                       std::string_view thing,
                                                       std::int64_t execution_number, bool force) {
  return retry_changed([&]() -> result<std::vector<message>> {
    std::unique_lock lock{mutex_};
    begin_operation();
    const std::int64_t t = now();
    auto e = store_.find_execution(thing, job_id);
    if (!e || e->execution_number != execution_number) {
      return failure{error::resource_not_found, "no such job execution", {}};
    }
    batch b;
    b.erased_executions.emplace_back(thing, job_id);
    if (!is_terminal(e->status)) {
      if (!force) {
        return failure{error::invalid_state_transition,
                       "the execution is " + std::string(to_string(e->status)) + ": use force",
                       {}};
      }
      if (auto j = store_.find_job(job_id)) {
        --j->open_executions;
        b.jobs.push_back(std::move(*j));
      }
    }
    std::vector<std::string> things{std::string{thing}};
    finish_jobs(b, t, things);
    return commit_and_push(b, things, t, lock);
  });
}

result<std::vector<message>> service::add_target(std::string_view job_id, std::string_view thing) {
  return retry_changed([&]() -> result<std::vector<message>> {
    std::unique_lock lock{mutex_};
    begin_operation();
    const std::int64_t t = now();
    if (!valid_thing_name(thing, limits_.max_thing_name())) {
      return failure{error::invalid_request, "invalid thing name", {}};
    }
    auto j = store_.find_job(job_id);
    if (!j) return failure{error::resource_not_found, "no job with this id", {}};
    if (!j->continuous ||
        (j->status != job_status::in_progress && j->status != job_status::scheduled)) {
      return failure{error::conflict, "the job is not an IN_PROGRESS continuous job", {}};
    }
    if (store_.find_execution(thing, job_id)) return std::vector<message>{};
    batch b;
    if (rolls_out(*j) ||
        j->status == job_status::scheduled) {  // joins the rollout: released at its rate by tick()
      b.rollouts.emplace_back(j->id, std::vector<std::string>{std::string(thing)});
      ++j->progress.targets;
      j->last_updated_at = t;
      b.jobs.push_back(std::move(*j));
      return commit_and_push(b, {}, t, lock);
    }
    ++j->open_executions;
    j->last_updated_at = t;
    b.executions.push_back(
        queue(j->id, std::string(thing), next_sequence(), t, j->in_progress_timeout_minutes));
    b.jobs.push_back(std::move(*j));
    return commit_and_push(b, {std::string{thing}}, t, lock);
  });
}

result<std::vector<message>> service::remove_thing(std::string_view thing) {
  return retry_changed([&]() -> result<std::vector<message>> {
    std::unique_lock lock{mutex_};
    begin_operation();
    const std::int64_t t = now();
    batch b;
    for (auto& e : store_.pending(thing)) {
      (void)apply_service(e, execution_status::removed, t);
      if (job* j = job_in(b, store_, e.job_id)) close_one(*j, execution_status::removed);
      b.executions.push_back(std::move(e));
    }
    if (b.empty()) return std::vector<message>{};
    std::vector<std::string> things{std::string{thing}};
    finish_jobs(b, t, things);
    return commit_and_push(b, things, t, lock);
  });
}

result<std::vector<message>> service::tick(time_point now_tp) {
  return retry_changed([&]() -> result<std::vector<message>> {
    std::unique_lock lock{mutex_};
    begin_operation();
    const std::int64_t t = to_unix_ms(now_tp) / 1000;
    batch b;
    std::vector<std::string> things;
    for (auto& e : store_.due(t)) {
      if (apply_service(e, execution_status::timed_out, t)) continue;
      add_thing(things, e.thing);
      job* j = job_in(b, store_, e.job_id);
      b.executions.push_back(j != nullptr ? after_end(e, *j, t, b) : std::move(e));
    }
    run_schedules(b, t, things);
    release_rollouts(b, t, things);
    if (b.empty()) return std::vector<message>{};
    finish_jobs(b, t, things);
    return commit_and_push(b, things, t, lock);
  });
}

std::optional<job> service::describe_job(std::string_view id) const {
  std::lock_guard lock{mutex_};
  return store_.find_job(id);
}

std::optional<execution> service::describe_execution(
    std::string_view job_id, std::string_view thing,
    std::optional<std::int64_t> execution_number) const {
  std::lock_guard lock{mutex_};
  auto e = store_.find_execution(thing, job_id);
  if (!e || !execution_number || *execution_number == e->execution_number) return e;
  for (auto& a : store_.attempts(thing, job_id)) {
    if (a.execution_number == *execution_number) return std::move(a);
  }
  return std::nullopt;
}

outcome service::handle(const jobs_topic& tp, std::string_view payload) {
  return retry_changed([&]() -> outcome {
    const std::int64_t t = now();
    auto req = parse_request(tp.op, payload, limits_);
    if (!req) {
      return rejected(tp, req.error(), req.fail().message, t, client_token_of(payload, limits_));
    }
    const std::string& token = req->client_token;
    std::unique_lock lock{mutex_};
    begin_operation();
    rapidjson::StringBuffer buf;
    writer w{buf};
    outcome o;

    if (tp.op == operation::get_pending) {
      const auto list = store_.pending(tp.thing);
      w.StartObject();
      for (auto [name, status] : {std::pair{"inProgressJobs", execution_status::in_progress},
                                  std::pair{"queuedJobs", execution_status::queued}}) {
        key(w, name);
        w.StartArray();
        for (const auto& e : list) {
          if (e.status == status) write_summary(w, e);
        }
        w.EndArray();
      }
      close(w, t, token);
      o.messages.push_back({reply_topic(tp, true), text(buf)});
      return o;
    }

    if (tp.op == operation::describe) {
      std::optional<execution> e;
      if (tp.job_id == "$next") {
        auto list = store_.pending(tp.thing);
        if (!list.empty()) e = std::move(list.front());
      } else {
        e = store_.find_execution(tp.thing, tp.job_id);
        if (!e) return rejected(tp, error::resource_not_found, "job execution not found", t, token);
      }
      if (e && req->update.execution_number &&
          *req->update.execution_number != e->execution_number) {
        std::optional<execution> earlier;  // an attempt a retry ended
        for (auto& a : store_.attempts(e->thing, e->job_id)) {
          if (a.execution_number == *req->update.execution_number) earlier = std::move(a);
        }
        if (!earlier) {
          return rejected(tp, error::resource_not_found, "no execution with this executionNumber",
                          t, token);
        }
        e = std::move(earlier);
      }
      w.StartObject();
      if (e) {
        std::optional<std::string> doc;
        if (req->include_job_document) doc = store_.find_document(e->job_id);
        key(w, "execution");
        write_execution(w, *e, t, doc ? &*doc : nullptr);
      }
      close(w, t, token);
      o.messages.push_back({reply_topic(tp, true), text(buf)});
      return o;
    }

    // start-next and update change an execution.
    std::optional<execution> e;
    update_request u = req->update;
    if (tp.op == operation::start_next) {
      auto list = store_.pending(tp.thing);
      if (list.empty()) {
        w.StartObject();
        close(w, t, token);
        o.messages.push_back({reply_topic(tp, true), text(buf)});
        return o;
      }
      e = std::move(list.front());
      u.status = execution_status::in_progress;
    } else {
      e = store_.find_execution(tp.thing, tp.job_id);
      if (!e) return rejected(tp, error::resource_not_found, "job execution not found", t, token);
    }
    // Progress reports (IN_PROGRESS → IN_PROGRESS) change neither the pending list nor the
    // next execution: no pushes to compute.
    const bool progress_only = tp.op == operation::update &&
                               u.status == execution_status::in_progress &&
                               e->status == execution_status::in_progress;
    const pending_view before = progress_only ? pending_view{} : view_of(tp.thing);
    const bool was_open = !is_terminal(e->status);
    const bool changes = tp.op == operation::update || e->status == execution_status::queued;
    std::future<std::error_code> durable;
    std::vector<std::string> others;  // things whose executions an abort canceled
    std::vector<pending_view> others_before;
    if (changes) {
      if (auto ec = apply_update(*e, u, t)) {
        const bool with_state = ec == error::version_mismatch ||
                                ec == error::invalid_state_transition ||
                                ec == error::terminal_state_reached;
        return rejected(tp, ec, {}, t, token, with_state ? &*e : nullptr);
      }
      batch b;
      if (was_open && is_terminal(e->status)) {
        if (auto j = store_.find_job(e->job_id)) {
          b.executions.push_back(after_end(*e, *j, t, b));
          b.jobs.push_back(std::move(*j));
          finish_jobs(b, t, others);
          std::erase(others, std::string{tp.thing});
          for (const auto& thing : others) others_before.push_back(view_of(thing));
        } else {
          b.executions.push_back(*e);
        }
      } else {
        b.executions.push_back(*e);
      }
      if (store_.groups_commits()) {
        durable = store_.commit_deferred(b);
      } else if (auto ec = store_.commit(b)) {
        return rejected(tp, store_failure(ec), ec.message(), t, token);
      }
    }
    std::optional<std::string> doc;
    if (req->include_job_document || tp.op == operation::start_next) {
      doc = store_.find_document(e->job_id);
    }
    w.StartObject();
    if (tp.op == operation::start_next) {
      key(w, "execution");
      write_execution(w, *e, t, doc ? &*doc : nullptr);
    } else {
      if (req->include_execution_state) write_state(w, *e);
      if (req->include_job_document && doc) write_document(w, *doc);
    }
    close(w, t, token);
    o.messages.push_back({reply_topic(tp, true), text(buf)});
    if (changes && !progress_only) {
      push_changes(before, tp.thing, t, o.messages);
      for (std::size_t i = 0; i < others.size(); ++i) {
        push_changes(others_before[i], others[i], t, o.messages);
      }
    }
    lock.unlock();  // the next request may go on while this one's commit is in flight
    if (durable.valid()) {
      if (auto ec = durable.get()) return rejected(tp, store_failure(ec), ec.message(), t, token);
    }
    return o;
  });
}

std::optional<std::vector<message>> router::route(std::string_view topic,
                                                  std::string_view payload) {
  auto t = parse_topic(topic, service_.limits());
  if (!t) {
    if (t.error() == error::not_a_jobs_topic) return std::nullopt;
    rapidjson::StringBuffer b;
    writer w{b};
    w.StartObject();
    field(w, "code", aws_code(t.error()));
    field(w, "message", t.fail().message);
    close(w, service_.now(), client_token_of(payload, service_.limits()));
    std::string reply{topic};
    reply += "/rejected";
    return std::vector<message>{{std::move(reply), text(b)}};
  }
  return service_.handle(*t, payload).messages;
}

}  // namespace iotblocks::jobs
