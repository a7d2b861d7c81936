// The gateway's configuration: one JSON file with listeners, TLS files, the
// data directory, limits, threads, topic rules, notify topics, metric alarms,
// policies and bridges. Unknown
// keys and wrong types are errors naming the JSON path of the value.
//
//   auto cfg = gateway::parse_config(R"({"listeners":[{"type":"mqtt","port":1883}]})");
//   if (!cfg) std::cerr << cfg.describe();   // e.g. "listeners[0].port: expected 0..65535"
//   gateway::config d = gateway::default_config();  // 1883 MQTT, 8083 WS, 8080 HTTP
#pragma once

#include <iotblocks/broker/options.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/net/bridge.hpp>
#include <iotblocks/net/server.hpp>
#include <iotblocks/x509/issue.hpp>
#include <iotblocks/x509/verifier.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

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

/// One subscription of a notify topic: a webhook, a TCP device or a log line.
struct notify_subscription {
  enum class kind : std::uint8_t { webhook, tcp, log };
  kind type = kind::log;
  std::string url;                    ///< webhook: http:// or https:// URL
  bool raw_message_delivery = false;  ///< webhook: POST the message alone, not SNS's envelope
  std::vector<std::pair<std::string, std::string>> headers;  ///< webhook: extra headers
  std::string host;                                          ///< tcp: device host
  std::uint16_t port = 0;                                    ///< tcp: device port
  std::string payload;           ///< tcp: sent to the device; empty: the message itself
  std::string expect;            ///< tcp: the reply must contain it; empty: any line
  std::uint32_t timeout_ms = 0;  ///< 0: the sink's default (webhook 10 s, tcp 5 s)
};

/// A notify topic (SNS-like) that `sns` actions and alarm actions publish to.
struct notify_topic {
  std::string name;
  std::vector<notify_subscription> subscriptions;
};

/// An access key of the AWS-shaped HTTP API (SigV4; docs/aws-api.md).
struct aws_access_key {
  std::string id;      ///< "access_key_id"
  std::string secret;  ///< "secret_access_key"
  /// "policy": an IoT policy document over iot:* actions (as written); empty: every action.
  std::string policy;
  /// "rate_limit": {"requests_per_second", "burst"}: a token bucket; 0: unlimited (default).
  double requests_per_second = 0;
  double burst = 0;  ///< requests in a burst (default: requests_per_second, at least 1)
};

/// The AWS account the gateway stands in for ("aws" in the config). Every ARN
/// the gateway builds (policy requests of MQTT clients and of the AWS-shaped
/// API, ARNs it returns, registration events) names this region and account.
struct aws_account {
  std::string region = "us-east-1";         ///< "region": [a-z0-9-]{1,32}
  std::string account_id = "000000000000";  ///< "account_id": 12 digits
  /// "any_account": policy Resource ARNs match whatever region and account they
  /// name (policies migrated from several accounts); false: as inside one account.
  bool any_account = false;
};

/// Levels of the operator log (standard error, logfmt).
enum class log_level : std::uint8_t { debug, info, warn, error, off };

/// "log": the operator log: one line per refused handshake, authentication
/// failure, JITR registration, CA problem, policy denial and protocol-error
/// disconnect, rate-limited per event (docs/gateway.md, "Operator log").
struct log_config {
  log_level level = log_level::info;  ///< "level": debug, info, warn, error, off
  std::uint32_t burst = 20;           ///< "burst": lines of one event written at once
  std::uint32_t per_second = 5;       ///< "per_second": lines of one event per second after it
};

/// An AWS IoT custom authorizer (docs/gateway.md, "Custom authorizers"): the
/// operator's function decides each connection that names it.
struct custom_authorizer {
  std::string name;
  std::string url;                   ///< "function": {"url": "http://..."}: POST of the event
  std::vector<std::string> command;  ///< "function": {"command": [...]}: event on stdin
  std::string token_key_name;
  /// "token_signing_public_keys": key name -> PEM public key (RSA or EC).
  std::vector<std::pair<std::string, std::string>> token_signing_public_keys;
  bool signing_disabled = false;
  bool active = true;               ///< "status": "ACTIVE" (default) or "INACTIVE"
  std::uint32_t timeout_ms = 5000;  ///< one invocation
};

/// The EMQX-shaped HTTP authentication and authorization endpoint (POST /emqx/authn and
/// /emqx/authz on the HTTP listeners; docs/scale-out.md).
struct emqx_auth_config {
  bool enabled = false;  ///< "emqx_auth" is in the config
  std::string token;     ///< bearer token EMQX sends; empty: only loopback peers are answered
};

struct config {
  std::vector<listener_config> listeners;
  std::string data_dir = "./iotblocks-data";
  /// "stores": {"shadows": URL}. "sqlite:" (default: shadows.db in data_dir), "sqlite:PATH",
  /// or "postgresql://…" / "postgres://…" (libpq URI; needs the postgres component), which
  /// gateways may share: each shadow change runs under the row's lock in one transaction.
  std::string shadow_store = "sqlite:";
  /// "stores": {"registry": URL, "policies": URL}: the certificate registry (CAs, device
  /// certificates, things) and the policy store. "sqlite:" (default: registry.db /
  /// policies.db in data_dir), "sqlite:PATH", or a PostgreSQL URL that gateways may share:
  /// a change made through one is seen by the others within 1 s (docs/postgres.md).
  std::string registry_store = "sqlite:";
  std::string policy_store = "sqlite:";
  /// "stores": {"jobs": URL}: jobs, executions, job templates and rollouts. "sqlite:"
  /// (default: jobs.db in data_dir), "sqlite:PATH", or a PostgreSQL URL that gateways may
  /// share: reads go to the database, and a write based on rows another gateway changed
  /// since is done again on fresh reads (docs/postgres.md).
  std::string jobs_store = "sqlite:";
  /// "stores": {"thing_groups": URL, "thing_types": URL}: thing groups (hierarchy,
  /// attributes, memberships) and thing types. "sqlite:" (default: thing_groups.db /
  /// thing_types.db in data_dir), "sqlite:PATH", or a PostgreSQL URL that gateways may
  /// share: a change made through one is seen by the others within 1 s (docs/postgres.md).
  std::string thing_groups_store = "sqlite:";
  std::string thing_types_store = "sqlite:";
  std::size_t threads = 0;  ///< 0 = hardware cores
  std::string admin_token;  ///< bearer token of the admin REST API; empty: admin API disabled
  emqx_auth_config emqx_auth;
  net::server_options server;
  broker::broker_options broker;
  std::vector<named_document> rules;  ///< AWS topic-rule documents
  std::vector<notify_topic> notify;   ///< notify topics and their subscriptions
  /// Metric alarms: put-metric-alarm JSON, AlarmName set to the key.
  std::vector<named_document> alarms;
  std::vector<named_document> policies;  ///< AWS IoT policy documents
  /// Fleet provisioning templates by name (docs/provisioning.md); needs `authorize`.
  std::vector<named_document> provisioning_templates;
  /// Pre-provisioning hook functions by Lambda ARN (`name`): "provisioning_hooks".
  std::vector<custom_authorizer> provisioning_hooks;
  /// "provisioning_key_algorithm": the key CreateKeysAndCertificate makes ("p256", the
  /// default, or "rsa2048" as AWS, "rsa3072", "p384", "ed25519").
  x509::key_algorithm provisioning_key_algorithm = x509::key_algorithm::p256;
  /// Policy enforcement: when false (default) every client may do everything.
  bool authorize = false;
  /// Policies attached to every connecting client (by name) when `authorize` is on.
  std::vector<std::string> default_policies;
  std::string bridges_json;  ///< "bridges" as written
  /// Upstream bridges (mosquitto `topic` semantics); see docs/gateway.md.
  std::vector<net::bridge_options> bridges;
  /// Access keys of the AWS-shaped HTTP API (SigV4; docs/aws-api.md).
  std::vector<aws_access_key> aws_access_keys;
  aws_account aws;  ///< "aws": region, account_id, any_account
  /// "certificate_profile": how device chains and registered CAs are verified
  /// ("aws", the default: what AWS IoT Core accepts; "strict": RFC 5280).
  x509::profile certificate_profile = x509::profile::aws;
  log_config log;  ///< "log": level, burst, per_second
  /// Custom authorizers, and the one used when a client names none ("default_authorizer").
  std::vector<custom_authorizer> custom_authorizers;
  std::string default_authorizer;
};

/// Parses a configuration file's text. Errors carry the JSON path (and, for
/// syntax errors, line and column).
result<config> parse_config(std::string_view text);
/// Reads and parses a file.
result<config> load_config(const std::string& path);
/// The embedded default: 127.0.0.1, 1883 MQTT, 8083 WebSocket, 8080 HTTP, ./iotblocks-data.
config default_config();

}  // namespace iotblocks::gateway

IOTBLOCKS_API_END
