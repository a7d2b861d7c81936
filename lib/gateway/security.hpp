// Private: the gateway's security layer. TLS client authentication through
// the certificate registry (with just-in-time registration events), username
// and password for legacy devices, policy sessions per connection built from
// the certificate, the thing and the CONNECT, the `iot_registry` rule action,
// the `get_thing_shadow` SQL function, the gateway's own device CA and the
// admin REST API (admin*.cpp).
//
//   security sec{cfg, broker};
//   sec.open(data_dir).value();        // registry.db, policies.db, users.db, device CA
//   sec.install();                     // CONNECT / authorize hooks on the broker
//   gate.tls_peer = [&](auto& p) { return sec.on_tls_peer(p); };
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/gateway/aws_sigv4.hpp>
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/server.hpp>
#include <iotblocks/policy/evaluate.hpp>
#include <iotblocks/policy/store.hpp>
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/registry/thing_groups.hpp>
#include <iotblocks/registry/users.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/shadow/service.hpp>
#include <iotblocks/sql/functions.hpp>
#include <iotblocks/x509/issue.hpp>
#include <iotblocks/x509/verifier.hpp>

#include "gateway/custom_auth_invoke.hpp"
#include "gateway/operator_log.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::gateway {

namespace detail {

// Password users live in the registry component (shared with the mosquitto plugin).
using registry::hash_password;
using registry::user_store;
using registry::verify_password;

/// The gateway's device CA: an ECDSA P-256 CA made on first start and kept in
/// data_dir (device-ca.pem, device-ca.key with mode 0600).
struct device_ca {
  x509::certificate certificate;
  x509::private_key key;
  static result<device_ca> load_or_create(const std::filesystem::path& dir);
};

}  // namespace detail

/// PBKDF2-HMAC-SHA256 iterations of stored passwords.
inline constexpr std::uint32_t password_iterations = registry::password_iterations;

/// The principal that carries the config's default_policies in the policy store.
inline constexpr std::string_view default_principal = registry::users_principal;

/// Distinct objects: safe. Shared objects: safe once open() returned (hooks run on
/// connection threads; admin calls on the HTTP thread).
class security {
 public:
  security(const config& cfg, broker::broker& b, operator_log& log);
  ~security();

  /// Opens registry.db (when the registry is on), policies.db and users.db in `dir`,
  /// loads config policies and users, and the device CA.
  result<void> open(const std::filesystem::path& dir);
  /// The TLS options a listener gets: with the registry on, ca_file is checked
  /// here (as extra trust) rather than by OpenSSL, so registered CAs work too.
  net::tls_options listener_tls(const net::tls_options& tls) const;
  /// Installs the CONNECT and authorize hooks on the broker.
  void install();
  /// The TLS handshake hook (net::handler::on_tls_peer).
  bool on_tls_peer(const net::peer_info& peer);
  /// The WebSocket upgrade hook (net::handler::on_ws_upgrade): a presigned SigV4 URL
  /// (service iotdevicegateway) is verified against the config's aws_access_keys and
  /// sets peer.identity to "aws-sigv4:<key id>"; a bad, stale or unknown one gets 403.
  net::upgrade_verdict on_ws_upgrade(net::peer_info& peer);
  /// The same, and a request carrying custom-auth credentials (x-amz-customauthorizer-name
  /// in the headers or query string) decided by its authorizer before the upgrade: 401
  /// when refused, 503 when the function failed (net::handler::on_ws_upgrade_async).
  void on_ws_upgrade_async(net::peer_info& peer, std::function<void(net::upgrade_verdict)> done);
  /// A handshake refused inside TLS (net::handler::on_tls_refused): one tls_refused line
  /// with the verification error and the certificate id.
  void on_tls_refused(const net::peer_info& peer, const net::tls_refusal& why);
  /// Once a second: custom-auth connections past disconnectAfterInSeconds are closed,
  /// those past refreshAfterInSeconds have their authorizer asked again.
  void tick();
  /// Adds get_thing_shadow to the rules' SQL functions (call before rules are added).
  void add_sql_functions(rules::engine_options& o, shadow::service& shadows);
  /// Registers the iot_registry rule action.
  void add_rule_actions(rules::engine& e);

  /// Policies attached to thing groups (principal "thinggroup/<name>", see
  /// group_principal) apply to the things in them and in their descendants. The groups
  /// outlive the connections; call changed() when memberships change.
  void use_thing_groups(const registry::thing_groups* groups) noexcept { groups_ = groups; }
  /// The principal a policy attached to thing group `name` is stored under.
  static std::string group_principal(std::string_view name) {
    return "thinggroup/" + std::string(name);
  }

  registry::registry* reg() noexcept { return reg_ ? &*reg_ : nullptr; }
  policy::store& policies() noexcept { return *policies_; }
  detail::user_store& users() noexcept { return *users_; }
  const detail::device_ca& ca() const noexcept { return *ca_; }
  bool passwords_enabled() const noexcept;
  /// The SQL functions given to the rules (for checking SQL in the admin API).
  const std::shared_ptr<const sql::function_registry>& sql_functions() const noexcept {
    return sql_functions_;
  }
  /// Called after attachments or things change (moves the policy generation).
  void changed() noexcept;
  /// JITP (provisioning_plane::provision_just_in_time): called on the handshake thread for a
  /// certificate just registered by a CA with auto-registration; true when a template was
  /// applied (the handshake is then decided again).
  std::function<result<bool>(const std::string& certificate_id, const std::string& ca_id)>
      jit_provisioner;
  /// Issues a device certificate under the device CA for `thing`.
  result<std::pair<x509::certificate, x509::private_key>> issue_device(
      std::string_view thing, x509::key_algorithm key = x509::key_algorithm::p256);

  struct connection_state;

 private:
  mqtt::reason_code authenticate(const mqtt::connect_view& p, broker::client_info& info);
  bool authorize(const broker::client_info& info, broker::action a, std::string_view topic);
  /// policy_denied: the action, resource and deciding statement ("<policy>#<index>", sid).
  void log_denial(const broker::client_info& info, std::string_view action,
                  std::string_view resource, const policy::decision& d);
  /// Checks iot:Connect for `st` and makes it the connection's principal.
  mqtt::reason_code admit(std::shared_ptr<connection_state> st, broker::client_info& info);
  void publish_event(const registry::registration_event& e);

  const config& cfg_;
  broker::broker& broker_;
  operator_log& log_;
  std::optional<registry::registry> reg_;
  const registry::thing_groups* groups_ = nullptr;
  std::optional<policy::store> policies_;
  std::unique_ptr<detail::user_store> users_;
  std::optional<detail::device_ca> ca_;
  x509::verifier extra_trust_;   ///< the listeners' ca_file certificates
  aws::sigv4_verifier ws_keys_;  ///< aws_access_keys, for presigned WebSocket URLs
  /// Each access key's policy (a key without one is absent: it may do everything).
  std::map<std::string, std::shared_ptr<const policy::policy_set>, std::less<>> key_policies_;
  std::unique_ptr<custom_auth::service> authorizers_;
  bool has_extra_trust_ = false;
  std::shared_ptr<const sql::function_registry> sql_functions_;
};

/// Whether the registry is on for `cfg` (explicit setting, else a TLS listener
/// asks for client certificates).
bool registry_enabled(const config& cfg) noexcept;

/// Admin REST routes (admin*.cpp).
void add_admin_routes(gateway::impl& g);
/// POST /emqx/authn and /emqx/authz when the config has "emqx_auth" (emqx_routes.cpp).
void add_emqx_routes(gateway::impl& g);

}  // namespace iotblocks::gateway
