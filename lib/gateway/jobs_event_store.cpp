// The jobs store wrapper that reports each durable batch's jobs events.
#include "gateway/jobs_event_store.hpp"

namespace iotblocks::gateway {

std::vector<jobs_event> jobs_event_store::events_of(const jobs::batch& b) const {
  const auto [jobs, executions] = wanted_ ? wanted_() : std::pair{false, false};
  if (!jobs && !executions) return {};
  return jobs_events_of(b, *inner_, jobs, executions);  // read before `b` applies
}

std::error_code jobs_event_store::commit(const jobs::batch& b) {
  auto events = events_of(b);
  if (auto ec = inner_->commit(b)) return ec;
  if (!events.empty() && sink_) sink_(std::move(events));
  return {};
}

std::future<std::error_code> jobs_event_store::commit_deferred(const jobs::batch& b) {
  auto events = events_of(b);
  std::future<std::error_code> durable;
  if (inner_->groups_commits()) {
    durable = inner_->commit_deferred(b);
  } else {
    std::promise<std::error_code> done;
    done.set_value(inner_->commit(b));
    durable = done.get_future();
  }
  if (events.empty() || !sink_) return durable;
  return std::async(std::launch::deferred,
                    [this, durable = std::move(durable), events = std::move(events)]() mutable {
                      auto ec = durable.get();
                      if (!ec) sink_(std::move(events));
                      return ec;
                    });
}

}  // namespace iotblocks::gateway
