#include "mosquitto_plugin/shared_store.hpp"

#ifdef IOTBLOCKS_PLUGIN_POSTGRES
#include <iotblocks/postgres/policy_persistence.hpp>
#include <iotblocks/postgres/registry_store.hpp>
#endif

#include <sys/stat.h>

namespace iotblocks::mosquitto_plugin {

std::vector<shared_store::file_stamp> shared_store::stamps() const {
  std::vector<file_stamp> out;
  for (const auto* path : {&opts_.registry_path, &opts_.policies_path}) {
    for (const char* suffix : {"", "-wal"}) {
      const std::string name = *path + suffix;
      struct stat st {};
      file_stamp s;
      if (::stat(name.c_str(), &st) == 0) {
        s.exists = true;
        s.size = static_cast<std::uintmax_t>(st.st_size);
        s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                     static_cast<std::int64_t>(st.st_mtim.tv_nsec);
      }
      out.push_back(s);
    }
  }
  return out;
}

bool shared_store::refresh(time_point now, bool force) {
  if (looked_ && !force && now - last_look_ < opts_.refresh) return false;
  looked_ = true;
  last_look_ = now;
  if (is_database_url(opts_.registry_path)) return refresh_database();
  auto current = stamps();
  if (current == seen_ && !seen_.empty()) return false;
  seen_ = std::move(current);
  open();
  // When the files moved while they were opened (another writer, or the open's own
  // writes), `seen_` keeps the stamps from before: the next look opens them once more, so
  // no change is missed.
  return true;
}

bool shared_store::refresh_database() {
  if (!available()) {
    open();
    return true;
  }
  if (auto r = reg_->refresh(); !r) {
    reg_.reset();
    policies_.reset();
    ++epoch_;
    problem_ = "registry " + opts_.registry_path + ": " + r.describe();
    return true;
  }
  policies_->refresh();  // sync_interval 0: looks now
  if (reg_->generation() == registry_generation_ && policies_->generation() == policy_generation_) {
    return false;
  }
  registry_generation_ = reg_->generation();
  policy_generation_ = policies_->generation();
  ++epoch_;
  return true;
}

void shared_store::open() {
  reg_.reset();
  policies_.reset();
  ++epoch_;
  if (is_database_url(opts_.registry_path)) {
#ifdef IOTBLOCKS_PLUGIN_POSTGRES
    // The plugin decides when to look (refresh_ms); the stores look whenever asked.
    registry::options ro;
    ro.account_id = opts_.account_id;
    ro.verify.profile = opts_.certificate_profile;
    ro.sync_interval = std::chrono::milliseconds(0);
    auto rs = postgres::registry_store::open(opts_.registry_path);
    if (!rs) {
      problem_ = "registry " + opts_.registry_path + ": " + rs.describe();
      return;
    }
    auto reg =
        registry::registry::open(std::unique_ptr<registry::store>(std::move(*rs)), std::move(ro));
    if (!reg) {
      problem_ = "registry " + opts_.registry_path + ": " + reg.describe();
      return;
    }
    auto pp = postgres::policy_persistence::open(opts_.policies_path);
    if (!pp) {
      problem_ = "policy store " + opts_.policies_path + ": " + pp.describe();
      return;
    }
    policy::store_options po;
    po.sync_interval = std::chrono::milliseconds(0);
    auto policies = policy::store::open(std::unique_ptr<policy::persistence>(std::move(*pp)), po);
    if (!policies) {
      problem_ = "policy store " + opts_.policies_path + ": " + policies.describe();
      return;
    }
    reg_.emplace(std::move(*reg));
    policies_.emplace(std::move(*policies));
    registry_generation_ = reg_->generation();
    policy_generation_ = policies_->generation();
    problem_.clear();
#else
    problem_ = "this plugin was built without the postgres component (libpq-dev)";
#endif
    return;
  }
  // A missing file is refused rather than created empty at a mistyped path.
  if (!seen_[0].exists) {
    problem_ = "registry " + opts_.registry_path + " does not exist";
    return;
  }
  if (!seen_[2].exists) {
    problem_ = "policy store " + opts_.policies_path + " does not exist";
    return;
  }
  registry::options ro;
  ro.account_id = opts_.account_id;
  ro.verify.profile = opts_.certificate_profile;
  auto reg = registry::registry::open(opts_.registry_path, std::move(ro));
  if (!reg) {
    problem_ = "registry " + opts_.registry_path + ": " + reg.describe();
    return;
  }
  auto policies = policy::store::open(opts_.policies_path);
  if (!policies) {
    problem_ = "policy store " + opts_.policies_path + ": " + policies.describe();
    return;
  }
  reg_.emplace(std::move(*reg));
  policies_.emplace(std::move(*policies));
  problem_.clear();
}

}  // namespace iotblocks::mosquitto_plugin
