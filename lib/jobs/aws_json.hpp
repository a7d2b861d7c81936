// Private: the AWS IoT API's JSON shapes of jobs and job executions (ListJobs'
// JobSummary, DescribeJob's Job, the JobExecutionSummary, DescribeJobExecution's
// JobExecution), written by the gateway's AWS API and by `iotblocks jobs`.
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/jobs/model.hpp>

#include <rapidjson/document.h>

#include <cstdint>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN
namespace iotblocks::jobs::detail {

using alloc = rapidjson::Document::AllocatorType;

// `arn_prefix` is "arn:aws:iot:<region>:<account>:"; an ARN is the prefix, the kind,
// "/" and the name.

rapidjson::Value write_job_summary(const job& j, std::string_view arn_prefix, alloc& a);
/// With jobProcessDetails counted from `executions` (the job's); with maintenance windows
/// and `now` (seconds since the epoch) given, scheduledJobRollouts: the next seven starts.
rapidjson::Value write_job(const job& j, const std::vector<execution>& executions,
                           std::string_view arn_prefix, alloc& a, std::int64_t now = 0);
rapidjson::Value write_execution_summary(const execution& e, alloc& a);
/// approximateSecondsBeforeTimedOut from `now` (seconds since the epoch).
rapidjson::Value write_execution(const execution& e, std::int64_t now, std::string_view arn_prefix,
                                 alloc& a);

}  // namespace iotblocks::jobs::detail
IOTBLOCKS_API_END
