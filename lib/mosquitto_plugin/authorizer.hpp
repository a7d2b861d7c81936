// Private: the plugin's decisions without mosquitto's types, so that the C entry points
// (plugin.cpp) stay thin. A CONNECT is authenticated through the registry (just-in-time
// registration included), or by username and password against the password users
// (registry::user_store, policies of registry::users_principal), and checked for iot:Connect; each
// later publish, subscribe and delivery is checked with the policies attached to the certificate
// and the connection's context, answers cached per connection until the stores change on disk.
//
//   authorizer a{opts, log, publish};
//   if (!a.connect(client, "probe_1", "127.0.0.1", &leaf, now)) refuse();
//   a.authorize(client, access::publish, "Greenhouse/probe_1", false, now);
//   a.disconnect(client);
#pragma once

#include <iotblocks/policy/cache.hpp>
#include <iotblocks/policy/context.hpp>
#include <iotblocks/registry/authentication.hpp>
#include <iotblocks/registry/users.hpp>
#include <iotblocks/x509/certificate.hpp>

#include "mosquitto_plugin/options.hpp"
#include "mosquitto_plugin/shared_store.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace iotblocks::mosquitto_plugin {

enum class log_level { debug, notice, warning, error };
enum class access { publish, subscribe, receive, unsubscribe };

/// Distinct objects: safe. Shared objects: safe (one mutex).
class authorizer {
 public:
  using time_point = shared_store::time_point;
  using log_fn = std::function<void(log_level, const std::string&)>;
  using publish_fn = std::function<void(const registry::registration_event&)>;

  authorizer(plugin_options o, log_fn log_sink, publish_fn publish_sink);
  ~authorizer();

  /// Authenticates a CONNECT (`leaf`: the TLS client certificate, null without one) and
  /// checks iot:Connect; on success remembers the connection under `key` (replacing any
  /// older one). Refused: no certificate, stores unavailable, the registry's refusal
  /// (unknown CA, unknown, inactive, revoked, pending certificate), iot:Connect denied.
  bool connect(const void* key, std::string_view client_id, std::string_view address,
               const x509::certificate* leaf, time_point now);
  /// Authenticates a CONNECT without a certificate by username and password against the
  /// users file (plugin_opt_users) and checks iot:Connect with the users' policies.
  /// Refused: no users file configured or present, no username or password, a wrong one.
  bool connect_with_password(const void* key, std::string_view client_id, std::string_view address,
                             const std::string* username, const std::string* password,
                             time_point now);
  /// Whether connection `key` may act on `topic` (a filter for subscribe). Denied for an
  /// unknown connection, unavailable stores, a certificate no longer ACTIVE or a password
  /// user no longer in the users file (looked up at most every refresh_ms).
  bool authorize(const void* key, access a, std::string_view topic, bool retain, time_point now);
  /// Forgets connection `key` for everything but its will: mosquitto reports the
  /// disconnection before it checks the will's publish, so the last `closed_capacity`
  /// closed connections are kept for iot:Publish (a will sent later is denied).
  void disconnect(const void* key);
  static constexpr std::size_t closed_capacity = 1024;

  std::size_t connections() const;

 private:
  struct connection;
  bool admit(const void* key, std::unique_ptr<connection> c, const std::string& who);
  void rebind(connection& c);
  bool decide(connection& c, policy::action_id action, std::string_view type,
              std::string_view name);
  void log(log_level level, const std::string& text) const;

  plugin_options opts_;
  log_fn log_;
  publish_fn publish_;
  mutable std::mutex mutex_;
  shared_store store_;
  std::unique_ptr<registry::user_store> users_;  ///< opened at the first password CONNECT
  std::unordered_map<const void*, std::unique_ptr<connection>> connections_;
  /// Closed connections, oldest first, for their wills.
  std::deque<std::pair<const void*, std::unique_ptr<connection>>> closed_;
};

}  // namespace iotblocks::mosquitto_plugin
