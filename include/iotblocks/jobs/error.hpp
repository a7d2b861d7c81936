// Errors of the jobs component: the error codes of AWS IoT Jobs' device MQTT API (each
// with the `code` string of its /rejected reply) and those of the control-plane operations.
//
//   std::error_code ec = iotblocks::jobs::error::version_mismatch;
//   iotblocks::jobs::aws_code(ec);   // "VersionMismatch"
#pragma once

#include <iotblocks/core/export.hpp>

#include <string_view>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::jobs {

enum class error {
  invalid_topic = 1,  ///< InvalidTopic: a $aws/things/{thing}/jobs/… topic with no API
  invalid_json,       ///< InvalidJson: the payload is not UTF-8 JSON
  invalid_request,    ///< InvalidRequest: a field is missing, of the wrong type or out of range
  invalid_state_transition,  ///< InvalidStateTransition: the state machine refuses the change
  resource_not_found,        ///< ResourceNotFound: no such job execution (or job)
  version_mismatch,          ///< VersionMismatch: expectedVersion is not the current version
  internal_error,            ///< InternalError: the store failed
  request_throttled,         ///< RequestThrottled
  terminal_state_reached,    ///< TerminalStateReached: the execution is already terminal
  resource_already_exists,   ///< control plane: a job with this id exists
  conflict,                  ///< control plane: the job's status does not allow the operation
  limit_exceeded,            ///< control plane: too many targets, document too large
  not_a_jobs_topic,          ///< the topic is not under $aws/things/{thing}/jobs/ (route as usual)
  /// A store's commit found rows that another process changed since this operation read them
  /// (nothing written): read again and retry. The service retries; InternalError if it gives up.
  store_changed,
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// The `code` field of a /rejected reply: "InvalidTopic", "VersionMismatch", …
/// ("InternalError" for foreign codes).
std::string_view aws_code(std::error_code ec) noexcept;

}  // namespace iotblocks::jobs

template <>
struct std::is_error_code_enum<iotblocks::jobs::error> : std::true_type {};

IOTBLOCKS_API_END
