// Private: the rules changed through the admin API, kept in <data_dir>/admin_rules.db so
// they survive a restart. Each row is the rule's last document, or a tombstone when the
// rule was deleted. At start the gateway loads the config's rules, then replays these
// rows on top: what an operator changed at run time wins over the file.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/rules/engine.hpp>

#include "core/sqlite.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::gateway {

/// Distinct objects: safe. Shared objects: safe (one mutex).
class rule_store {
 public:
  static result<rule_store> open(const std::string& path);

  /// Records the rule's current document (after put, enable or disable). Durable on return.
  result<void> save(std::string_view name, std::string_view document_json);
  /// Records that the rule was deleted. Durable on return.
  result<void> erase(std::string_view name);
  /// Applies every recorded change to `engine`, in the order they were made. A stored
  /// document the engine now rejects fails with the rule's name.
  result<void> replay(rules::engine& engine);

 private:
  explicit rule_store(sqlite::database db) : db_(std::move(db)) {}
  result<void> write(std::string_view name, std::optional<std::string_view> document_json);

  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
  sqlite::database db_;
};

}  // namespace iotblocks::gateway
