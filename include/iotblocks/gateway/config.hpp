// The gateway's configuration: one JSON file with listeners, TLS files, the
// data directory, limits, threads, topic rules, policies and bridges. Unknown
// keys and wrong types are errors naming the JSON path of the value.
//
//   auto cfg = gateway::parse_config(R"({"listeners":[{"type":"mqtt","port":1883}]})");
//   if (!cfg) std::cerr << cfg.describe();   // e.g. "listeners[0].port: expected 0..65535"
//   gateway::config d = gateway::default_config();  // 1883 MQTT, 8083 WS, 8080 HTTP
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/gateway/broker.hpp>
#include <iotblocks/net/bridge.hpp>
#include <iotblocks/net/server.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::gateway {

/// One listening socket. `type`: "mqtt" (TCP), "mqtts" (TLS), "ws", "wss" or "http".
struct listener_config {
  std::string type = "mqtt";
  std::string address = "127.0.0.1";
  std::uint16_t port = 1883;  ///< 0 picks a free port
  net::tls_options tls;       ///< mqtts / wss: cert_file, key_file, ca_file, client cert flags
  std::string ws_path = "/mqtt";
};

struct named_document {
  std::string name;
  std::string json;  ///< the document as written in the config
};

struct config {
  std::vector<listener_config> listeners;
  std::string data_dir = "./iotblocks-data";
  std::size_t threads = 0;  ///< 0 = hardware cores
  std::string admin_token;  ///< bearer token of the admin REST API; empty: admin API disabled
  net::server_options server;
  broker_options broker;
  std::vector<named_document> rules;     ///< AWS topic-rule documents
  std::vector<named_document> policies;  ///< AWS IoT policy documents
  /// Policy enforcement: when false (default) every client may do everything.
  bool authorize = false;
  /// Policies attached to every connecting client (by name) when `authorize` is on.
  std::vector<std::string> default_policies;
  std::string bridges_json;  ///< "bridges" as written
  /// Upstream bridges (mosquitto `topic` semantics); see docs/gateway.md.
  std::vector<net::bridge_options> bridges;
};

/// Parses a configuration file's text. Errors carry the JSON path (and, for
/// syntax errors, line and column).
result<config> parse_config(std::string_view text);
/// Reads and parses a file.
result<config> load_config(const std::string& path);
/// The embedded default: 127.0.0.1, 1883 MQTT, 8083 WebSocket, 8080 HTTP, ./iotblocks-data.
config default_config();

}  // namespace iotblocks::gateway
