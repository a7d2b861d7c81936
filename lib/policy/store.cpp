// The policy store: a persistence (SQLite by default) for durability, maps in memory
// for lookups. Every mutation commits first and changes memory only after the commit
// succeeded, so memory never runs ahead of the database.
#include <iotblocks/policy/store.hpp>

#include "policy/sqlite_persistence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>

namespace iotblocks::policy {
namespace {

struct version_rec {
  document doc;
  std::string text;
  std::int64_t created_ms = 0;
};

struct policy_rec {
  std::uint32_t default_version = 1;
  std::uint32_t next_version = 2;
  std::map<std::uint32_t, version_rec> versions;
};

bool valid_name(std::string_view n) noexcept {
  if (n.empty() || n.size() > 128) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
  });
}

failure no_policy(std::string_view name) {
  return {error::no_such_policy, fmt::format("no policy named '{}'", name), {}};
}

}  // namespace

struct store::impl {
  std::unique_ptr<persistence> db;
  store_options options;
  const clock* clk = nullptr;
  mutable std::mutex mutex;
  /// Taken before `mutex` by every change, and held by a batch from begin to end.
  std::recursive_mutex gate;
  std::map<std::string, policy_rec, std::less<>> policies;
  std::map<std::string, std::vector<std::string>, std::less<>> attachments;  // principal -> names
  std::map<std::string, std::pair<std::string, document>, std::less<>> resource_policies;
  std::atomic<std::uint64_t> generation{1};
  mutable std::map<std::string, std::shared_ptr<const policy_set>, std::less<>> snapshots;

  std::chrono::steady_clock::time_point last_sync{};  ///< under `mutex`
  std::atomic<std::int64_t> next_sync_ns{0};          ///< steady clock; refresh() is due after

  explicit impl(std::unique_ptr<persistence> d) : db(std::move(d)) {}

  void changed() {
    snapshots.clear();
    generation.fetch_add(1, std::memory_order_acq_rel);
  }

  /// Replaces the in-memory view with `rows`.
  result<void> load(stored_policies rows);
  /// Loads again when another process changed the store (looking at most every
  /// options.sync_interval unless `write`). Under `mutex`. A write gets the failure; a
  /// read is served from memory when the store cannot be reached.
  result<void> sync(bool write);
  policy_rec* find(std::string_view name) {
    auto it = policies.find(name);
    return it == policies.end() ? nullptr : &it->second;
  }
};

result<void> store::impl::load(stored_policies rows) {
  std::map<std::string, policy_rec, std::less<>> new_policies;
  std::map<std::string, std::vector<std::string>, std::less<>> new_attachments;
  std::map<std::string, std::pair<std::string, document>, std::less<>> new_resources;
  for (auto& row : rows.policies) {
    policy_rec rec;
    rec.default_version = row.default_version;
    rec.next_version = row.next_version;
    new_policies.emplace(std::move(row.name), std::move(rec));
  }
  for (auto& row : rows.versions) {
    auto doc = parse_document(row.document, options.documents);
    if (!doc) {
      failure f = std::move(doc).take_failure();
      f.message =
          fmt::format("stored policy '{}' version {}: {}", row.name, row.version, f.describe());
      return f;
    }
    auto rec = new_policies.find(row.name);
    if (rec == new_policies.end()) continue;  // orphan row; ignore
    rec->second.versions[row.version] = {std::move(*doc), std::move(row.document), row.created_ms};
  }
  for (auto& [principal, name] : rows.attachments) {
    new_attachments[principal].push_back(std::move(name));
  }
  for (auto& [arn, text] : rows.resource_policies) {
    auto doc = parse_document(text, options.resource_documents);
    if (!doc) return std::move(doc).take_failure();
    new_resources[arn] = {std::move(text), std::move(*doc)};
  }
  // A database edited or damaged outside the store: refuse it rather than serve a
  // principal fewer policies (a missing Deny would widen its rights).
  for (const auto& [name, rec] : new_policies) {
    if (rec.versions.find(rec.default_version) == rec.versions.end()) {
      return failure{error::no_such_version,
                     fmt::format("stored policy '{}': its default version {} is not stored", name,
                                 rec.default_version),
                     {}};
    }
  }
  for (const auto& [principal, names] : new_attachments) {
    for (const auto& name : names) {
      if (new_policies.find(name) == new_policies.end()) {
        return failure{
            error::no_such_policy,
            fmt::format("stored attachment of '{}' to '{}': no such policy", name, principal),
            {}};
      }
    }
  }
  policies = std::move(new_policies);
  attachments = std::move(new_attachments);
  resource_policies = std::move(new_resources);
  changed();
  return {};
}

result<void> store::impl::sync(bool write) {
  const auto now = std::chrono::steady_clock::now();
  if (!write && now - last_sync < options.sync_interval) return {};
  // Also when the store does not answer: reads retry once per interval.
  last_sync = now;
  next_sync_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                         (now + options.sync_interval).time_since_epoch())
                         .count(),
                     std::memory_order_release);
  auto moved = db->changed_elsewhere();
  if (!moved) return write ? result<void>{moved.fail()} : result<void>{};
  if (!*moved) return {};
  auto rows = db->load();
  if (!rows) return write ? result<void>{rows.fail()} : result<void>{};
  auto r = load(std::move(*rows));
  return write ? r : result<void>{};
}

result<store> store::open(const std::string& path, const store_options& options,
                          const clock& clock) {
  auto db = detail::sqlite_persistence::open(path);
  if (!db) return std::move(db).take_failure();
  return open(std::unique_ptr<persistence>(std::move(*db)), options, clock);
}

result<store> store::open(std::unique_ptr<persistence> db, const store_options& options,
                          const clock& clock) {
  auto rows = db->load();
  if (!rows) return std::move(rows).take_failure();
  auto p = std::make_unique<impl>(std::move(db));
  p->options = options;
  p->clk = &clock;
  if (auto r = p->load(std::move(*rows)); !r) return std::move(r).take_failure();
  p->generation.store(1, std::memory_order_release);
  (void)p->sync(false);  // starts the interval
  return store{std::move(p)};
}

void store::refresh() const {
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  if (now < impl_->next_sync_ns.load(std::memory_order_acquire)) return;
  std::lock_guard lock(impl_->mutex);
  (void)impl_->sync(false);
}

result<void> store::begin_batch() {
  std::unique_lock gate(impl_->gate);
  std::lock_guard lock(impl_->mutex);
  if (auto synced = impl_->sync(true); !synced) return synced.fail();
  if (auto r = impl_->db->begin_batch(); !r) return r;
  gate.release();  // held until commit_batch() or rollback_batch()
  return {};
}

result<void> store::commit_batch() {
  std::unique_lock gate(impl_->gate, std::adopt_lock);
  std::lock_guard lock(impl_->mutex);
  auto r = impl_->db->commit_batch();
  if (!r) {
    if (auto rows = impl_->db->load()) (void)impl_->load(std::move(*rows));
  }
  return r;
}

void store::rollback_batch() {
  std::unique_lock gate(impl_->gate, std::adopt_lock);
  std::lock_guard lock(impl_->mutex);
  impl_->db->rollback_batch();
  if (auto rows = impl_->db->load()) (void)impl_->load(std::move(*rows));
}

store::store(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
store::store(store&&) noexcept = default;
store& store::operator=(store&&) noexcept = default;
store::~store() = default;

result<policy_info> store::create_policy(std::string_view name, std::string_view text) {
  if (!valid_name(name)) {
    return failure{error::invalid_name,
                   fmt::format("'{}' is not a policy name ([A-Za-z0-9_+=,.@-], 1 to 128)", name),
                   {}};
  }
  auto doc = parse_document(text, impl_->options.documents);
  if (!doc) return std::move(doc).take_failure();
  std::lock_guard gate(impl_->gate);  // a batch of another thread ends first
  std::lock_guard lock(impl_->mutex);
  if (auto synced = impl_->sync(true); !synced) return synced.fail();
  if (impl_->find(name) != nullptr) {
    return failure{error::policy_exists, fmt::format("policy '{}' exists", name), {}};
  }
  const std::int64_t now = impl_->clk->now_ms();
  auto committed = impl_->db->create_policy(name, text, now);
  if (!committed) return std::move(committed).take_failure();
  policy_rec rec;
  rec.versions[1] = {std::move(*doc), std::string(text), now};
  impl_->policies.emplace(std::string(name), std::move(rec));
  impl_->changed();
  return policy_info{std::string(name), 1, {{1, true, std::string(text), now}}};
}

result<std::uint32_t> store::create_policy_version(std::string_view name, std::string_view text,
                                                   bool set_as_default) {
  auto doc = parse_document(text, impl_->options.documents);
  if (!doc) return std::move(doc).take_failure();
  std::lock_guard gate(impl_->gate);  // a batch of another thread ends first
  std::lock_guard lock(impl_->mutex);
  if (auto synced = impl_->sync(true); !synced) return synced.fail();
  policy_rec* rec = impl_->find(name);
  if (rec == nullptr) return no_policy(name);
  if (rec->versions.size() >= impl_->options.max_versions) {
    return failure{
        error::version_limit,
        fmt::format("policy '{}' has {} versions; delete one first", name, rec->versions.size()),
        {}};
  }
  const std::uint32_t version = rec->next_version;
  const std::uint32_t new_default = set_as_default ? version : rec->default_version;
  const std::int64_t now = impl_->clk->now_ms();
  auto committed = impl_->db->add_version(name, version, text, now, new_default);
  if (!committed) return std::move(committed).take_failure();
  rec->versions[version] = {std::move(*doc), std::string(text), now};
  rec->next_version = version + 1;
  rec->default_version = new_default;
  impl_->changed();
  return version;
}

result<void> store::set_default_version(std::string_view name, std::uint32_t version) {
  std::lock_guard gate(impl_->gate);  // a batch of another thread ends first
  std::lock_guard lock(impl_->mutex);
  if (auto synced = impl_->sync(true); !synced) return synced.fail();
  policy_rec* rec = impl_->find(name);
  if (rec == nullptr) return no_policy(name);
  if (!rec->versions.count(version)) {
    return {error::no_such_version, fmt::format("policy '{}' has no version {}", name, version)};
  }
  auto committed = impl_->db->set_default_version(name, version);
  if (!committed) return committed;
  rec->default_version = version;
  impl_->changed();
  return {};
}

result<void> store::delete_policy_version(std::string_view name, std::uint32_t version) {
  std::lock_guard gate(impl_->gate);  // a batch of another thread ends first
  std::lock_guard lock(impl_->mutex);
  if (auto synced = impl_->sync(true); !synced) return synced.fail();
  policy_rec* rec = impl_->find(name);
  if (rec == nullptr) return no_policy(name);
  if (!rec->versions.count(version)) {
    return {error::no_such_version, fmt::format("policy '{}' has no version {}", name, version)};
  }
  if (version == rec->default_version) {
    return {
        error::default_version,
        fmt::format("version {} is the default of '{}'; set another default first", version, name)};
  }
  auto committed = impl_->db->delete_version(name, version);
  if (!committed) return committed;
  rec->versions.erase(version);
  impl_->changed();  // a non-default version does not decide, but keep the rule simple
  return {};
}

result<void> store::delete_policy(std::string_view name) {
  std::lock_guard gate(impl_->gate);  // a batch of another thread ends first
  std::lock_guard lock(impl_->mutex);
  if (auto synced = impl_->sync(true); !synced) return synced.fail();
  policy_rec* rec = impl_->find(name);
  if (rec == nullptr) return no_policy(name);
  if (rec->versions.size() > 1) {
    return {error::policy_in_use,
            fmt::format("policy '{}' has versions besides the default; delete them first", name)};
  }
  for (const auto& [principal, names] : impl_->attachments) {
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return {error::policy_in_use,
              fmt::format("policy '{}' is attached to '{}'; detach it first", name, principal)};
    }
  }
  auto committed = impl_->db->delete_policy(name);
  if (!committed) return committed;
  impl_->policies.erase(impl_->policies.find(name));
  impl_->changed();
  return {};
}

result<policy_info> store::get_policy(std::string_view name) const {
  std::lock_guard lock(impl_->mutex);
  (void)impl_->sync(false);
  const policy_rec* rec = impl_->find(name);
  if (rec == nullptr) return no_policy(name);
  policy_info info{std::string(name), rec->default_version, {}};
  for (const auto& [v, r] : rec->versions) {
    info.versions.push_back({v, v == rec->default_version, r.text, r.created_ms});
  }
  return info;
}

std::vector<std::string> store::list_policies() const {
  std::lock_guard lock(impl_->mutex);
  (void)impl_->sync(false);
  std::vector<std::string> out;
  for (const auto& [name, rec] : impl_->policies) out.push_back(name);
  return out;
}

result<void> store::attach_policy(std::string_view name, std::string_view principal) {
  if (principal.empty() || principal.size() > impl_->options.max_principal_length) {
    return {core::error::invalid_argument, "a principal is 1 to max_principal_length characters"};
  }
  std::lock_guard gate(impl_->gate);  // a batch of another thread ends first
  std::lock_guard lock(impl_->mutex);
  if (auto synced = impl_->sync(true); !synced) return synced.fail();
  if (impl_->find(name) == nullptr) return no_policy(name);
  auto it = impl_->attachments.find(principal);
  if (it != impl_->attachments.end()) {
    if (std::find(it->second.begin(), it->second.end(), name) != it->second.end()) return {};
    if (it->second.size() >= impl_->options.max_policies_per_principal) {
      return {error::attachment_limit,
              fmt::format("'{}' already has {} policies", principal, it->second.size())};
    }
  }
  auto committed = impl_->db->attach(name, principal);
  if (!committed) return committed;
  impl_->attachments[std::string(principal)].emplace_back(name);
  impl_->changed();
  return {};
}

result<void> store::detach_policy(std::string_view name, std::string_view principal) {
  std::lock_guard gate(impl_->gate);  // a batch of another thread ends first
  std::lock_guard lock(impl_->mutex);
  if (auto synced = impl_->sync(true); !synced) return synced.fail();
  auto it = impl_->attachments.find(principal);
  if (it == impl_->attachments.end()) return {};
  auto pos = std::find(it->second.begin(), it->second.end(), name);
  if (pos == it->second.end()) return {};
  auto committed = impl_->db->detach(name, principal);
  if (!committed) return committed;
  it->second.erase(pos);
  if (it->second.empty()) impl_->attachments.erase(it);
  impl_->changed();
  return {};
}

std::vector<std::string> store::attached_policies(std::string_view principal) const {
  std::lock_guard lock(impl_->mutex);
  (void)impl_->sync(false);
  auto it = impl_->attachments.find(principal);
  return it == impl_->attachments.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> store::targets_for_policy(std::string_view name) const {
  std::lock_guard lock(impl_->mutex);
  (void)impl_->sync(false);
  std::vector<std::string> out;
  for (const auto& [principal, names] : impl_->attachments) {
    if (std::find(names.begin(), names.end(), name) != names.end()) out.push_back(principal);
  }
  return out;
}

std::shared_ptr<const policy_set> store::effective_policies(std::string_view principal,
                                                            std::uint64_t* generation) const {
  std::lock_guard lock(impl_->mutex);
  (void)impl_->sync(false);
  if (generation != nullptr) *generation = impl_->generation.load(std::memory_order_acquire);
  if (auto it = impl_->snapshots.find(principal); it != impl_->snapshots.end()) return it->second;
  auto set = std::make_shared<policy_set>();
  if (auto it = impl_->attachments.find(principal); it != impl_->attachments.end()) {
    for (const auto& name : it->second) {
      // Both exist: load() checks the file, and every change keeps them so.
      const auto& rec = impl_->policies.find(name)->second;
      set->add(name, rec.default_version, rec.versions.find(rec.default_version)->second.doc);
    }
  }
  impl_->snapshots[std::string(principal)] = set;
  return set;
}

std::shared_ptr<const policy_set> store::effective_policies(std::span<const std::string> principals,
                                                            std::uint64_t* generation) const {
  std::lock_guard lock(impl_->mutex);
  (void)impl_->sync(false);
  if (generation != nullptr) *generation = impl_->generation.load(std::memory_order_acquire);
  auto set = std::make_shared<policy_set>();
  std::vector<std::string_view> added;
  for (const auto& principal : principals) {
    auto it = impl_->attachments.find(principal);
    if (it == impl_->attachments.end()) continue;
    for (const auto& name : it->second) {
      if (std::find(added.begin(), added.end(), name) != added.end()) continue;
      added.push_back(name);
      const auto& rec = impl_->policies.find(name)->second;
      set->add(name, rec.default_version, rec.versions.find(rec.default_version)->second.doc);
    }
  }
  return set;
}

std::uint64_t store::generation() const noexcept {
  return impl_->generation.load(std::memory_order_acquire);
}

void store::invalidate() noexcept { impl_->generation.fetch_add(1, std::memory_order_acq_rel); }

result<void> store::set_resource_policy(std::string_view arn, std::string_view text) {
  auto doc = parse_document(text, impl_->options.resource_documents);
  if (!doc) return std::move(doc).take_failure();
  std::lock_guard gate(impl_->gate);  // a batch of another thread ends first
  std::lock_guard lock(impl_->mutex);
  if (auto synced = impl_->sync(true); !synced) return synced.fail();
  auto committed = impl_->db->put_resource_policy(arn, text);
  if (!committed) return committed;
  impl_->resource_policies[std::string(arn)] = {std::string(text), std::move(*doc)};
  impl_->changed();
  return {};
}

result<void> store::add_permission(const permission& p) {
  const std::string existing = resource_policy(p.destination_arn).value_or("");
  auto text = policy::add_permission(existing, p);
  if (!text) return std::move(text).take_failure();
  return set_resource_policy(p.destination_arn, *text);
}

result<void> store::remove_permission(std::string_view arn, std::string_view statement_id) {
  const auto existing = resource_policy(arn);
  if (!existing) return {core::error::not_found, fmt::format("no resource policy on '{}'", arn)};
  auto text = policy::remove_permission(*existing, statement_id);
  if (!text) return std::move(text).take_failure();
  return set_resource_policy(arn, *text);
}

result<void> store::remove_resource_policy(std::string_view arn) {
  std::lock_guard gate(impl_->gate);  // a batch of another thread ends first
  std::lock_guard lock(impl_->mutex);
  if (auto synced = impl_->sync(true); !synced) return synced.fail();
  auto it = impl_->resource_policies.find(arn);
  if (it == impl_->resource_policies.end()) return {};
  auto committed = impl_->db->delete_resource_policy(arn);
  if (!committed) return committed;
  impl_->resource_policies.erase(it);
  impl_->changed();
  return {};
}

std::optional<std::string> store::resource_policy(std::string_view arn) const {
  std::lock_guard lock(impl_->mutex);
  (void)impl_->sync(false);
  auto it = impl_->resource_policies.find(arn);
  if (it == impl_->resource_policies.end()) return std::nullopt;
  return it->second.first;
}

invocation_decision store::authorize_invocation(const invocation& inv) const {
  document doc;
  {
    std::lock_guard lock(impl_->mutex);
    (void)impl_->sync(false);
    auto it = impl_->resource_policies.find(inv.destination_arn);
    if (it != impl_->resource_policies.end()) doc = it->second.second;
  }
  return policy::authorize_invocation(doc, inv);
}

session::session(const store& s, std::string principal, context ctx, std::size_t cache_capacity)
    : store_(&s), principal_(std::move(principal)), ctx_(std::move(ctx)), cache_(cache_capacity) {}

decision session::authorize(const request& req) {
  store_->refresh();
  const std::uint64_t g = store_->generation();
  if (!loaded_ || g != generation_) {
    std::vector<std::string> also = also_ ? also_() : std::vector<std::string>{};
    if (also.empty()) {
      policies_ = store_->effective_policies(principal_, &generation_);
    } else {
      also.insert(also.begin(), principal_);
      policies_ = store_->effective_policies(std::span<const std::string>(also), &generation_);
    }
    loaded_ = true;
  }
  if (const decision* hit = cache_.find(generation_, req)) return *hit;
  const decision d = evaluate(*policies_, req, ctx_);
  cache_.insert(generation_, req, d);
  return d;
}

void session::also_principals(std::function<std::vector<std::string>()> f) {
  also_ = std::move(f);
  loaded_ = false;
  cache_.clear();
}

void session::set_context(context ctx) {
  ctx_ = std::move(ctx);
  cache_.clear();
}

}  // namespace iotblocks::policy
