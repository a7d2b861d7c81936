#include "mosquitto_plugin/error.hpp"

#include <iotblocks/core/error.hpp>

namespace iotblocks::mosquitto_plugin {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::missing_option: return "a required plugin_opt_ setting is missing";
    case error::invalid_option: return "a plugin_opt_ setting has an invalid value";
    case error::unknown_option: return "unknown plugin_opt_ setting";
    case error::store_unavailable: return "the registry or policy store cannot be read";
  }
  return "unknown iotblocks.mosquitto_plugin error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return iotblocks::detail::lasting_category<&message>("iotblocks.mosquitto_plugin");
}

}  // namespace iotblocks::mosquitto_plugin
