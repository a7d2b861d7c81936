// Private: the job configurations on RapidJSON values, shared by config.cpp (the public
// text API) and sqlite_store.cpp (the jobs.config column).
#pragma once

#include <iotblocks/jobs/model.hpp>

#include <rapidjson/document.h>

#include <string>

namespace iotblocks::jobs::detail {

using alloc = rapidjson::Document::AllocatorType;

/// Each returns a message naming the fault, or an empty string.
std::string read_rollout(const rapidjson::Value& v, rollout_config& out);
std::string read_abort(const rapidjson::Value& v, std::vector<abort_criterion>& out);
std::string read_retry(const rapidjson::Value& v, std::vector<retry_criterion>& out);

/// maintenanceWindows ([{startTime, durationInMinutes}]): `where` names the member in messages.
std::string read_windows(const rapidjson::Value& v, std::vector<maintenance_window>& out,
                         std::string_view where = "maintenanceWindows");
rapidjson::Value write_windows(const std::vector<maintenance_window>& windows, alloc& a);

rapidjson::Value write_rollout(const rollout_config& c, alloc& a);
rapidjson::Value write_abort(const std::vector<abort_criterion>& criteria, alloc& a);
rapidjson::Value write_retry(const std::vector<retry_criterion>& criteria, alloc& a);

}  // namespace iotblocks::jobs::detail
