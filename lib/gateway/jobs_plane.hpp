// Private: AWS IoT Jobs in the gateway (docs/jobs.md): the jobs service on the store that
// `stores.jobs` names (SQLite in the data directory by default, or PostgreSQL), its router on the
// broker's $aws/things/{thing}/jobs/… topics, the timeouts on the gateway's one-second tick, and
// the pushes published through the broker.
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/jobs/service.hpp>
#include <iotblocks/jobs/store.hpp>

#include "gateway/event_config.hpp"
#include "gateway/jobs_events.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::gateway {

/// Distinct objects: safe. Shared objects: safe.
class jobs_plane {
 public:
  /// Opens (or creates) the store `url` names (shared_stores.hpp). `events` (may be null: none)
  /// says which jobs events are published, with `ctx`'s account and region in their ARNs.
  /// Errors: the store's.
  static result<std::unique_ptr<jobs_plane>> open(const std::string& url,
                                                  const std::filesystem::path& dir,
                                                  broker::broker& b,
                                                  const event_config_store* events = nullptr,
                                                  event_context ctx = {});

  /// A PUBLISH the broker accepted: a jobs request is answered (reply and pushes published)
  /// and true returned; anything else: false.
  bool on_publish(std::string_view topic, std::string_view payload);
  /// Publishes messages (replies, notify, notify-next) through the broker.
  void publish(std::vector<jobs::message> messages);
  /// Publishes the pushes other processes left owed (service::take_announced, which also
  /// reads in their changes), then times out executions whose timers expired (the gateway
  /// calls it every second).
  void tick();

  jobs::service& service() noexcept { return *service_; }
  jobs::store& store() noexcept { return *store_; }
  jobs::router& router() noexcept { return *router_; }

 private:
  jobs_plane(std::unique_ptr<jobs::store> s, broker::broker& b, const event_config_store* events,
             event_context ctx);
  /// `s` wrapped in a jobs_event_store publishing through this plane (`s` without `events_`).
  std::unique_ptr<jobs::store> with_events(std::unique_ptr<jobs::store> s);
  /// Publishes the enabled ones of `events` (jobs_event_store's sink).
  void publish_events(const std::vector<jobs_event>& events);
  const event_config_store* events_ = nullptr;
  event_context events_ctx_;
  std::unique_ptr<jobs::store> store_;
  std::unique_ptr<jobs::service> service_;
  std::unique_ptr<jobs::router> router_;
  broker::broker& broker_;
};

}  // namespace iotblocks::gateway
