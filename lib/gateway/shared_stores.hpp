// Private: the registry, the policy store, the jobs store, thing groups and thing types that
// `stores.registry`, `stores.policies`, `stores.jobs`, `stores.thing_groups` and
// `stores.thing_types` name (config.hpp): an SQLite file in the data directory by default, or
// PostgreSQL tables that several gateways share.
#pragma once

#include <iotblocks/jobs/store.hpp>
#include <iotblocks/policy/store.hpp>
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/registry/thing_groups.hpp>
#include <iotblocks/registry/thing_types.hpp>

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
/// `url`: "sqlite:" (`dir`/thing_groups.db), "sqlite:PATH" or "postgresql://…".
result<std::unique_ptr<registry::thing_groups>> open_thing_groups(const std::string& url,
                                                                  const std::filesystem::path& dir);
/// `url`: "sqlite:" (`dir`/thing_types.db), "sqlite:PATH" or "postgresql://…".
result<std::unique_ptr<registry::thing_types>> open_thing_types(const std::string& url,
                                                                const std::filesystem::path& dir);

}  // namespace iotblocks::gateway::detail
