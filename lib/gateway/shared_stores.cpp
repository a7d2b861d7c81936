#include "gateway/shared_stores.hpp"

#ifdef IOTBLOCKS_GATEWAY_POSTGRES
#include <iotblocks/postgres/jobs_store.hpp>
#include <iotblocks/postgres/policy_persistence.hpp>
#include <iotblocks/postgres/registry_store.hpp>
#include <iotblocks/postgres/thing_group_store.hpp>
#include <iotblocks/postgres/thing_type_store.hpp>
#endif

#include <system_error>

namespace iotblocks::gateway::detail {
namespace {

/// The file of a "sqlite:[PATH]" URL, or nullopt for another scheme.
std::optional<std::string> sqlite_path(const std::string& url, const std::filesystem::path& dir,
                                       const char* default_name) {
  if (!url.starts_with("sqlite:")) return std::nullopt;
  return url.size() > 7 ? url.substr(7) : (dir / default_name).string();
}

[[maybe_unused]] failure no_postgres() {
  return {std::make_error_code(std::errc::operation_not_supported),
          "this build has no postgres component (libpq-dev)",
          {}};
}

}  // namespace

result<registry::registry> open_registry(const std::string& url, const std::filesystem::path& dir,
                                         registry::options opts) {
  if (auto path = sqlite_path(url, dir, "registry.db")) {
    return registry::registry::open(*path, std::move(opts));
  }
#ifdef IOTBLOCKS_GATEWAY_POSTGRES
  auto s = postgres::registry_store::open(url);
  if (!s) return std::move(s).take_failure();
  return registry::registry::open(std::unique_ptr<registry::store>(std::move(*s)), std::move(opts));
#else
  return no_postgres();
#endif
}

result<policy::store> open_policy_store(const std::string& url, const std::filesystem::path& dir) {
  if (auto path = sqlite_path(url, dir, "policies.db")) return policy::store::open(*path);
#ifdef IOTBLOCKS_GATEWAY_POSTGRES
  auto p = postgres::policy_persistence::open(url);
  if (!p) return std::move(p).take_failure();
  return policy::store::open(std::unique_ptr<policy::persistence>(std::move(*p)));
#else
  return no_postgres();
#endif
}

result<std::unique_ptr<jobs::store>> open_jobs_store(const std::string& url,
                                                     const std::filesystem::path& dir) {
  if (auto path = sqlite_path(url, dir, "jobs.db")) {
    auto s = jobs::sqlite_store::open(*path);
    if (!s) return std::move(s).take_failure();
    return std::unique_ptr<jobs::store>(std::move(*s));
  }
#ifdef IOTBLOCKS_GATEWAY_POSTGRES
  auto s = postgres::jobs_store::open(url);
  if (!s) return std::move(s).take_failure();
  return std::unique_ptr<jobs::store>(std::move(*s));
#else
  return no_postgres();
#endif
}

result<std::unique_ptr<registry::thing_groups>> open_thing_groups(
    const std::string& url, const std::filesystem::path& dir) {
  if (auto path = sqlite_path(url, dir, "thing_groups.db")) {
    return registry::thing_groups::open(*path);
  }
#ifdef IOTBLOCKS_GATEWAY_POSTGRES
  auto s = postgres::thing_group_store::open(url);
  if (!s) return std::move(s).take_failure();
  return registry::thing_groups::open(std::unique_ptr<registry::thing_group_store>(std::move(*s)));
#else
  return no_postgres();
#endif
}

result<std::unique_ptr<registry::thing_types>> open_thing_types(const std::string& url,
                                                                const std::filesystem::path& dir) {
  if (auto path = sqlite_path(url, dir, "thing_types.db")) {
    return registry::thing_types::open(*path);
  }
#ifdef IOTBLOCKS_GATEWAY_POSTGRES
  auto s = postgres::thing_type_store::open(url);
  if (!s) return std::move(s).take_failure();
  return registry::thing_types::open(std::unique_ptr<registry::thing_type_store>(std::move(*s)));
#else
  return no_postgres();
#endif
}

}  // namespace iotblocks::gateway::detail
