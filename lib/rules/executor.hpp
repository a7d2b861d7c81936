// Private: the action executor. Each configured action has a bounded queue;
// worker threads take the queues that have work (one worker per queue at a
// time, so an action sees its invocations in order), run them in batches,
// schedule retries with exponential backoff, and hand every final outcome to
// the engine.
#pragma once

#include <iotblocks/rules/action.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/sql/template.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iotblocks::rules::detail {

using steady = std::chrono::steady_clock;

struct rule_counters {
  std::atomic<std::uint64_t> evaluated{0}, matched{0}, evaluation_errors{0}, succeeded{0},
      failed{0}, retried{0}, dropped{0}, error_actions_sent{0}, unreported{0}, latency_count{0},
      latency_total_us{0}, latency_max_us{0};

  void add_latency(std::uint64_t us) noexcept {
    latency_count.fetch_add(1, std::memory_order_relaxed);
    latency_total_us.fetch_add(us, std::memory_order_relaxed);
    std::uint64_t prev = latency_max_us.load(std::memory_order_relaxed);
    while (prev < us && !latency_max_us.compare_exchange_weak(prev, us)) {
    }
  }
  rule_metrics snapshot() const noexcept;
};

struct invocation_group;
struct dispatch_tracker;

/// One configured action with its queue.
struct action_slot {
  std::unique_ptr<action> impl;
  std::string type;           ///< "http"
  std::string failed_action;  ///< "HttpAction"
  std::string resource;
  destination_ref destination;
  std::vector<sql::substitution_template> templates;
  std::shared_ptr<const rule_identity> rule;  ///< null for engine-internal slots
  std::shared_ptr<rule_counters> counters;    ///< null for engine-internal slots
  bool is_error_action = false;
  std::size_t capacity = 1024;

  std::mutex m;
  std::condition_variable room;
  std::deque<struct job> queue;
  bool scheduled = false;
};

struct job {
  std::shared_ptr<action_slot> slot;
  std::shared_ptr<invocation_group> group;    ///< null for error actions and alarm notifications
  std::shared_ptr<dispatch_tracker> tracker;  ///< error actions: the dispatch() waiting for them
  std::shared_ptr<const message_record> message;
  std::shared_ptr<const std::string> output;
  std::vector<std::string> values;
  std::vector<std::string> progress;
  unsigned attempt = 0;
  steady::time_point accepted;
};

enum class submit_result { accepted, full, stopped };

/// Distinct objects: safe. Shared objects: safe.
class executor {
 public:
  using final_fn = std::function<void(job&, const action_status&)>;
  using retry_fn = std::function<void(job&)>;

  executor(std::size_t threads, retry_policy retry, final_fn on_final, retry_fn on_retry);
  ~executor();

  /// Queues `j` on its slot. With `wait` > 0, waits that long for room.
  submit_result submit(job&& j, std::chrono::milliseconds wait = {});
  /// Waits until no invocation is queued, running or waiting for a retry.
  bool wait_idle(std::chrono::milliseconds limit);
  /// Runs queued work for up to `limit`, then fails the rest with error::stopped and joins.
  void stop(std::chrono::milliseconds limit);
  std::size_t outstanding() const noexcept { return outstanding_.load(); }

 private:
  void work();
  void run_slot(const std::shared_ptr<action_slot>& slot);
  void schedule(const std::shared_ptr<action_slot>& slot);  // requires slot->m held by caller
  void done(job& j, const action_status& s);
  std::chrono::milliseconds backoff(unsigned attempt) const;

  retry_policy retry_;
  final_fn on_final_;
  retry_fn on_retry_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<action_slot>> ready_;
  std::multimap<steady::time_point, job> delayed_;
  bool stopping_ = false;
  bool draining_failed_ = false;
  std::atomic<std::size_t> outstanding_{0};
  std::mutex idle_m_;
  std::condition_variable idle_cv_;
  std::vector<std::thread> threads_;
};

}  // namespace iotblocks::rules::detail
