// Private: the parts of a running gateway, shared by gateway.cpp and http_routes.cpp.
#pragma once

#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/http_server.hpp>
#include <iotblocks/net/server.hpp>
#include <iotblocks/net_broker/handler.hpp>
#include <iotblocks/policy/evaluate.hpp>
#include <iotblocks/registry/thing_groups.hpp>
#include <iotblocks/registry/thing_types.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/shadow/service.hpp>
#include <iotblocks/shadow/store.hpp>

#include "gateway/bridges.hpp"
#include "gateway/connectivity.hpp"
#include "gateway/event_config.hpp"
#include "gateway/jobs_plane.hpp"
#include "gateway/operator_log.hpp"
#include "gateway/provisioning_plane.hpp"
#include "gateway/registry_events.hpp"
#include "gateway/reserved_topics.hpp"
#include "gateway/rule_store.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace iotblocks::gateway {

class security;
namespace aws {
class index_config_store;
}

struct gateway::impl {
  config cfg;
  operator_log log{cfg.log};  ///< standard error, logfmt (operator_log.hpp)
  broker::broker mqtt;
  net::server server;
  net_broker::handler gate{mqtt};  ///< the broker on the server's connections
  net::http_server http;
  std::unique_ptr<shadow::store> shadow_store;
  std::unique_ptr<shadow::service> shadows;
  std::unique_ptr<shadow::router> shadow_router;
  std::unique_ptr<jobs_plane> jobs;                ///< AWS IoT Jobs (jobs_plane.cpp)
  std::unique_ptr<registry::thing_groups> groups;  ///< static thing groups (thing_groups.db)
  std::unique_ptr<registry::thing_types> types;    ///< thing types (thing_types.db)
  /// Which AWS IoT events are published (event_configurations.db; null when unreadable).
  std::unique_ptr<event_config_store> event_config;
  /// Registry events from the registry's, groups' and types' changes (registry_events.hpp).
  std::unique_ptr<registry_events> events;
  /// Provisioning templates (provisioning_templates.db), with "authorize" and the registry.
  std::unique_ptr<provisioning::template_store> templates;
  /// Fleet provisioning, with the template store (provisioning_plane.cpp).
  std::unique_ptr<provisioning_plane> provisioning;
  std::unique_ptr<rules::engine> rules;
  std::unique_ptr<rule_store> rule_changes;  ///< rules changed through the admin API
  std::unique_ptr<bridge_set> bridges;       ///< upstream bridges (bridges.cpp)
  std::unique_ptr<security> sec;             ///< registry, policies, users, admin (security*.cpp)
  /// `$aws/` topics the gateway implements; a component wired in later (jobs,
  /// provisioning) claims its own before start() installs the gates.
  reserved_topics reserved;
  connectivity_tracker connectivity;  ///< from the presence events, for fleet indexing
  /// fleet_indexing.db: indexing configuration, dynamic groups (null without the AWS API).
  std::shared_ptr<aws::index_config_store> indexing;
  std::atomic<std::uint64_t> shadow_updates{0};
  std::atomic<std::uint64_t> basic_ingest_unknown{0};  ///< `$aws/rules/<r>/…` naming no rule
  std::vector<endpoint> endpoints;
  bool started = false;
  bool http_started = false;

  explicit impl(config c);
  ~impl();
  void add_http_routes();  ///< http_routes.cpp
  /// A message to the rules under `topic`: every rule whose FROM matches, or
  /// only `rule` (Basic Ingest; nullopt when there is no such rule).
  std::optional<std::size_t> to_rules(const broker::message& m, const broker::client_info* from,
                                      std::string_view topic, std::string_view rule);
  /// `$aws/rules/<rule>/<topic>`: to that rule only.
  void basic_ingest(const broker::message& m, const broker::client_info* from);
  std::string metrics_text() const;
};

}  // namespace iotblocks::gateway
