// The options the service workers (`shadow worker`, `jobs worker`) share: the broker,
// the store, the shared subscription, TLS and flow control.
#pragma once

#include "command.hpp"

#include <cstdint>
#include <string>

namespace iotblocks::cli {

struct service_worker_options {
  std::string broker = "mqtt://127.0.0.1:1883";
  std::string store;
  std::string group;
  std::string client_id;
  std::string request_prefix;
  std::string ca_file, cert_file, key_file;
  bool insecure = false;
  unsigned stats_seconds = 0;
  unsigned reply_qos = 1;
  unsigned max_in_flight = 256;
  std::uint32_t session_expiry = 3600;
};

/// Adds the shared options to `w`. `service` names the client id's default
/// (<group>-<service>-<pid>); the help texts of --store, --share-group and --reply-qos
/// are the worker's.
inline void add_service_worker_options(CLI::App& w, service_worker_options& a, const char* service,
                                       const char* store_help, const char* group_help,
                                       const char* reply_help) {
  w.add_option("--broker", a.broker, "mqtt://host[:port], mqtts://host[:port] or host[:port]")
      ->capture_default_str();
  w.add_option("--store", a.store, store_help)->required();
  w.add_option("--share-group", a.group, group_help)->capture_default_str();
  w.add_option("--request-prefix", a.request_prefix,
               "the requests arrive on <prefix>things/… instead of $aws/things/… (a bridge's "
               "remapping, for brokers whose shared subscriptions miss $ topics: mosquitto 2.0)");
  w.add_option("--client-id", a.client_id,
               std::string("MQTT client id; a named worker keeps its session (default <group>-") +
                   service + "-<pid>)");
  w.add_option("--ca-file", a.ca_file, "CAs that verify the broker (turns TLS on)");
  w.add_option("--cert", a.cert_file, "client certificate chain for mutual TLS (turns TLS on)");
  w.add_option("--key", a.key_file, "its private key");
  w.add_flag("--insecure", a.insecure, "TLS: accept any broker certificate");
  w.add_option("--reply-qos", a.reply_qos, reply_help)
      ->check(CLI::Range(0, 1))
      ->capture_default_str();
  w.add_option("--max-in-flight", a.max_in_flight,
               "most unacknowledged requests held (MQTT 5 Receive Maximum)")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  w.add_option("--session-expiry", a.session_expiry,
               "seconds the broker keeps a named worker's session (--client-id)")
      ->capture_default_str();
  w.add_option("--stats", a.stats_seconds, "print counts every N seconds (0: only at exit)");
}

/// Refuses (usage) a share group or a request prefix that cannot stand in a topic filter.
inline void check_service_worker_options(const service_worker_options& a) {
  if (a.group.empty() || a.group.find_first_of("/+#") != std::string::npos)
    throw error(usage, "--share-group: expected a name without '/', '+' or '#'");
  if (!a.request_prefix.empty() && (!a.request_prefix.ends_with('/') ||
                                    a.request_prefix.find_first_of("+#") != std::string::npos))
    throw error(usage, "--request-prefix: expected topic levels ending in '/', no wildcards");
}

}  // namespace iotblocks::cli
