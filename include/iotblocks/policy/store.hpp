// The policy store: named policies with up to five versions and a default
// version, their attachments to principals (certificate ids or any other
// principal string), and the resource policies of rule destinations, kept in
// the embedded SQLite store (or another persistence, persistence.hpp). Every change is committed
// (FULL sync) before the call returns, then published in memory with a new generation number, which
// is what decision caches compare against.
//
//   auto store = policy::store::open("state/policies.db").value();
//   store.create_policy("greenhouse_lux_policy", text).value();
//   store.attach_policy("greenhouse_lux_policy", certificate_id).value();
//   policy::session s{store, certificate_id, ctx};           // one per connection
//   s.authorize({policy::actions::connect, arn}).allowed();
#pragma once

#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/policy/cache.hpp>
#include <iotblocks/policy/document.hpp>
#include <iotblocks/policy/evaluate.hpp>
#include <iotblocks/policy/persistence.hpp>
#include <iotblocks/policy/resource_policy.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::policy {

/// Limits of the store; the defaults are AWS IoT's.
struct store_options {
  std::size_t max_versions = 5;                 ///< versions kept per policy
  std::size_t max_policies_per_principal = 10;  ///< attached policies per certificate
  std::size_t max_principal_length = 2048;
  parse_options documents{};  ///< limits for policy documents
  parse_options resource_documents = resource_policy_options();
  /// With a persistence other processes write (PostgreSQL): how old the in-memory view
  /// may be. refresh(), every session's authorize() and every read look again when the
  /// last look is older than this (a write always looks first), and load everything
  /// again, moving the generation, when another process committed a change.
  std::chrono::milliseconds sync_interval{1000};
};

struct policy_version_info {
  std::uint32_t version = 0;
  bool is_default = false;
  std::string document;  ///< the text as given
  std::int64_t created_ms = 0;
};

struct policy_info {
  std::string name;
  std::uint32_t default_version = 0;
  std::vector<policy_version_info> versions;  ///< ascending
};

/// Distinct objects: safe. Shared objects: safe (calls are serialised inside;
/// generation() is lock-free).
class store {
 public:
  /// Opens (creating if needed) the database at `path` and loads it. A stored
  /// document that no longer parses under `options` fails the open.
  static result<store> open(const std::string& path, const store_options& options = {},
                            const clock& clock = default_clock());
  /// Opens the store kept in `db` (e.g. iotblocks::postgres::policy_persistence).
  static result<store> open(std::unique_ptr<persistence> db, const store_options& options = {},
                            const clock& clock = default_clock());

  store(store&&) noexcept;
  store& operator=(store&&) noexcept;
  ~store();

  /// Creates `name` with `document` as version 1 (the default).
  /// Errors: invalid_name, policy_exists, the parse errors of the document.
  result<policy_info> create_policy(std::string_view name, std::string_view document);
  /// Adds a version; version_limit when max_versions exist.
  result<std::uint32_t> create_policy_version(std::string_view name, std::string_view document,
                                              bool set_as_default);
  result<void> set_default_version(std::string_view name, std::uint32_t version);
  /// default_version when `version` is the default.
  result<void> delete_policy_version(std::string_view name, std::uint32_t version);
  /// policy_in_use while attached or while other versions than the default exist.
  result<void> delete_policy(std::string_view name);
  result<policy_info> get_policy(std::string_view name) const;
  std::vector<std::string> list_policies() const;

  /// Attaching twice is a no-op; attachment_limit past max_policies_per_principal.
  result<void> attach_policy(std::string_view name, std::string_view principal);
  /// Detaching a policy that is not attached is a no-op.
  result<void> detach_policy(std::string_view name, std::string_view principal);
  std::vector<std::string> attached_policies(std::string_view principal) const;
  std::vector<std::string> targets_for_policy(std::string_view name) const;

  /// The default versions of the policies attached to `principal`, in
  /// attachment order, and the generation they belong to. Shared snapshot.
  std::shared_ptr<const policy_set> effective_policies(std::string_view principal,
                                                       std::uint64_t* generation = nullptr) const;
  /// The default versions of the policies attached to any of `principals`, each policy once,
  /// in principal then attachment order (not cached: for principals that change, such as a
  /// thing's groups).
  std::shared_ptr<const policy_set> effective_policies(std::span<const std::string> principals,
                                                       std::uint64_t* generation = nullptr) const;
  /// Increases on every committed change of policies or attachments.
  std::uint64_t generation() const noexcept;
  /// Moves the generation without a change in the store, e.g. when the registry
  /// changed a thing that the contexts of cached decisions describe.
  void invalidate() noexcept;
  /// Loads what other processes changed when options.sync_interval has passed since the
  /// last look; otherwise returns at once without a lock.
  void refresh() const;

  /// Starts a batch on this thread: its changes until commit_batch() are one transaction
  /// of the persistence (one durable commit; each change is still checked and all or
  /// nothing, and in effect in memory at once). Other threads' changes wait until the
  /// batch ends. Errors: the persistence's.
  result<void> begin_batch();
  /// Ends the batch: its changes are durable when this returns. On failure none is kept,
  /// in the persistence or in memory (loaded again). Errors: the persistence's.
  result<void> commit_batch();
  /// Ends the batch dropping its changes, in the persistence and in memory.
  void rollback_batch();

  /// Resource policies of rule destinations, keyed by destination ARN.
  result<void> set_resource_policy(std::string_view destination_arn, std::string_view document);
  result<void> add_permission(const permission& p);
  result<void> remove_permission(std::string_view destination_arn, std::string_view statement_id);
  result<void> remove_resource_policy(std::string_view destination_arn);
  std::optional<std::string> resource_policy(std::string_view destination_arn) const;
  /// The call the rules engine makes before invoking a destination.
  invocation_decision authorize_invocation(const invocation& inv) const;

 private:
  struct impl;
  explicit store(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> impl_;
};

/// One client connection: a principal, its context, the policy snapshot and a
/// decision cache, refreshed when the store's generation moves.
/// Distinct objects: safe. Shared objects: unsafe.
class session {
 public:
  session(const store& s, std::string principal, context ctx, std::size_t cache_capacity = 1024);

  decision authorize(const request& req);
  /// Principals whose attached policies apply as well (AWS: the thing groups of the thing,
  /// and their ancestors, for policies attached to thing groups), asked again whenever the
  /// store's generation moves (call store::invalidate() when they change).
  void also_principals(std::function<std::vector<std::string>()> f);
  /// Replaces the context (e.g. after the registry updated the thing); clears the cache.
  void set_context(context ctx);
  const context& ctx() const noexcept { return ctx_; }
  const std::string& principal() const noexcept { return principal_; }
  const decision_cache& cache() const noexcept { return cache_; }

 private:
  const store* store_;
  std::string principal_;
  std::function<std::vector<std::string>()> also_;
  context ctx_;
  std::shared_ptr<const policy_set> policies_;
  std::uint64_t generation_ = 0;
  bool loaded_ = false;
  decision_cache cache_;
};

}  // namespace iotblocks::policy

IOTBLOCKS_API_END
