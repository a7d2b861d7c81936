// Where the policy store keeps policies, their versions, attachments and resource
// policies: the interface the embedded SQLite file implements (store::open(path)) and
// that other engines implement to share one policy store between processes
// (iotblocks::postgres::policy_persistence). The store holds everything in memory,
// checks every change there, and writes it through here before it answers.
//
//   auto p = iotblocks::postgres::policy_persistence::open(url).value();
//   auto store = iotblocks::policy::store::open(std::move(p)).value();
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::policy {

struct stored_policies {
  struct policy_row {
    std::string name;
    std::uint32_t default_version = 1;
    std::uint32_t next_version = 2;
  };
  struct version_row {
    std::string name;
    std::uint32_t version = 0;
    std::string document;
    std::int64_t created_ms = 0;
  };
  std::vector<policy_row> policies;
  std::vector<version_row> versions;
  std::vector<std::pair<std::string, std::string>> attachments;  ///< (principal, name), in order
  std::vector<std::pair<std::string, std::string>> resource_policies;  ///< (ARN, document)
};

/// Failures carry policy::error codes where another process got there first:
/// policy_exists (create_policy), no_such_policy (the policy was deleted meanwhile),
/// no_such_version (add_version found another next version). A failed call changed nothing.
/// Distinct objects: safe. Shared objects: unsafe (the store serialises its calls).
class persistence {
 public:
  virtual ~persistence() = default;

  /// Everything stored, as committed now.
  virtual result<stored_policies> load() = 0;
  /// True when another process committed a change since the last call or since load().
  virtual result<bool> changed_elsewhere() = 0;

  /// A batch: the writes from begin_batch() to commit_batch() are one transaction (each
  /// write still all or nothing), durable when commit_batch() returns; rollback_batch()
  /// drops them. A failed commit_batch() leaves none of them. Persistences that cannot
  /// batch keep these defaults and commit each write on its own.
  virtual result<void> begin_batch() { return {}; }
  virtual result<void> commit_batch() { return {}; }
  virtual void rollback_batch() {}

  /// The policy with `document` as version 1, the default.
  virtual result<void> create_policy(std::string_view name, std::string_view document,
                                     std::int64_t created_ms) = 0;
  /// Stores `version` (which must be the policy's next version) and the new default.
  virtual result<void> add_version(std::string_view name, std::uint32_t version,
                                   std::string_view document, std::int64_t created_ms,
                                   std::uint32_t default_version) = 0;
  virtual result<void> set_default_version(std::string_view name, std::uint32_t version) = 0;
  virtual result<void> delete_version(std::string_view name, std::uint32_t version) = 0;
  /// Deletes the policy and its versions.
  virtual result<void> delete_policy(std::string_view name) = 0;
  virtual result<void> attach(std::string_view name, std::string_view principal) = 0;
  virtual result<void> detach(std::string_view name, std::string_view principal) = 0;
  virtual result<void> put_resource_policy(std::string_view arn, std::string_view document) = 0;
  virtual result<void> delete_resource_policy(std::string_view arn) = 0;
};

}  // namespace iotblocks::policy

IOTBLOCKS_API_END
