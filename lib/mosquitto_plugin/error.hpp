// Private: errors of the mosquitto plugin (category "iotblocks.mosquitto_plugin"): its
// plugin_opt_ settings and the shared store files it reads.
#pragma once

#include <system_error>

namespace iotblocks::mosquitto_plugin {

enum class error {
  missing_option = 1,  ///< a required plugin_opt_ setting is absent
  invalid_option,      ///< a plugin_opt_ value does not parse
  unknown_option,      ///< a plugin_opt_ name this plugin does not know
  store_unavailable,   ///< the registry or policy file is missing or does not open
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace iotblocks::mosquitto_plugin

template <>
struct std::is_error_code_enum<iotblocks::mosquitto_plugin::error> : std::true_type {};
