// Private: the registry and the policy store that `stores.registry` / `stores.policies`
// name (config.hpp): an SQLite file in the data directory by default, or PostgreSQL
// tables that several gateways share.
#pragma once

#include <iotblocks/policy/store.hpp>
#include <iotblocks/registry/registry.hpp>

#include <filesystem>
#include <string>

namespace iotblocks::gateway::detail {

/// `url`: "sqlite:" (`dir`/registry.db), "sqlite:PATH" or "postgresql://…".
result<registry::registry> open_registry(const std::string& url, const std::filesystem::path& dir,
                                         registry::options opts);
/// `url`: "sqlite:" (`dir`/policies.db), "sqlite:PATH" or "postgresql://…".
result<policy::store> open_policy_store(const std::string& url, const std::filesystem::path& dir);

}  // namespace iotblocks::gateway::detail
