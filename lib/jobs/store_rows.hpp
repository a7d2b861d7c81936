// Private: the text columns every jobs store writes the same way (jobs::sqlite_store and
// postgres::jobs_store): statusDetails, a job's targets and its configuration object.
#pragma once

#include <iotblocks/jobs/model.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::jobs::detail {

/// statusDetails as a JSON object of strings.
std::string details_json(const status_details& d);
/// Reads details_json()'s text into `out`; false when it is not an object of strings.
bool read_details(std::string_view text, status_details& out);

/// CreateJob's targets as a JSON array of strings.
std::string targets_json(const std::vector<std::string>& targets);
/// Reads targets_json()'s text into `out`; false when it is not an array of strings.
bool read_targets(std::string_view text, std::vector<std::string>& out);

/// The job's rollout, abort and retry configurations, rollout progress, ended counts, cancel
/// reason and template, as one JSON object (the configurations in CreateJob's shapes).
std::string config_json(const job& j);
/// Reads config_json()'s text into `j`; returns a message naming the fault, or "".
std::string read_config(std::string_view text, job& j);

}  // namespace iotblocks::jobs::detail
