#include "rules/executor.hpp"

#include <iotblocks/core/result.hpp>  // IOTBLOCKS_EXCEPTIONS

#include <algorithm>
#include <cmath>
#include <exception>

namespace iotblocks::rules::detail {

rule_metrics rule_counters::snapshot() const noexcept {
  rule_metrics m;
  m.evaluated = evaluated.load();
  m.matched = matched.load();
  m.evaluation_errors = evaluation_errors.load();
  m.actions_succeeded = succeeded.load();
  m.actions_failed = failed.load();
  m.actions_retried = retried.load();
  m.actions_dropped = dropped.load();
  m.error_actions_sent = error_actions_sent.load();
  m.unreported = unreported.load();
  m.latency_count = latency_count.load();
  m.latency_total_us = latency_total_us.load();
  m.latency_max_us = latency_max_us.load();
  return m;
}

executor::executor(std::size_t threads, retry_policy retry, final_fn on_final, retry_fn on_retry)
    : retry_(retry), on_final_(std::move(on_final)), on_retry_(std::move(on_retry)) {
  threads = std::max<std::size_t>(threads, 1);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

executor::~executor() { stop(std::chrono::milliseconds(0)); }

std::chrono::milliseconds executor::backoff(unsigned attempt) const {
  double ms = static_cast<double>(retry_.initial_backoff.count()) *
              std::pow(retry_.multiplier, static_cast<double>(attempt > 0 ? attempt - 1 : 0));
  ms = std::min(ms, static_cast<double>(retry_.max_backoff.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

void executor::schedule(const std::shared_ptr<action_slot>& slot) {
  if (slot->scheduled) return;
  slot->scheduled = true;
  {
    std::lock_guard lock{m_};
    ready_.push_back(slot);
  }
  cv_.notify_one();
}

submit_result executor::submit(job&& j, std::chrono::milliseconds wait) {
  auto slot = j.slot;
  std::unique_lock lock{slot->m};
  {
    std::lock_guard g{m_};
    if (stopping_) return submit_result::stopped;
  }
  if (slot->queue.size() >= slot->capacity) {
    if (wait.count() <= 0 ||
        !slot->room.wait_for(lock, wait, [&] { return slot->queue.size() < slot->capacity; })) {
      return submit_result::full;
    }
  }
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  slot->queue.push_back(std::move(j));
  schedule(slot);
  return submit_result::accepted;
}

void executor::done(job& j, const action_status& s) {
  on_final_(j, s);
  if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard lock{idle_m_};
    idle_cv_.notify_all();
  }
}

void executor::run_slot(const std::shared_ptr<action_slot>& slot) {
  std::vector<job> batch;
  {
    std::lock_guard lock{slot->m};
    const std::size_t n =
        std::min(slot->queue.size(), std::max<std::size_t>(slot->impl->max_batch(), 1));
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(slot->queue.front()));
      slot->queue.pop_front();
    }
  }
  slot->room.notify_all();
  if (!batch.empty()) {
    static const rule_identity internal{"", "", ""};
    std::vector<action_input> inputs;
    inputs.reserve(batch.size());
    for (auto& j : batch) {
      inputs.push_back(action_input{slot->rule ? *slot->rule : internal, *j.message,
                                    j.output ? std::string_view(*j.output) : std::string_view{},
                                    j.values, j.attempt, &j.progress});
    }
    std::vector<action_status> results(batch.size());
#if IOTBLOCKS_EXCEPTIONS
    try {
      slot->impl->execute_batch(inputs, results);
    } catch (const std::exception& e) {
      for (auto& r : results) r = action_status::fail(error::action_failed, e.what(), false);
    }
#else
    slot->impl->execute_batch(inputs, results);
#endif
    const auto now = steady::now();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto& j = batch[i];
      const auto& r = results[i];
      if (!r.ok() && r.retryable && j.attempt + 1 < retry_.max_attempts) {
        bool stopping = false;
        {
          std::lock_guard lock{m_};
          stopping = stopping_;
        }
        if (!stopping) {
          ++j.attempt;
          on_retry_(j);
          const auto due = now + backoff(j.attempt);
          {
            std::lock_guard lock{m_};
            delayed_.emplace(due, std::move(j));
          }
          cv_.notify_one();
          continue;
        }
      }
      done(j, r);
    }
  }
  std::lock_guard lock{slot->m};
  slot->scheduled = false;
  if (!slot->queue.empty()) schedule(slot);
}

void executor::work() {
  std::unique_lock lock{m_};
  for (;;) {
    // Move due retries back into their queues.
    const auto now = steady::now();
    while (!delayed_.empty() && (delayed_.begin()->first <= now || stopping_)) {
      job j = std::move(delayed_.begin()->second);
      delayed_.erase(delayed_.begin());
      auto slot = j.slot;
      lock.unlock();
      {
        std::lock_guard g{slot->m};
        slot->queue.push_front(std::move(j));
        schedule(slot);
      }
      lock.lock();
    }
    if (!ready_.empty()) {
      auto slot = std::move(ready_.front());
      ready_.pop_front();
      lock.unlock();
      run_slot(slot);
      lock.lock();
      continue;
    }
    if (stopping_ && delayed_.empty()) return;
    if (delayed_.empty()) {
      cv_.wait(lock);
    } else {
      const auto due = delayed_.begin()->first;  // a copy: the node may go while we wait
      cv_.wait_until(lock, due);
    }
  }
}

bool executor::wait_idle(std::chrono::milliseconds limit) {
  std::unique_lock lock{idle_m_};
  return idle_cv_.wait_for(lock, limit, [&] { return outstanding_.load() == 0; });
}

void executor::stop(std::chrono::milliseconds limit) {
  if (threads_.empty()) return;
  wait_idle(limit);
  {
    std::lock_guard lock{m_};
    stopping_ = true;
  }
  cv_.notify_all();
  // Workers finish the queued work quickly now: retries are no longer delayed.
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace iotblocks::rules::detail
