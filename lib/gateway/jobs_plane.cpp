// AWS IoT Jobs in the gateway: the service, its router on the broker, the timeouts.
#include "gateway/jobs_plane.hpp"

#include "gateway/jobs_event_store.hpp"
#include "gateway/shared_stores.hpp"

#include <iotblocks/core/bytes.hpp>

namespace iotblocks::gateway {

result<std::unique_ptr<jobs_plane>> jobs_plane::open(const std::string& url,
                                                     const std::filesystem::path& dir,
                                                     broker::broker& b,
                                                     const event_config_store* events,
                                                     event_context ctx) {
  auto s = detail::open_jobs_store(url, dir);
  if (!s) return failure{s.error(), "jobs store: " + s.describe(), {}};
  return std::unique_ptr<jobs_plane>(new jobs_plane(std::move(*s), b, events, std::move(ctx)));
}

std::unique_ptr<jobs::store> jobs_plane::with_events(std::unique_ptr<jobs::store> s) {
  if (events_ == nullptr) return s;
  return std::make_unique<jobs_event_store>(
      std::move(s),
      [events = events_] {
        return std::pair{events->enabled("JOB"), events->enabled("JOB_EXECUTION")};
      },
      [this](std::vector<jobs_event> e) { publish_events(e); });
}

void jobs_plane::publish_events(const std::vector<jobs_event>& events) {
  const auto ctx = event_context_now(events_ctx_);
  std::vector<event_message> messages;
  messages.reserve(events.size());
  for (const auto& e : events) messages.push_back(jobs_event_message(e, ctx));
  publish_enabled(*events_, broker_, std::move(messages));
}

jobs_plane::jobs_plane(std::unique_ptr<jobs::store> s, broker::broker& b,
                       const event_config_store* events, event_context ctx)
    : events_(events),
      events_ctx_(std::move(ctx)),
      store_(with_events(std::move(s))),
      // CreateJob's 100 targets may be thing groups: no limit on the things they expand to.
      service_(std::make_unique<jobs::service>(*store_, default_clock(),
                                               jobs::limits{}.max_targets(std::size_t{1} << 24))),
      router_(std::make_unique<jobs::router>(*service_)),
      broker_(b) {}

bool jobs_plane::on_publish(std::string_view topic, std::string_view payload) {
  auto out = router_->route(topic, payload);
  if (!out) return false;
  publish(std::move(*out));
  return true;
}

void jobs_plane::publish(std::vector<jobs::message> messages) {
  for (auto& s : messages) {
    broker::message m;
    m.topic = std::move(s.topic);
    m.payload = to_buffer(s.payload);
    broker_.publish(m);
  }
}

void jobs_plane::tick() {
  // What another process (`iotblocks jobs` on the same SQLite file) changed, and its pushes.
  if (auto owed = service_->take_announced()) publish(std::move(*owed));
  auto out = service_->tick(default_clock().now());
  if (out) publish(std::move(*out));
}

}  // namespace iotblocks::gateway
