// The gateway's HTTP endpoints: publish, Sigfox callback, shadow REST, health,
// metrics; the admin API lives in admin*.cpp.
#include "gateway/aws_api.hpp"
#include "gateway/console.hpp"
#include "gateway/gateway_impl.hpp"
#include "gateway/security.hpp"

#include <iotblocks/topic/syntax.hpp>

#include "core/json.hpp"

#include <fmt/format.h>

#include <mutex>

namespace iotblocks::gateway {
namespace {

net::http_reply error_reply(int status, std::string_view message) {
  rapidjson::Document d;
  d.SetObject();
  d.AddMember("message", json::string_value(message, d.GetAllocator()), d.GetAllocator());
  return {status, json::write(d)};
}

}  // namespace

std::string gateway::impl::metrics_text() const {
  const auto& s = mqtt.stats();
  const auto ss = server.stats();
  std::string out;
  auto metric = [&out](std::string_view name, std::string_view type, std::string_view help,
                       std::uint64_t v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, v);
  };
  metric("iotblocks_mqtt_connected_clients", "gauge", "MQTT clients connected now", s.connected);
  metric("iotblocks_mqtt_connects_total", "counter", "Accepted CONNECTs", s.connects);
  metric("iotblocks_mqtt_disconnects_total", "counter", "Closed sessions", s.disconnects);
  metric("iotblocks_mqtt_rejected_connects_total", "counter", "Refused CONNECTs",
         s.rejected_connects);
  metric("iotblocks_mqtt_messages_in_total", "counter", "Messages accepted", s.messages_in);
  metric("iotblocks_mqtt_messages_out_total", "counter", "Messages delivered", s.messages_out);
  metric("iotblocks_mqtt_messages_dropped_total", "counter", "Messages dropped", s.dropped);
  metric("iotblocks_mqtt_protocol_errors_total", "counter", "Malformed packets", s.protocol_errors);
  metric("iotblocks_mqtt_retained_messages", "gauge", "Retained messages", mqtt.retained_count());
  metric("iotblocks_mqtt_sessions", "gauge", "Sessions (online and offline)", mqtt.session_count());
  metric("iotblocks_net_accepted_total", "counter", "Accepted sockets", ss.accepted);
  metric("iotblocks_net_rejected_total", "counter", "Sockets over a limit", ss.rejected);
  metric("iotblocks_net_open_connections", "gauge", "Open sockets", ss.open);
  metric("iotblocks_net_handshake_failures_total", "counter", "Failed TLS/WS handshakes",
         ss.handshake_failures);
  metric("iotblocks_net_bytes_in_total", "counter", "Bytes read", ss.bytes_in);
  metric("iotblocks_net_bytes_out_total", "counter", "Bytes written", ss.bytes_out);
  if (rules) {
    const auto t = rules->totals();
    metric("iotblocks_rules_evaluated_total", "counter", "Messages evaluated by rules",
           t.evaluated);
    metric("iotblocks_rules_actions_failed_total", "counter", "Rule actions that failed",
           t.actions_failed);
  }
  if (bridges) out += bridges->metrics_text();
  return out;
}

void gateway::impl::add_http_routes() {
  add_console_routes(*this);  // GET / and /console/ (console.cpp)
  add_aws_routes(*this);      // SigV4-signed requests: the AWS-shaped API (aws_api*.cpp)
  http.route("GET", "/health", [this](const net::incoming_request&) {
    return net::http_reply{
        200, fmt::format(R"({{"status":"ok","connected":{}}})", mqtt.stats().connected.load())};
  });
  http.route("GET", "/metrics", [this](const net::incoming_request&) {
    return net::http_reply{200, metrics_text(), "text/plain; version=0.0.4"};
  });

  // POST /topics/{topic}?qos=0|1&retain=true — AWS IoT's HTTP publish.
  http.route("POST", "/topics", [this](const net::incoming_request& r) {
    if (r.path.size() <= 8) return error_reply(400, "missing topic: POST /topics/{topic}");
    broker::message m;
    m.topic = r.path.substr(8);
    if (auto ec = topic::validate_name(m.topic))
      return error_reply(400, "invalid topic: " + ec.message());
    const std::string qos = r.query_param("qos");
    if (!qos.empty() && qos != "0" && qos != "1") return error_reply(400, "qos must be 0 or 1");
    m.qos = qos == "1" ? 1 : 0;
    m.retain = r.query_param("retain") == "true";
    m.payload = to_buffer(r.body);
    mqtt.publish(m);
    return net::http_reply{200, R"({"message":"OK"})"};
  });

  // Sigfox-style callback: a JSON object body published on "sigfox".
  http.route("POST", "/sigfox", [this](const net::incoming_request& r) {
    auto doc = json::parse(r.body);
    if (!doc) return error_reply(400, "body is not JSON: " + doc.describe());
    if (!doc->IsObject()) return error_reply(400, "body must be a JSON object");
    if (json::find(*doc, "device") == nullptr) return error_reply(400, "body has no \"device\"");
    broker::message m;
    m.topic = "sigfox";
    m.payload = to_buffer(r.body);
    mqtt.publish(m);
    return net::http_reply{200, R"({"message":"OK"})"};
  });

  // Shadow REST, as AWS's data plane: GET|POST|DELETE /things/{thing}/shadow[?name=].
  http.route("*", "/things", [this](const net::incoming_request& r) {
    const std::string target = r.query.empty() ? r.path : r.path + "?" + r.query;
    auto res = shadow_router->http(r.method, target, r.body);
    for (auto& s : res.publish) {
      broker::message m;
      m.topic = std::move(s.topic);
      m.payload = to_buffer(s.payload);
      mqtt.publish(m);
    }
    return net::http_reply{res.status, std::move(res.body)};
  });

  // Admin API (admin*.cpp): bearer token from the config; disabled without one.
  add_admin_routes(*this);
  add_admin_iot_routes(*this);  // jobs and groups for the console (admin_iot.cpp)
  add_emqx_routes(*this);       // EMQX's HTTP authenticator and authorizer (emqx_routes.cpp)
}

}  // namespace iotblocks::gateway
