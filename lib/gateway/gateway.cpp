// The reference gateway: composition of broker, transports, HTTP, rules, shadows, policies.
#include "gateway/aws_api.hpp"
#include "gateway/config_rules.hpp"
#include "gateway/gateway_impl.hpp"
#include "gateway/security.hpp"
#include "gateway/shared_stores.hpp"

#include <iotblocks/core/error.hpp>
#include <iotblocks/core/uuid.hpp>
#include <iotblocks/net_rules/transports.hpp>
#include <iotblocks/rules/mqtt_properties.hpp>
#ifdef IOTBLOCKS_GATEWAY_POSTGRES
#include <iotblocks/postgres/shadow_store.hpp>
#endif

#include <fmt/format.h>

#include <filesystem>
#include <mutex>
#include <random>
#include <vector>

namespace iotblocks::gateway {
namespace {

constexpr std::string_view shadow_prefix = "$aws/things/";
constexpr std::string_view basic_ingest_prefix = "$aws/rules/";

/// The claims of what the gateway implements under `$aws/`.
void claim_reserved_topics(reserved_topics& r) {
  using publish = reserved_topics::publish;
  r.claim({"$aws/things/+/shadow/#", publish::route, true});  // classic and named shadows
  r.claim({"$aws/things/+/jobs/#", publish::route, true});    // jobs (jobs_plane)
  r.claim({"$aws/events/#", publish::refuse, true});          // lifecycle, JITR events
  r.claim({"$aws/rules/#", publish::consume, false});         // Basic Ingest
}

/// The rules engine's republish action goes through the broker.
class broker_publisher final : public rules::publisher {
 public:
  explicit broker_publisher(broker::broker& b) : b_(b) {}
  result<void> publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
                       bool retain) override {
    broker::message m;
    m.topic = std::string(topic);
    m.payload = to_buffer(payload);
    m.qos = qos > 1 ? std::uint8_t{1} : qos;
    m.retain = retain;
    b_.publish(m);
    return {};
  }

 private:
  broker::broker& b_;
};

/// The shadow store a `stores.shadows` URL names (config.hpp).
result<std::unique_ptr<shadow::store>> open_shadow_store(const std::string& url,
                                                         const std::filesystem::path& dir) {
  if (url.starts_with("sqlite:")) {
    const std::string path = url.size() > 7 ? url.substr(7) : (dir / "shadows.db").string();
    auto s = shadow::sqlite_store::open(path);
    if (!s) return std::move(s).take_failure();
    return std::unique_ptr<shadow::store>(std::move(*s));
  }
#ifdef IOTBLOCKS_GATEWAY_POSTGRES
  auto s = postgres::shadow_store::open(url);
  if (!s) return std::move(s).take_failure();
  return std::unique_ptr<shadow::store>(std::move(*s));
#else
  return failure{std::make_error_code(std::errc::operation_not_supported),
                 "this build has no postgres component (libpq-dev)",
                 {}};
#endif
}

event_context events_context(const gateway::impl& g) {
  return event_context{g.cfg.aws.account_id, g.cfg.aws.region, 0, {}};
}

net::transport transport_of(const std::string& type) {
  if (type == "mqtts") return net::transport::tls;
  if (type == "ws") return net::transport::ws;
  if (type == "wss") return net::transport::wss;
  return net::transport::tcp;
}

/// Opens event_configurations.db (before the jobs plane, whose events it configures).
void open_event_config(gateway::impl& g, const std::filesystem::path& dir) {
  auto store = event_config_store::open((dir / "event_configurations.db").string(),
                                        default_clock().now_ms());
  if (!store) {
    // describe/update-event-configurations answer InternalFailureException; nothing is published.
    g.log.write(log_level::error, "event_configurations_unavailable",
                {{"error", store.describe()}});
    return;
  }
  g.event_config = std::move(*store);
}

/// Publishes the enabled registry events of every committed change to things, thing groups and
/// thing types, whichever route made it.
void wire_registry_events(gateway::impl& g) {
  if (g.event_config == nullptr) return;
  g.events = std::make_unique<registry_events>(*g.event_config, g.mqtt, events_context(g));
  auto observer = [events = g.events.get()](const registry::change& c) { events->on_change(c); };
  if (auto* reg = g.sec->reg()) reg->on_change(observer);
  g.groups->on_change(observer);
  g.types->on_change(observer);
}

}  // namespace

gateway::impl::impl(config c)
    : cfg(std::move(c)),
      mqtt([&] {
        auto b = cfg.broker;
        b.presence_events = true;  // AWS IoT lifecycle events, as the rules expect
        return b;
      }()),
      server([&] {
        auto o = cfg.server;
        o.threads = cfg.threads;
        o.decoder.max_packet_size = cfg.broker.maximum_packet_size;
        return o;
      }()) {}

gateway::impl::~impl() = default;

std::optional<std::size_t> gateway::impl::to_rules(const broker::message& m,
                                                   const broker::client_info* from,
                                                   std::string_view topic, std::string_view rule) {
  rules::message rm;
  rm.topic = topic;
  rm.payload = m.payload;
  if (from != nullptr && !from->client_id.empty()) rm.client_id = from->client_id;
  rm.qos = m.qos;
  if (from != nullptr && from->peer != nullptr) rm.source_ip = from->peer->address;
  thread_local std::vector<sql::user_property> users;
  rules::set_mqtt_properties(rm, m.properties, users);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char trace[36];
  format_uuid4(rng(), rng(), trace);  // traceid(): one per message, as AWS IoT gives
  rm.trace_id = std::string_view(trace, sizeof trace);
  if (rule.empty()) return rules->dispatch(rm);
  return rules->dispatch_to(rule, rm);
}

void gateway::impl::basic_ingest(const broker::message& m, const broker::client_info* from) {
  // "$aws/rules/<rule>/<topic>": the rule alone, topic() without the prefix (as AWS IoT).
  std::string_view rest = std::string_view(m.topic).substr(basic_ingest_prefix.size());
  const auto slash = rest.find('/');
  const std::string_view rule = rest.substr(0, slash);
  const std::string_view topic =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  if (rule.empty() || !to_rules(m, from, topic, rule)) {
    basic_ingest_unknown.fetch_add(1, std::memory_order_relaxed);  // dropped, as AWS IoT does
    log.write(log_level::warn, "rule_not_found",
              {{"client_id", from != nullptr ? std::string_view(from->client_id) : ""},
               {"topic", m.topic},
               {"rule", rule}});
  }
}

gateway::gateway(config c) : impl_(std::make_unique<impl>(std::move(c))) {}
gateway::~gateway() { stop(); }

result<void> gateway::start() {
  auto& g = *impl_;
  if (g.started) return {};
  std::error_code ec;
  std::filesystem::create_directories(g.cfg.data_dir, ec);
  if (ec) return failure{ec, "data directory " + g.cfg.data_dir + ": " + ec.message(), {}};
  const std::filesystem::path dir{g.cfg.data_dir};
  // Durable sessions, subscriptions, retained and QoS 1/2 messages (loaded first).
  if (auto ok = g.mqtt.open_store((dir / "broker.db").string()); !ok) return ok.fail();

  // Registry, policy store, users and device CA first: rules and connections use them.
  g.sec = std::make_unique<security>(g.cfg, g.mqtt, g.log);
  if (auto ok = g.sec->open(dir); !ok) return ok;

  auto store = open_shadow_store(g.cfg.shadow_store, dir);
  if (!store) return failure{store.error(), "shadow store: " + store.describe(), {}};
  g.shadow_store = std::move(*store);
  g.shadows = std::make_unique<shadow::service>(*g.shadow_store);
  g.shadow_router = std::make_unique<shadow::router>(*g.shadows);
  open_event_config(g, dir);
  auto jobs =
      jobs_plane::open(g.cfg.jobs_store, dir, g.mqtt, g.event_config.get(), events_context(g));
  if (!jobs) return jobs.fail();
  g.jobs = std::move(*jobs);
  auto groups = detail::open_thing_groups(g.cfg.thing_groups_store, dir);
  if (!groups) return failure{groups.error(), "thing groups: " + groups.describe(), {}};
  g.groups = std::move(*groups);
  g.sec->use_thing_groups(g.groups.get());
  auto types = detail::open_thing_types(g.cfg.thing_types_store, dir);
  if (!types) return failure{types.error(), "thing types: " + types.describe(), {}};
  g.types = std::move(*types);
  wire_registry_events(g);
  if (g.cfg.authorize && g.sec->reg() != nullptr) {
    auto templates =
        provisioning::template_store::open((dir / "provisioning_templates.db").string());
    if (!templates) {
      return failure{templates.error(), "provisioning templates: " + templates.describe(), {}};
    }
    g.templates = std::move(*templates);
    provisioning_plane::settings ps{
        "arn:aws:iam::" + g.cfg.aws.account_id + ":role/iotblocks-config",
        "arn:aws:iot:" + g.cfg.aws.region + ":" + g.cfg.aws.account_id + ":provisioningtemplate/",
        &g.cfg.provisioning_hooks, g.cfg.provisioning_key_algorithm,
        (dir / "provisioning_tokens.db").string()};
    auto p = provisioning_plane::open(g.cfg.provisioning_templates, std::move(ps), *g.templates,
                                      *g.sec, *g.groups, *g.types, *g.jobs, g.mqtt);
    if (!p) return p.fail();
    g.provisioning = std::move(*p);
    g.sec->jit_provisioner = [&g](const std::string& cert, const std::string& ca) {
      return g.provisioning->provision_just_in_time(cert, ca);
    };
  } else if (!g.cfg.provisioning_templates.empty()) {
    return failure{core::error::invalid_argument,
                   "provisioning_templates need \"authorize\": true and the registry",
                   {}};
  }

  rules::engine_options ro;
  auto items = detail::open_item_store(g.cfg.rule_items_store, dir);
  if (!items) return failure{items.error(), "rule item store: " + items.describe(), {}};
  ro.store = std::move(*items);
  ro.region = g.cfg.aws.region;
  ro.account = g.cfg.aws.account_id;
  ro.publisher = std::make_shared<broker_publisher>(g.mqtt);
  ro.http = std::make_shared<net_rules::http_client_transport>();
  ro.command = std::make_shared<net_rules::tcp_command_transport>();
  g.sec->add_sql_functions(ro, *g.shadows);
  g.rules = std::make_unique<rules::engine>(ro);
  g.sec->add_rule_actions(*g.rules);
  // Notify topics first: sns actions and alarm actions name them.
  if (auto ok = detail::apply_notify_alarms(g.cfg, *g.rules); !ok) return ok;
  for (const auto& r : g.cfg.rules) {
    auto ok = g.rules->add_rule(r.name, r.json);
    if (!ok) return failure{ok.fail().code, "rule " + r.name + ": " + ok.describe(), {}};
  }
  auto changes = rule_store::open((dir / "admin_rules.db").string());
  if (!changes) return failure{changes.error(), "admin rules: " + changes.describe(), {}};
  g.rule_changes = std::make_unique<rule_store>(std::move(*changes));
  if (auto ok = g.rule_changes->replay(*g.rules); !ok) return ok;

  // Every accepted message: Basic Ingest, shadow requests, then the rules.
  g.mqtt.on_accepted([&g](const broker::message& m, const broker::client_info* from) {
    const std::string_view client = from != nullptr ? std::string_view(from->client_id) : "";
    if (from == nullptr) {  // the gateway's own: presence events, shadow replies
      g.connectivity.on_message(m.topic, as_string_view(m.payload));
      aws::dynamic_groups_follow(g, m.topic);
    }
    if (m.topic.starts_with(basic_ingest_prefix)) return g.basic_ingest(m, from);
    if (g.provisioning && g.provisioning->on_publish(m.topic, as_string_view(m.payload), from)) {
      return;
    }
    if (m.topic.starts_with(shadow_prefix) &&
        !g.jobs->on_publish(m.topic, as_string_view(m.payload))) {
      if (m.topic.ends_with("/update/accepted")) g.shadow_updates.fetch_add(1);
      const shadow::request_context ctx{client, client};
      if (auto out = g.shadow_router->route(m.topic, as_string_view(m.payload), ctx)) {
        for (auto& s : *out) {
          broker::message reply;
          reply.topic = std::move(s.topic);
          reply.payload = to_buffer(s.payload);
          g.mqtt.publish(reply);
        }
      }
    }
    g.to_rules(m, from, m.topic, {});
    if (g.bridges) g.bridges->offer(m);
  });

  if (g.provisioning) {  // requests to the plane only; replies to the requester only
    for (const auto& t : provisioning_plane::request_topics()) {
      g.reserved.claim({t, reserved_topics::publish::consume, false});
      g.reserved.claim({t + "/+", reserved_topics::publish::refuse, true});
    }
  }
  claim_reserved_topics(g.reserved);
  g.mqtt.on_publish_gate([&g](const broker::client_info&, std::string_view topic) {
    return g.reserved.on_publish(topic);
  });
  g.mqtt.on_subscribe_gate([&g](const broker::client_info&, std::string_view filter) {
    return g.reserved.on_subscribe(filter);
  });
  g.sec->install();  // CONNECT (certificate, password, policy) and authorize hooks
  g.gate.tls_peer = [&g](const net::peer_info& p) { return g.sec->on_tls_peer(p); };
  g.gate.tls_refused = [&g](const net::peer_info& p, const net::tls_refusal& why) {
    g.sec->on_tls_refused(p, why);
  };
  // Malformed packets and protocol violations, as the broker found them (and the
  // transport's decoder before it): client id, reason code and what was wrong.
  g.mqtt.on_client_error([&g](const broker::client_info& info, mqtt::reason_code r,
                              std::string_view why) {
    const std::string code = fmt::format("0x{:02X}", static_cast<unsigned>(r));
    g.log.write(log_level::warn, "protocol_error",
                {{"client_id", info.client_id},
                 {"peer", info.peer != nullptr ? std::string_view(info.peer->address) : ""},
                 {"transport", info.peer != nullptr ? std::string_view(info.peer->transport) : ""},
                 {"reason_code", code},
                 {"reason", mqtt::name(r)},
                 {"error", why}});
  });
  g.gate.ws_upgrade_async = [&g](net::peer_info& p, std::function<void(net::upgrade_verdict)> d) {
    g.sec->on_ws_upgrade_async(p, std::move(d));
  };

  for (const auto& l : g.cfg.listeners) {
    if (l.type == "http") continue;
    net::listener_options lo;
    lo.kind = transport_of(l.type);
    lo.address = l.address;
    lo.port = l.port;
    lo.tls = g.sec->listener_tls(l.tls);
    lo.ws_path = l.ws_path;
    auto port = g.server.listen(lo);
    if (!port) {
      return failure{
          port.error(),
          l.type + " listener " + l.address + ":" + std::to_string(l.port) + ": " + port.describe(),
          {}};
    }
    g.endpoints.push_back({l.type, l.address, *port});
  }
  for (const auto& l : g.cfg.listeners) {
    if (l.type != "http") continue;
    g.add_http_routes();
    net::http_server_options ho;
    ho.address = l.address;
    ho.port = l.port;
    auto port = g.http.listen(ho);
    if (!port) return failure{port.error(), "http listener: " + port.describe(), {}};
    g.endpoints.push_back({l.type, l.address, *port});
    g.http_started = true;
  }
  if (!g.cfg.bridges.empty()) g.bridges = std::make_unique<bridge_set>(g.mqtt, g.cfg.bridges);
  g.server.start(g.gate);
  if (g.bridges) g.bridges->start();
  g.server.every(std::chrono::seconds(1), [&g] {
    g.mqtt.tick();
    g.log.tick();
    g.sec->tick();
    g.jobs->tick();
  });
  if (g.http_started) g.http.start();
  g.started = true;
  return {};
}

void gateway::stop() {
  auto& g = *impl_;
  if (!g.started) return;
  g.started = false;
  if (g.bridges) g.bridges->stop();
  if (g.http_started) g.http.stop();
  g.server.stop();
  if (g.rules) g.rules->stop();
}

const std::vector<endpoint>& gateway::endpoints() const noexcept { return impl_->endpoints; }

std::uint16_t gateway::port(std::string_view type) const noexcept {
  for (const auto& e : impl_->endpoints) {
    if (e.type == type) return e.port;
  }
  return 0;
}

broker::broker& gateway::mqtt_broker() noexcept { return impl_->mqtt; }
std::string gateway::metrics_text() const { return impl_->metrics_text(); }

}  // namespace iotblocks::gateway
