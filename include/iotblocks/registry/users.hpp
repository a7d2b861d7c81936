// Password users for devices without a certificate: usernames with PBKDF2-HMAC-SHA256 hashes
// (per-user random salt, never the password) in a SQLite file, checked in constant time.
// The gateway keeps them in data_dir/users.db (admin API `PUT /admin/users/{name}`); the
// mosquitto plugin and the gateway's HTTP auth endpoint check against the same file. Their
// policies are those attached to `users_principal` (the gateway's `default_policies`).
//
//   auto users = iotblocks::registry::user_store::open("users.db").value();
//   users->put("sensor-7", "s3cret").value();
//   users->check("sensor-7", "s3cret");   // true
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

/// PBKDF2-HMAC-SHA256 iterations of stored passwords.
inline constexpr std::uint32_t password_iterations = 150'000;

/// The policy principal of password users (and of clients without a certificate): the
/// gateway attaches its config's default_policies to it.
inline constexpr std::string_view users_principal = "iotblocks:default-policies";

/// "pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>", parsed.
struct password_hash {
  std::uint32_t iterations = 0;
  byte_buffer salt;
  byte_buffer hash;  ///< 32 bytes
};

/// Nothing for a malformed encoding (or iterations outside 1..10,000,000).
std::optional<password_hash> parse_password_hash(std::string_view encoded);
/// "pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>" with a 16-byte random salt.
result<std::string> hash_password(std::string_view password, std::uint32_t iterations);
/// Recomputes and compares in constant time; false for a malformed encoding.
bool verify_password(std::string_view encoded, std::string_view password);

/// Usernames and password hashes in SQLite, read at every call (so changes by another
/// process are seen at once). Distinct objects: safe. Shared objects: safe.
class user_store {
 public:
  /// Creates the file and its table when missing; `iterations` for put().
  static result<std::unique_ptr<user_store>> open(const std::string& path,
                                                  std::uint32_t iterations = password_iterations);
  ~user_store();
  /// Adds or replaces; errors for an empty name or password, or names over 256 bytes.
  result<void> put(std::string_view name, std::string_view password);
  /// false when there was no such user.
  result<bool> remove(std::string_view name);
  /// An unknown name costs one PBKDF2 too (no timing difference).
  bool check(std::string_view name, std::string_view password) const;
  /// The stored "pbkdf2-sha256$..." encoding of `name` (for SCRAM-SHA-256), or nothing.
  std::optional<std::string> encoded(std::string_view name) const;
  std::vector<std::string> names() const;
  /// No users (as of this object's last put/remove/open): passwords are off.
  bool empty() const noexcept { return count_.load() == 0; }

  struct impl;

 private:
  explicit user_store(std::unique_ptr<impl> i);
  void recount();
  std::vector<std::string> names_locked() const;  ///< impl mutex held
  std::unique_ptr<impl> impl_;
  std::atomic<std::size_t> count_{0};
};

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
