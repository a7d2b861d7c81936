#include <iotblocks/core/error.hpp>
#include <iotblocks/shadow/error.hpp>

namespace iotblocks::shadow {
namespace {

// The messages are AWS IoT's, so that device code matching on them keeps working.
const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::invalid_json: return "Invalid JSON";
    case error::missing_state: return "Missing required node: state";
    case error::state_not_object: return "State node must be an object";
    case error::desired_not_object: return "Desired node must be an object";
    case error::reported_not_object: return "Reported node must be an object";
    case error::invalid_version: return "Invalid version";
    case error::invalid_client_token: return "Invalid clientToken";
    case error::too_deep: return "JSON contains too many levels of nesting";
    case error::invalid_state_node: return "State contains an invalid node";
    case error::invalid_thing_name: return "Invalid thing name";
    case error::invalid_shadow_name: return "Invalid shadow name";
    case error::unauthorized: return "Unauthorized";
    case error::forbidden: return "Forbidden";
    case error::thing_not_found: return "Thing not found";
    case error::shadow_not_found: return "No shadow exists with name";
    case error::method_not_allowed: return "Method not allowed";
    case error::version_conflict: return "Version conflict";
    case error::payload_too_large: return "The payload exceeds the maximum size allowed";
    case error::unsupported_encoding:
      return "Unsupported documented encoding; supported encoding is UTF-8";
    case error::too_many_requests: return "Too many requests";
    case error::internal_failure: return "Internal service failure";
    case error::not_a_shadow_topic: return "not a shadow request topic";
  }
  return "unknown iotblocks.shadow error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return iotblocks::detail::lasting_category<&message>("iotblocks.shadow");
}

int http_status(std::error_code ec) noexcept {
  if (!ec) return 200;
  if (ec.category() != error_category()) return 500;
  switch (static_cast<error>(ec.value())) {
    case error::unauthorized: return 401;
    case error::forbidden: return 403;
    case error::thing_not_found:
    case error::shadow_not_found:
    case error::not_a_shadow_topic: return 404;
    case error::method_not_allowed: return 405;
    case error::version_conflict: return 409;
    case error::payload_too_large: return 413;
    case error::unsupported_encoding: return 415;
    case error::too_many_requests: return 429;
    case error::internal_failure: return 500;
    default: return 400;
  }
}

}  // namespace iotblocks::shadow
