// Errors of the shadow component: one value per message the AWS IoT Device Shadow
// service documents, each with its HTTP status code.
//
//   std::error_code ec = iotblocks::shadow::error::version_conflict;
//   iotblocks::shadow::http_status(ec);   // 409
//   ec.message();                          // "Version conflict"
#pragma once

#include <iotblocks/core/export.hpp>

#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::shadow {

enum class error {
  invalid_json = 1,      ///< 400 Invalid JSON (also: not an object, null inside an array)
  missing_state,         ///< 400 Missing required node: state
  state_not_object,      ///< 400 State node must be an object
  desired_not_object,    ///< 400 Desired node must be an object
  reported_not_object,   ///< 400 Reported node must be an object
  invalid_version,       ///< 400 Invalid version
  invalid_client_token,  ///< 400 Invalid clientToken (not a string, or over the limit)
  too_deep,              ///< 400 JSON contains too many levels of nesting; maximum is N
  invalid_state_node,    ///< 400 State contains an invalid node: 'key'
  invalid_thing_name,    ///< 400 Invalid thing name
  invalid_shadow_name,   ///< 400 Invalid shadow name
  unauthorized,          ///< 401 Unauthorized
  forbidden,             ///< 403 Forbidden
  thing_not_found,       ///< 404 Thing not found
  shadow_not_found,      ///< 404 No shadow exists with name: 'name'
  method_not_allowed,    ///< 405 (HTTP API only)
  version_conflict,      ///< 409 Version conflict
  payload_too_large,     ///< 413 The payload exceeds the maximum size allowed
  unsupported_encoding,  ///< 415 Unsupported documented encoding; supported encoding is UTF-8
  too_many_requests,     ///< 429 Too many requests (in flight on one connection)
  internal_failure,      ///< 500 Internal service failure (e.g. the store failed)
  not_a_shadow_topic,    ///< the topic is not $aws/things/{thing}/shadow[/name/{name}]/{op}
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// The HTTP status code of a shadow error (200 for no error, 500 for foreign codes).
int http_status(std::error_code ec) noexcept;

}  // namespace iotblocks::shadow

template <>
struct std::is_error_code_enum<iotblocks::shadow::error> : std::true_type {};

IOTBLOCKS_API_END
