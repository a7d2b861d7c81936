// Parsing the jobs device API: request topics and request payloads, with AWS's rules.
//
//   auto t = iotblocks::jobs::parse_topic("$aws/things/lamp/jobs/fw-1/update");
//   // t->thing == "lamp", t->job_id == "fw-1", t->op == operation::update
//   auto r = iotblocks::jobs::parse_request(operation::update,
//                                           R"({"status":"SUCCEEDED","expectedVersion":2})");
//   // r->update.status == execution_status::succeeded
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/jobs/model.hpp>

#include <string>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::jobs {

/// The four device operations.
enum class operation {
  get_pending,  ///< $aws/things/{thing}/jobs/get            GetPendingJobExecutions
  start_next,   ///< $aws/things/{thing}/jobs/start-next     StartNextPendingJobExecution
  describe,     ///< $aws/things/{thing}/jobs/{jobId}/get    DescribeJobExecution
  update        ///< $aws/things/{thing}/jobs/{jobId}/update UpdateJobExecution
};

/// A parsed request topic; views into the topic.
struct jobs_topic {
  std::string_view thing;
  std::string_view job_id;  ///< describe and update; "$next" for describe of the next one
  operation op = operation::get_pending;
};

/// Splits a request topic. Errors: not_a_jobs_topic (not under $aws/things/{thing}/jobs/,
/// or a reply/notify topic the service publishes itself: route it as usual), invalid_topic
/// (under it but no API, or an invalid thing name or job id).
result<jobs_topic> parse_topic(std::string_view topic, const limits& l = {});

/// "$aws/things/{thing}/jobs".
std::string topic_prefix(std::string_view thing);

/// A parsed request payload (owning).
struct request {
  std::string client_token;
  update_request update;             ///< status, statusDetails, expectedVersion, …
  bool include_job_document = true;  ///< describe: default true; update: default false
  bool include_execution_state = false;
};

/// Parses the payload of `op` (empty means {}); unknown fields are ignored. Errors:
/// invalid_json (not UTF-8 JSON, too large, too deep), invalid_request (not an object, a
/// field of the wrong type, an invalid clientToken, statusDetails or stepTimeoutInMinutes,
/// an unknown status); the failure's message says which field.
result<request> parse_request(operation op, std::string_view payload, const limits& l = {});

/// The request's clientToken if it has a valid one (for /rejected replies), else "".
std::string client_token_of(std::string_view payload, const limits& l = {});

}  // namespace iotblocks::jobs

IOTBLOCKS_API_END
