// Private: fleet provisioning's certificate ownership tokens, outstanding until spent by a
// RegisterThing or expired, kept in a SQLite file (provisioning_tokens.db) so that a token
// a device was given survives a restart of the gateway. Issued and spent tokens change the
// map at once; the file follows in persist_issued() (before the replies that hand them out)
// and persist_spent() (after the commit that spent them).
#pragma once

#include <iotblocks/core/result.hpp>

#include "sqlite/database.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace iotblocks::gateway {

/// Distinct objects: safe. Shared objects: safe (one mutex).
class ownership_tokens {
 public:
  /// How long a certificateOwnershipToken stays valid.
  static constexpr std::chrono::minutes lifetime{5};
  /// Most tokens outstanding at once (issue() is refused beyond).
  static constexpr std::size_t max_outstanding = 100'000;

  struct entry {
    std::string certificate_id;
    std::int64_t expires_ms = 0;  ///< milliseconds since the epoch
  };

  /// Opens (creates) the file and reads the tokens not expired yet; an empty path keeps
  /// them in memory only.
  static result<std::unique_ptr<ownership_tokens>> open(const std::string& path);

  /// A new token (32 random bytes, hex) for the certificate.
  result<std::string> issue(const std::string& certificate_id);
  /// The token's certificate, when the token is outstanding and not expired.
  std::optional<std::string> certificate_of(const std::string& token) const;
  /// Takes the token out (a RegisterThing's commit spends it); nullopt when it is not
  /// outstanding. restore() puts it back when that commit fails.
  std::optional<entry> spend(const std::string& token);
  void restore(const std::string& token, entry e);
  /// Forgets a token whose issuing was not committed.
  void forget(const std::string& token);

  /// Writes the tokens issued since the last call (one transaction).
  result<void> persist_issued();
  /// Deletes the tokens spent since the last call, and the expired ones.
  result<void> persist_spent();

 private:
  explicit ownership_tokens(std::optional<sqlite::database> db);

  mutable std::mutex mutex_;
  std::optional<sqlite::database> db_;
  std::map<std::string, entry, std::less<>> tokens_;
  std::vector<std::string> issued_, spent_;  ///< not in the file yet / still in it
};

}  // namespace iotblocks::gateway
