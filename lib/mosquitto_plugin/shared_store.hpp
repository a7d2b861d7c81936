// Private: the registry and policy store files that the plugin shares with the gateway, the
// CLI or any other process, opened read-write (just-in-time registration writes) and opened
// again when either file changes on disk (size or modification time of the file or its WAL),
// looked at no more often than every `refresh` unless forced. With PostgreSQL URLs instead,
// the stores are opened once and asked at each look for what other processes changed.
//
//   shared_store s{opts};
//   s.refresh(now, true);
//   if (s.available()) s.reg()->authenticate(chain);
#pragma once

#include <iotblocks/policy/store.hpp>
#include <iotblocks/registry/registry.hpp>

#include "mosquitto_plugin/options.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace iotblocks::mosquitto_plugin {

/// Distinct objects: safe. Shared objects: unsafe.
class shared_store {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit shared_store(const plugin_options& o) : opts_(o) {}

  /// Opens the files again when they changed since the last look; `force` looks now
  /// whatever the refresh interval. @return true when the stores were (re)opened or lost.
  bool refresh(time_point now, bool force);
  /// Both files are open. When false, every client is refused and every action denied.
  bool available() const noexcept { return reg_.has_value() && policies_.has_value(); }
  /// Moves each time the stores are opened again (decisions of an older epoch are stale).
  std::uint64_t epoch() const noexcept { return epoch_; }
  registry::registry* reg() noexcept { return reg_ ? &*reg_ : nullptr; }
  const policy::store* policies() const noexcept { return policies_ ? &*policies_ : nullptr; }
  /// Why the stores are unavailable (empty when available).
  const std::string& problem() const noexcept { return problem_; }

 private:
  struct file_stamp {
    bool exists = false;
    std::uintmax_t size = 0;
    std::int64_t mtime_ns = 0;
    friend bool operator==(const file_stamp&, const file_stamp&) = default;
  };
  std::vector<file_stamp> stamps() const;
  void open();
  /// PostgreSQL: asks the stores for changes made elsewhere; the epoch moves when either
  /// loaded some.
  bool refresh_database();

  const plugin_options& opts_;
  std::optional<registry::registry> reg_;
  std::optional<policy::store> policies_;
  std::vector<file_stamp> seen_;
  bool looked_ = false;
  time_point last_look_{};
  std::uint64_t epoch_ = 0;
  std::uint64_t registry_generation_ = 0, policy_generation_ = 0;  ///< as of the last epoch
  std::string problem_ = "not opened yet";
};

}  // namespace iotblocks::mosquitto_plugin
