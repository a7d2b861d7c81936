#include <iotblocks/core/error.hpp>

namespace iotblocks::core {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::invalid_json: return "invalid JSON";
    case error::json_too_deep: return "JSON nesting too deep";
    case error::invalid_argument: return "invalid argument";
    case error::limit_exceeded: return "limit exceeded";
    case error::not_found: return "not found";
    case error::io_error: return "I/O error";
    case error::invalid_hex: return "invalid hex string";
    case error::invalid_base64: return "invalid base64 string";
    case error::invalid_percent_encoding: return "invalid percent-encoding";
  }
  return "unknown iotblocks.core error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return detail::lasting_category<&message>("iotblocks.core");
}

}  // namespace iotblocks::core
