// Private: a jobs store that hands the jobs events of each batch (jobs_events.hpp) to a sink
// once the batch is durable, never for a batch that failed. It wraps the store the jobs
// service writes, so every change the service commits is seen, whatever called it.
//
//   jobs_event_store s{std::move(sqlite), [&] { return wanted(); }, [&](auto events) { … }};
//   jobs::service svc{s};   // its commits go through s
#pragma once

#include <iotblocks/jobs/store.hpp>

#include "gateway/jobs_events.hpp"

#include <functional>
#include <memory>

namespace iotblocks::gateway {

/// Distinct objects: safe. Shared objects: safe (as the wrapped store).
class jobs_event_store final : public jobs::store {
 public:
  /// Which kinds are wanted now (JOB, JOB_EXECUTION); neither: a batch is not read.
  using wanted_fn = std::function<std::pair<bool, bool>()>;
  /// Called with a durable batch's events (never empty), on the thread that waits for it.
  using sink_fn = std::function<void(std::vector<jobs_event>)>;

  jobs_event_store(std::unique_ptr<jobs::store> inner, wanted_fn wanted, sink_fn sink)
      : inner_(std::move(inner)), wanted_(std::move(wanted)), sink_(std::move(sink)) {}

  jobs::store& inner() noexcept { return *inner_; }

  /// The inner store's commit, then the events when it succeeded.
  std::error_code commit(const jobs::batch& b) override;
  /// The inner store's commit_deferred (or commit); the events go to the sink in the
  /// returned future's get(), once the batch is durable and only if it is.
  std::future<std::error_code> commit_deferred(const jobs::batch& b) override;
  /// Always: the service then waits for the future after releasing its lock, and the sink
  /// runs outside it.
  bool groups_commits() const noexcept override { return true; }
  void begin_reads() override { inner_->begin_reads(); }

  std::optional<jobs::job> find_job(std::string_view id) const override {
    return inner_->find_job(id);
  }
  std::optional<std::string> find_document(std::string_view id) const override {
    return inner_->find_document(id);
  }
  std::optional<jobs::execution> find_execution(std::string_view thing,
                                                std::string_view job_id) const override {
    return inner_->find_execution(thing, job_id);
  }
  std::vector<jobs::execution> pending(std::string_view thing) const override {
    return inner_->pending(thing);
  }
  std::vector<jobs::execution> executions_of(std::string_view job_id) const override {
    return inner_->executions_of(job_id);
  }
  std::vector<jobs::execution> executions_for(std::string_view thing) const override {
    return inner_->executions_for(thing);
  }
  std::vector<jobs::execution> due(std::int64_t now) const override { return inner_->due(now); }
  std::uint64_t last_sequence() const override { return inner_->last_sequence(); }
  std::vector<std::string> job_ids() const override { return inner_->job_ids(); }
  std::vector<std::string> rollout_targets(std::string_view job_id, std::size_t from,
                                           std::size_t count) const override {
    return inner_->rollout_targets(job_id, from, count);
  }
  std::vector<std::string> rolling_out() const override { return inner_->rolling_out(); }
  std::vector<std::string> scheduled() const override { return inner_->scheduled(); }
  std::optional<jobs::job_template> find_template(std::string_view id) const override {
    return inner_->find_template(id);
  }
  std::vector<std::string> template_ids() const override { return inner_->template_ids(); }

 private:
  std::vector<jobs_event> events_of(const jobs::batch& b) const;

  std::unique_ptr<jobs::store> inner_;
  wanted_fn wanted_;
  sink_fn sink_;
};

}  // namespace iotblocks::gateway
