#include <iotblocks/core/error.hpp>
#include <iotblocks/jobs/error.hpp>

namespace iotblocks::jobs {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::invalid_topic: return "Topic does not map to a jobs API";
    case error::invalid_json: return "Payload is not valid UTF-8 JSON";
    case error::invalid_request: return "Invalid request";
    case error::invalid_state_transition: return "Invalid state transition";
    case error::resource_not_found: return "Job execution not found";
    case error::version_mismatch: return "Expected version does not match";
    case error::internal_error: return "Internal error";
    case error::request_throttled: return "Request throttled";
    case error::terminal_state_reached: return "Job execution is in a terminal state";
    case error::resource_already_exists: return "Job already exists";
    case error::conflict: return "Job status does not allow the operation";
    case error::limit_exceeded: return "Limit exceeded";
    case error::not_a_jobs_topic: return "not a jobs request topic";
    case error::store_changed: return "changed by another process since read";
  }
  return "unknown iotblocks.jobs error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return iotblocks::detail::lasting_category<&message>("iotblocks.jobs");
}

std::string_view aws_code(std::error_code ec) noexcept {
  if (ec.category() != error_category()) return "InternalError";
  switch (static_cast<error>(ec.value())) {
    case error::invalid_topic: return "InvalidTopic";
    case error::invalid_json: return "InvalidJson";
    case error::invalid_request: return "InvalidRequest";
    case error::invalid_state_transition: return "InvalidStateTransition";
    case error::resource_not_found: return "ResourceNotFound";
    case error::version_mismatch: return "VersionMismatch";
    case error::internal_error: return "InternalError";
    case error::request_throttled: return "RequestThrottled";
    case error::terminal_state_reached: return "TerminalStateReached";
    case error::resource_already_exists: return "ResourceAlreadyExists";
    case error::conflict: return "Conflict";
    case error::limit_exceeded: return "LimitExceeded";
    case error::not_a_jobs_topic: return "InvalidTopic";
    case error::store_changed: return "InternalError";
  }
  return "InternalError";
}

}  // namespace iotblocks::jobs
