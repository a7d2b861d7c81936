// AWS IoT Jobs in the gateway: the service, its router on the broker, the timeouts.
#include "gateway/jobs_plane.hpp"

#include "gateway/shared_stores.hpp"

#include <iotblocks/core/bytes.hpp>

namespace iotblocks::gateway {

result<std::unique_ptr<jobs_plane>> jobs_plane::open(const std::string& url,
                                                     const std::filesystem::path& dir,
                                                     broker::broker& b) {
  auto s = detail::open_jobs_store(url, dir);
  if (!s) return failure{s.error(), "jobs store: " + s.describe(), {}};
  return std::unique_ptr<jobs_plane>(new jobs_plane(std::move(*s), b));
}

jobs_plane::jobs_plane(std::unique_ptr<jobs::store> s, broker::broker& b)
    : store_(std::move(s)),
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
  auto out = service_->tick(default_clock().now());
  if (out) publish(std::move(*out));
}

}  // namespace iotblocks::gateway
