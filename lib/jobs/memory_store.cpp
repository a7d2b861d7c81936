#include <iotblocks/jobs/store.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace iotblocks::jobs {

namespace {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

}  // namespace

struct memory_store::impl {
  mutable std::mutex mutex;
  std::map<std::string, job, std::less<>> jobs;
  // thing → its executions (few per thing), and job → its things.
  string_map<std::vector<execution>> by_thing;
  string_map<std::vector<std::string>> things_of_job;
  std::set<std::tuple<std::int64_t, std::string, std::string>> deadlines;  // (when, thing, job)
  string_map<std::vector<std::string>> rollouts;  // job → things in release order
  std::map<std::string, job_template, std::less<>> templates;
  std::map<std::string, pending_view, std::less<>> announced;  // thing → view before
  // thing '\n' job id → the attempts a retry ended, oldest first
  std::map<std::string, std::vector<execution>, std::less<>> attempts;

  static std::string attempt_key(std::string_view thing, std::string_view job_id) {
    std::string k{thing};
    k += '\n';
    k += job_id;
    return k;
  }
  std::uint64_t last_sequence = 0;
  std::size_t count = 0;

  /// Everything but the mutex from `o`, which is left empty.
  void take(impl& o) {
    jobs = std::exchange(o.jobs, {});
    by_thing = std::exchange(o.by_thing, {});
    things_of_job = std::exchange(o.things_of_job, {});
    deadlines = std::exchange(o.deadlines, {});
    rollouts = std::exchange(o.rollouts, {});
    templates = std::exchange(o.templates, {});
    announced = std::exchange(o.announced, {});
    attempts = std::exchange(o.attempts, {});
    last_sequence = std::exchange(o.last_sequence, 0);
    count = std::exchange(o.count, 0);
  }

  void unschedule(const execution& e) {
    if (e.deadline() != 0) deadlines.erase({e.deadline(), e.thing, e.job_id});
  }

  void put(const execution& e) {
    auto& list = by_thing[e.thing];
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const execution& x) { return x.job_id == e.job_id; });
    if (it == list.end()) {
      list.push_back(e);
      things_of_job[e.job_id].push_back(e.thing);
      ++count;
    } else {
      unschedule(*it);
      *it = e;
    }
    if (!is_terminal(e.status) && e.deadline() != 0) {
      deadlines.emplace(e.deadline(), e.thing, e.job_id);
    }
    last_sequence = std::max(last_sequence, e.sequence);
  }

  void erase_execution(const std::string& thing, const std::string& job_id) {
    auto list = by_thing.find(thing);
    if (list == by_thing.end()) return;
    auto& v = list->second;
    auto it =
        std::find_if(v.begin(), v.end(), [&](const execution& x) { return x.job_id == job_id; });
    if (it == v.end()) return;
    unschedule(*it);
    v.erase(it);
    --count;
    attempts.erase(attempt_key(thing, job_id));
    if (v.empty()) by_thing.erase(list);
    if (auto things = things_of_job.find(job_id); things != things_of_job.end()) {
      std::erase(things->second, thing);
      if (things->second.empty()) things_of_job.erase(things);
    }
  }

  void erase_job(const std::string& id) {
    jobs.erase(id);
    rollouts.erase(id);
    auto things = things_of_job.find(id);
    if (things == things_of_job.end()) return;
    for (const auto& thing : things->second) {
      auto list = by_thing.find(thing);
      if (list == by_thing.end()) continue;
      auto& v = list->second;
      auto it =
          std::find_if(v.begin(), v.end(), [&](const execution& x) { return x.job_id == id; });
      if (it == v.end()) continue;
      unschedule(*it);
      v.erase(it);
      --count;
      attempts.erase(attempt_key(thing, id));
      if (v.empty()) by_thing.erase(list);
    }
    things_of_job.erase(things);
  }
};

memory_store::memory_store() : p_(std::make_unique<impl>()) {}
memory_store::~memory_store() = default;

std::error_code memory_store::commit(const batch& b) {
  std::lock_guard lock{p_->mutex};
  for (const auto& id : b.erased_jobs) p_->erase_job(id);
  for (const auto& [thing, job_id] : b.erased_executions) p_->erase_execution(thing, job_id);
  for (const auto& id : b.erased_templates) p_->templates.erase(id);
  for (const auto& thing : b.erased_announced) p_->announced.erase(thing);
  for (const auto& [thing, view] : b.announced) p_->announced.try_emplace(thing, view);
  for (const auto& t : b.templates) p_->templates.insert_or_assign(t.id, t);
  for (const auto& [id, things] : b.rollouts) {
    auto& list = p_->rollouts[id];
    list.insert(list.end(), things.begin(), things.end());
  }
  for (const auto& j : b.jobs) p_->jobs.insert_or_assign(j.id, j);
  for (const auto& e : b.executions) p_->put(e);
  for (const auto& e : b.attempts) {
    auto& list = p_->attempts[impl::attempt_key(e.thing, e.job_id)];
    std::erase_if(list,
                  [&](const execution& x) { return x.execution_number == e.execution_number; });
    list.push_back(e);
    std::sort(list.begin(), list.end(), [](const execution& x, const execution& y) {
      return x.execution_number < y.execution_number;
    });
  }
  return {};
}

std::future<std::error_code> store::commit_deferred(const batch& b) {
  std::promise<std::error_code> done;
  done.set_value(commit(b));
  return done.get_future();
}

std::optional<job> memory_store::find_job(std::string_view id) const {
  std::lock_guard lock{p_->mutex};
  auto it = p_->jobs.find(id);
  if (it == p_->jobs.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> store::find_document(std::string_view id) const {
  auto j = find_job(id);
  if (!j) return std::nullopt;
  return std::move(j->document);
}

std::optional<std::string> memory_store::find_document(std::string_view id) const {
  std::lock_guard lock{p_->mutex};
  auto it = p_->jobs.find(id);
  if (it == p_->jobs.end()) return std::nullopt;
  return it->second.document;
}

std::optional<execution> memory_store::find_execution(std::string_view thing,
                                                      std::string_view job_id) const {
  std::lock_guard lock{p_->mutex};
  auto list = p_->by_thing.find(thing);
  if (list == p_->by_thing.end()) return std::nullopt;
  for (const auto& e : list->second) {
    if (e.job_id == job_id) return e;
  }
  return std::nullopt;
}

std::vector<execution> memory_store::pending(std::string_view thing) const {
  std::vector<execution> out;
  {
    std::lock_guard lock{p_->mutex};
    auto list = p_->by_thing.find(thing);
    if (list == p_->by_thing.end()) return out;
    for (const auto& e : list->second) {
      if (!is_terminal(e.status)) out.push_back(e);
    }
  }
  std::sort(out.begin(), out.end(), [](const execution& a, const execution& b) {
    const bool ai = a.status == execution_status::in_progress;
    const bool bi = b.status == execution_status::in_progress;
    if (ai != bi) return ai;
    return a.sequence < b.sequence;
  });
  return out;
}

std::vector<execution> memory_store::executions_of(std::string_view job_id) const {
  std::vector<execution> out;
  std::lock_guard lock{p_->mutex};
  auto things = p_->things_of_job.find(job_id);
  if (things == p_->things_of_job.end()) return out;
  out.reserve(things->second.size());
  for (const auto& thing : things->second) {
    for (const auto& e : p_->by_thing.find(thing)->second) {
      if (e.job_id == job_id) out.push_back(e);
    }
  }
  return out;
}

std::vector<execution> store::executions_for(std::string_view thing) const {
  std::vector<execution> out;
  for (const auto& id : job_ids()) {
    if (auto e = find_execution(thing, id)) out.push_back(std::move(*e));
  }
  std::sort(out.begin(), out.end(),
            [](const execution& a, const execution& b) { return a.sequence < b.sequence; });
  return out;
}

std::vector<execution> memory_store::executions_for(std::string_view thing) const {
  std::vector<execution> out;
  {
    std::lock_guard lock{p_->mutex};
    auto list = p_->by_thing.find(thing);
    if (list != p_->by_thing.end()) out = list->second;
  }
  std::sort(out.begin(), out.end(),
            [](const execution& a, const execution& b) { return a.sequence < b.sequence; });
  return out;
}

std::vector<execution> memory_store::due(std::int64_t now) const {
  std::vector<execution> out;
  std::lock_guard lock{p_->mutex};
  for (const auto& [when, thing, job_id] : p_->deadlines) {
    if (when > now) break;
    for (const auto& e : p_->by_thing.find(thing)->second) {
      if (e.job_id == job_id) out.push_back(e);
    }
  }
  return out;
}

std::uint64_t memory_store::last_sequence() const {
  std::lock_guard lock{p_->mutex};
  return p_->last_sequence;
}

std::vector<std::string> memory_store::job_ids() const {
  std::lock_guard lock{p_->mutex};
  std::vector<std::string> out;
  out.reserve(p_->jobs.size());
  for (const auto& [id, j] : p_->jobs) out.push_back(id);
  return out;
}

std::vector<std::string> memory_store::rollout_targets(std::string_view job_id, std::size_t from,
                                                       std::size_t count) const {
  std::lock_guard lock{p_->mutex};
  auto it = p_->rollouts.find(job_id);
  if (it == p_->rollouts.end() || from >= it->second.size()) return {};
  const auto& v = it->second;
  const auto first = v.begin() + static_cast<std::ptrdiff_t>(from);
  return {first, first + static_cast<std::ptrdiff_t>(std::min(count, v.size() - from))};
}

std::vector<std::string> memory_store::rolling_out() const {
  std::lock_guard lock{p_->mutex};
  std::vector<std::string> out;
  for (const auto& [id, j] : p_->jobs) {
    if (j.status == job_status::in_progress && rolls_out(j) && !j.progress.done()) {
      out.push_back(id);
    }
  }
  return out;
}

/// A schedule still to run: SCHEDULED, or an endTime not applied yet.
static bool schedule_pending(const job& j) {
  return j.status == job_status::scheduled ||
         (j.status == job_status::in_progress && j.scheduling.end_time != 0 && !j.schedule_ended);
}

std::vector<std::string> store::scheduled() const {
  std::vector<std::string> out;
  for (auto& id : job_ids()) {
    auto j = find_job(id);
    if (j && schedule_pending(*j)) out.push_back(std::move(id));
  }
  return out;
}

std::vector<std::string> store::schedule_due(std::int64_t now) const {
  std::vector<std::string> out;
  for (auto& id : scheduled()) {
    auto j = find_job(id);
    if (j && schedule_at(*j) != 0 && schedule_at(*j) <= now) out.push_back(std::move(id));
  }
  return out;
}

std::vector<std::string> memory_store::scheduled() const {
  std::lock_guard lock{p_->mutex};
  std::vector<std::string> out;
  for (const auto& [id, j] : p_->jobs) {
    if (schedule_pending(j)) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<job_template> memory_store::find_template(std::string_view id) const {
  std::lock_guard lock{p_->mutex};
  auto it = p_->templates.find(id);
  if (it == p_->templates.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> memory_store::template_ids() const {
  std::lock_guard lock{p_->mutex};
  std::vector<std::string> out;
  out.reserve(p_->templates.size());
  for (const auto& [id, t] : p_->templates) out.push_back(id);
  return out;
}

std::vector<std::pair<std::string, pending_view>> memory_store::announced() const {
  std::lock_guard lock{p_->mutex};
  return {p_->announced.begin(), p_->announced.end()};
}

std::vector<execution> memory_store::attempts(std::string_view thing,
                                              std::string_view job_id) const {
  std::lock_guard lock{p_->mutex};
  auto it = p_->attempts.find(impl::attempt_key(thing, job_id));
  if (it == p_->attempts.end()) return {};
  return it->second;
}

void memory_store::replace_with(memory_store& other) {
  if (&other == this) return;
  std::scoped_lock lock{p_->mutex, other.p_->mutex};
  p_->take(*other.p_);
}

std::size_t memory_store::size() const {
  std::lock_guard lock{p_->mutex};
  return p_->count;
}

}  // namespace iotblocks::jobs
