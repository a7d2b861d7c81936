// Password users (include/iotblocks/registry/users.hpp): PBKDF2-HMAC-SHA256 hashes with a
// per-user random salt in SQLite, compared in constant time.
#include <iotblocks/registry/users.hpp>

#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/error.hpp>

#include "core/sqlite.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <mutex>
#include <span>

namespace iotblocks::registry {
namespace {

constexpr std::size_t salt_size = 16;
constexpr std::size_t hash_size = 32;
constexpr std::uint32_t max_iterations = 10'000'000;

bool pbkdf2(std::string_view password, bytes_view salt, std::uint32_t iterations,
            std::span<unsigned char> out) {
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()),
                           static_cast<int>(salt.size()), static_cast<int>(iterations),
                           EVP_sha256(), static_cast<int>(out.size()), out.data()) == 1;
}

failure bad(std::string message) {
  return failure{core::error::invalid_argument, std::move(message), {}};
}

}  // namespace

std::optional<password_hash> parse_password_hash(std::string_view encoded) {
  constexpr std::string_view scheme = "pbkdf2-sha256$";
  if (!encoded.starts_with(scheme)) return std::nullopt;
  encoded.remove_prefix(scheme.size());
  const auto d1 = encoded.find('$');
  if (d1 == std::string_view::npos) return std::nullopt;
  const auto d2 = encoded.find('$', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  password_hash out;
  const auto digits = encoded.substr(0, d1);
  if (std::from_chars(digits.data(), digits.data() + digits.size(), out.iterations).ptr !=
          digits.data() + digits.size() ||
      out.iterations < 1 || out.iterations > max_iterations) {
    return std::nullopt;
  }
  auto salt = from_base64(encoded.substr(d1 + 1, d2 - d1 - 1));
  auto hash = from_base64(encoded.substr(d2 + 1));
  if (!salt || !hash || hash->size() != hash_size) return std::nullopt;
  out.salt = std::move(*salt);
  out.hash = std::move(*hash);
  return out;
}

result<std::string> hash_password(std::string_view password, std::uint32_t iterations) {
  if (iterations < 1 || iterations > max_iterations) return bad("bad PBKDF2 iteration count");
  if (password.size() > 65535) return bad("password too long");
  std::array<unsigned char, salt_size> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return failure{core::error::io_error, "no random bytes for a salt", {}};
  }
  std::array<unsigned char, hash_size> hash{};
  const bytes_view salt_view{reinterpret_cast<const std::byte*>(salt.data()), salt.size()};
  if (!pbkdf2(password, salt_view, iterations, hash)) {
    return failure{core::error::io_error, "PBKDF2 failed", {}};
  }
  return "pbkdf2-sha256$" + std::to_string(iterations) + "$" + to_base64(salt_view) + "$" +
         to_base64({reinterpret_cast<const std::byte*>(hash.data()), hash.size()});
}

bool verify_password(std::string_view encoded, std::string_view password) {
  if (password.size() > 65535) return false;
  auto e = parse_password_hash(encoded);
  if (!e) return false;
  std::array<unsigned char, hash_size> got{};
  if (!pbkdf2(password, e->salt, e->iterations, got)) return false;
  return CRYPTO_memcmp(got.data(), e->hash.data(), hash_size) == 0;
}

struct user_store::impl {
  explicit impl(sqlite::database d) : db(std::move(d)) {}
  mutable std::mutex mutex;
  sqlite::database db;
  std::uint32_t iterations = 0;
  // Compared against when a name is unknown, so both paths cost one PBKDF2.
  std::string dummy;
};

user_store::user_store(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
user_store::~user_store() = default;

result<std::unique_ptr<user_store>> user_store::open(const std::string& path,
                                                     std::uint32_t iterations) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto ok = db->exec("CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, hash TEXT NOT "
                         "NULL, updated_ms INTEGER NOT NULL)");
      !ok) {
    return std::move(ok).take_failure();
  }
  auto i = std::make_unique<impl>(std::move(*db));
  i->iterations = iterations;
  auto dummy = hash_password("no such user", iterations);
  if (!dummy) return std::move(dummy).take_failure();
  i->dummy = std::move(*dummy);
  std::unique_ptr<user_store> out(new user_store(std::move(i)));
  out->recount();
  return out;
}

result<void> user_store::put(std::string_view name, std::string_view password) {
  if (name.empty() || name.size() > 256) return bad("user name must be 1..256 bytes");
  if (password.empty()) return bad("password must not be empty");
  auto hash = hash_password(password, impl_->iterations);
  if (!hash) return std::move(hash).take_failure();
  std::lock_guard lock(impl_->mutex);
  auto st =
      impl_->db.prepare("INSERT OR REPLACE INTO users(name, hash, updated_ms) VALUES(?1, ?2, ?3)");
  if (!st) return std::move(st).take_failure();
  st->bind(1, name).bind(2, std::string_view(*hash)).bind(3, default_clock().now_ms());
  if (auto ok = st->run(); !ok) return ok;
  count_.store(names_locked().size());
  return {};
}

result<bool> user_store::remove(std::string_view name) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->db.prepare("DELETE FROM users WHERE name = ?1");
  if (!st) return std::move(st).take_failure();
  st->bind(1, name);
  if (auto ok = st->run(); !ok) return std::move(ok).take_failure();
  const bool removed = impl_->db.changes() > 0;
  count_.store(names_locked().size());
  return removed;
}

bool user_store::check(std::string_view name, std::string_view password) const {
  std::string hash;
  {
    std::lock_guard lock(impl_->mutex);
    auto st = impl_->db.prepare("SELECT hash FROM users WHERE name = ?1");
    if (!st) return false;
    st->bind(1, name);
    auto row = st->step();
    if (row && *row) hash = std::string(st->column_text(0));
  }
  if (hash.empty()) {
    (void)verify_password(impl_->dummy, password);  // same cost as a known name
    return false;
  }
  return verify_password(hash, password);
}

std::optional<std::string> user_store::encoded(std::string_view name) const {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->db.prepare("SELECT hash FROM users WHERE name = ?1");
  if (!st) return std::nullopt;
  st->bind(1, name);
  auto row = st->step();
  if (!row || !*row) return std::nullopt;
  return std::string(st->column_text(0));
}

void user_store::recount() {
  std::lock_guard lock(impl_->mutex);
  count_.store(names_locked().size());
}

std::vector<std::string> user_store::names() const {
  std::lock_guard lock(impl_->mutex);
  return names_locked();
}

std::vector<std::string> user_store::names_locked() const {
  std::vector<std::string> out;
  auto st = impl_->db.prepare("SELECT name FROM users ORDER BY name");
  if (!st) return out;
  while (true) {
    auto row = st->step();
    if (!row || !*row) break;
    out.emplace_back(st->column_text(0));
  }
  return out;
}

}  // namespace iotblocks::registry
