// Private: the plugin's settings, given in mosquitto.conf as `plugin_opt_<name> <value>`
// (mosquitto strips the prefix). docs/scale-out.md lists them.
//
//   auto o = parse_options({{"registry", "/var/lib/iotblocks/registry.db"}}).value();
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/x509/verifier.hpp>

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace iotblocks::mosquitto_plugin {

/// What the plugin writes to mosquitto's log.
enum class log_mode {
  none,       ///< nothing but start-up and store errors
  refusals,   ///< refused connections and denied actions (default)
  decisions,  ///< every connection and every policy decision (debugging)
};

struct plugin_options {
  /// "registry" (required): the registry's SQLite file, or a PostgreSQL URL
  /// (postgresql://…, when the plugin was built with the postgres component).
  std::string registry_path;
  /// "policies": a file or URL; default policies.db beside the registry file, or the
  /// registry's URL.
  std::string policies_path;
  /// "users": the password users' SQLite file (the gateway's data_dir/users.db); empty:
  /// every client needs a certificate.
  std::string users_path;
  std::string region = "us-east-1";         ///< "region": of the ARNs policies are matched on
  std::string account_id = "000000000000";  ///< "account_id": 12 digits
  bool any_account = false;  ///< "any_account": Resource ARNs match any region and account
  x509::profile certificate_profile = x509::profile::aws;  ///< "certificate_profile"
  /// "refresh_ms": how long connected clients may be decided on a store that changed on
  /// disk (a CONNECT always looks); 0 looks at every check.
  std::chrono::milliseconds refresh{1000};
  std::size_t cache_capacity = 256;   ///< "cache_size": decisions kept per connection
  log_mode log = log_mode::refusals;  ///< "log": none, refusals or decisions
};

using option = std::pair<std::string_view, std::string_view>;

/// "postgresql://…" or "postgres://…": a store in PostgreSQL rather than a file.
inline bool is_database_url(std::string_view s) noexcept {
  return s.starts_with("postgresql://") || s.starts_with("postgres://");
}

/// Errors: missing_option (no registry), invalid_option, unknown_option; the message
/// names the setting.
result<plugin_options> parse_options(std::span<const option> options);

}  // namespace iotblocks::mosquitto_plugin
