// AWS IoT Jobs' job configurations as JSON, in CreateJob's shapes: jobExecutionsRolloutConfig,
// abortConfig and jobExecutionsRetryConfig, parsed (with AWS's ranges checked) and written.
//
//   auto r = iotblocks::jobs::parse_rollout_config(R"({"maximumPerMinute":10})");
//   // r->maximum_per_minute == 10
//   auto a = iotblocks::jobs::parse_abort_config(
//       R"({"criteriaList":[{"failureType":"FAILED","action":"CANCEL",
//           "thresholdPercentage":50,"minNumberOfExecutedThings":4}]})");
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/jobs/model.hpp>

#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::jobs {

/// jobExecutionsRolloutConfig. maximumPerMinute defaults to 1000 (AWS) and is required with
/// exponentialRate. Errors: invalid_json (not JSON, too deep), invalid_request (a member of
/// the wrong type or out of range, an unknown member); the message names the member.
result<rollout_config> parse_rollout_config(std::string_view json, const limits& l = {});
/// abortConfig ({"criteriaList":[…]}, action CANCEL). Errors as parse_rollout_config.
result<std::vector<abort_criterion>> parse_abort_config(std::string_view json,
                                                        const limits& l = {});
/// jobExecutionsRetryConfig ({"criteriaList":[…]}). Errors as parse_rollout_config.
result<std::vector<retry_criterion>> parse_retry_config(std::string_view json,
                                                        const limits& l = {});

/// A job template as one JSON object in DescribeJobTemplate's shape (jobTemplateId,
/// description, document as a string, createdAt in seconds, timeoutConfig and the three
/// configurations); parse_job_template reads it back. Errors as parse_rollout_config.
std::string to_json(const job_template& t);
result<job_template> parse_job_template(std::string_view json, const limits& l = {});

/// The configurations as AWS shapes them (DescribeJob); parse_* reads them back.
std::string to_json(const rollout_config& c);
std::string to_json(const std::vector<abort_criterion>& criteria);
std::string to_json(const std::vector<retry_criterion>& criteria);

}  // namespace iotblocks::jobs

IOTBLOCKS_API_END
