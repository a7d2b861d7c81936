// Private: the registry, the policy store and the jobs store that `stores.registry`,
// `stores.policies` and `stores.jobs` name (config.hpp): an SQLite file in the data directory by
// default, or PostgreSQL tables that several gateways share.
#pragma once

#include <iotblocks/jobs/store.hpp>
#include <iotblocks/policy/store.hpp>
#include <iotblocks/registry/registry.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace iotblocks::gateway::detail {

/// `url`: "sqlite:" (`dir`/registry.db), "sqlite:PATH" or "postgresql://…".
result<registry::registry> open_registry(const std::string& url, const std::filesystem::path& dir,
                                         registry::options opts);
/// `url`: "sqlite:" (`dir`/policies.db), "sqlite:PATH" or "postgresql://…".
result<policy::store> open_policy_store(const std::string& url, const std::filesystem::path& dir);
/// `url`: "sqlite:" (`dir`/jobs.db), "sqlite:PATH" or "postgresql://…".
result<std::unique_ptr<jobs::store>> open_jobs_store(const std::string& url,
                                                     const std::filesystem::path& dir);

}  // namespace iotblocks::gateway::detail
