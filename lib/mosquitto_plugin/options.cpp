#include "mosquitto_plugin/options.hpp"

#include "mosquitto_plugin/error.hpp"

#include <charconv>
#include <filesystem>

namespace iotblocks::mosquitto_plugin {
namespace {

constexpr std::int64_t max_refresh_ms = 3'600'000;
constexpr std::size_t max_cache_size = 1 << 20;

failure bad(std::string_view name, std::string_view value, std::string_view expected) {
  return failure{error::invalid_option,
                 "plugin_opt_" + std::string(name) + " \"" + std::string(value) + "\": expected " +
                     std::string(expected),
                 {}};
}

bool parse_uint(std::string_view text, std::int64_t max, std::int64_t& out) {
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && p == end && out >= 0 && out <= max;
}

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

result<plugin_options> parse_options(std::span<const option> options) {
  plugin_options o;
  for (const auto& [name, value] : options) {
    if (name == "registry") {
      if (value.empty()) {
        return bad(name, value, "the path of the registry's SQLite file, or a postgresql:// URL");
      }
      o.registry_path = value;
    } else if (name == "policies") {
      if (value.empty()) return bad(name, value, "the path of the policy store's SQLite file");
      o.policies_path = value;
    } else if (name == "users") {
      if (value.empty() || is_database_url(value)) {
        return bad(name, value, "the path of the password users' SQLite file (users.db)");
      }
      o.users_path = value;
    } else if (name == "region") {
      if (value.empty() || value.size() > 32) return bad(name, value, "an AWS region name");
      o.region = value;
    } else if (name == "account_id") {
      if (value.size() != 12 || !all_digits(value)) return bad(name, value, "12 digits");
      o.account_id = value;
    } else if (name == "any_account") {
      if (value != "true" && value != "false") return bad(name, value, "true or false");
      o.any_account = value == "true";
    } else if (name == "certificate_profile") {
      auto p = x509::parse_profile(value);
      if (!p) return bad(name, value, "aws or strict");
      o.certificate_profile = *p;
    } else if (name == "refresh_ms") {
      std::int64_t ms = 0;
      if (!parse_uint(value, max_refresh_ms, ms)) return bad(name, value, "0 to 3600000");
      o.refresh = std::chrono::milliseconds(ms);
    } else if (name == "cache_size") {
      std::int64_t n = 0;
      if (!parse_uint(value, static_cast<std::int64_t>(max_cache_size), n) || n < 2) {
        return bad(name, value, "2 to 1048576");
      }
      o.cache_capacity = static_cast<std::size_t>(n);
    } else if (name == "log") {
      if (value == "none") {
        o.log = log_mode::none;
      } else if (value == "refusals") {
        o.log = log_mode::refusals;
      } else if (value == "decisions") {
        o.log = log_mode::decisions;
      } else {
        return bad(name, value, "none, refusals or decisions");
      }
    } else {
      return failure{error::unknown_option, "unknown setting plugin_opt_" + std::string(name), {}};
    }
  }
  if (o.registry_path.empty()) {
    return failure{
        error::missing_option, "plugin_opt_registry (the registry's SQLite file) is required", {}};
  }
  if (o.policies_path.empty()) {
    o.policies_path =
        is_database_url(o.registry_path)
            ? o.registry_path
            : (std::filesystem::path(o.registry_path).parent_path() / "policies.db").string();
  }
  if (is_database_url(o.registry_path) != is_database_url(o.policies_path)) {
    return failure{error::invalid_option,
                   "plugin_opt_registry and plugin_opt_policies: both files or both PostgreSQL "
                   "URLs",
                   {}};
  }
  return o;
}

}  // namespace iotblocks::mosquitto_plugin
