// Username/password for legacy devices: PBKDF2-HMAC-SHA256 hashes with a
// per-user random salt in SQLite, compared in constant time; and SCRAM-SHA-256
// (MQTT 5 enhanced authentication) against the same hashes.
#include <iotblocks/core/error.hpp>

#include "core/sqlite.hpp"
#include "gateway/enhanced_auth.hpp"
#include "gateway/security.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <mutex>
#include <optional>
#include <vector>

namespace iotblocks::gateway::detail {
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

// "pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>", parsed.
struct encoded_hash {
  std::uint32_t iterations = 0;
  byte_buffer salt;
  byte_buffer hash;
};

std::optional<encoded_hash> parse_encoded(std::string_view encoded) {
  constexpr std::string_view scheme = "pbkdf2-sha256$";
  if (!encoded.starts_with(scheme)) return std::nullopt;
  encoded.remove_prefix(scheme.size());
  const auto d1 = encoded.find('$');
  if (d1 == std::string_view::npos) return std::nullopt;
  const auto d2 = encoded.find('$', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  encoded_hash out;
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

}  // namespace

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
  auto e = parse_encoded(encoded);
  if (!e) return false;
  std::array<unsigned char, hash_size> got{};
  if (!pbkdf2(password, e->salt, e->iterations, got)) return false;
  return CRYPTO_memcmp(got.data(), e->hash.data(), hash_size) == 0;
}

// --- SCRAM-SHA-256 -------------------------------------------------------------

namespace {

using digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

digest hmac(bytes_view key, std::string_view msg) {
  digest out{};
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out.data(), &n);
  return out;
}

bytes_view as_bytes(const digest& d) {
  return {reinterpret_cast<const std::byte*>(d.data()), d.size()};
}

// The value of "<key>=" at the start of `attr`, or nothing.
std::optional<std::string_view> attribute(std::string_view attr, char key) {
  if (attr.size() < 2 || attr[0] != key || attr[1] != '=') return std::nullopt;
  return attr.substr(2);
}

// Splits "a,b,c" at commas.
std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

// RFC 5802 saslname: "=2C" is ',', "=3D" is '='; any other '=' is malformed.
std::optional<std::string> sasl_name(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
    } else if (in.substr(i, 3) == "=2C") {
      out += ',';
      i += 2;
    } else if (in.substr(i, 3) == "=3D") {
      out += '=';
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

bool printable_nonce(std::string_view n) {
  if (n.empty() || n.size() > 512) return false;
  for (char ch : n) {
    if (ch < 0x21 || ch > 0x7e || ch == ',') return false;
  }
  return true;
}

class scram_exchange final : public broker::auth_exchange {
 public:
  explicit scram_exchange(password_lookup lookup) : lookup_(std::move(lookup)) {}

  step next(bytes_view data) override {
    const std::string_view text{reinterpret_cast<const char*>(data.data()), data.size()};
    return stage_++ == 0 ? first(text) : final(text);
  }

 private:
  static step fail(mqtt::reason_code why = mqtt::reason_code::not_authorized) {
    step s;
    s.result = step::outcome::failure;
    s.reason = why;
    return s;
  }

  // client-first-message: gs2-header client-first-bare.
  step first(std::string_view msg) {
    // gs2-header: "n,," or "y,," (no channel binding over MQTT), optional "a=authzid".
    if (msg.size() < 3 || (msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',') return fail();
    const auto end = msg.find(',', 2);
    if (end == std::string_view::npos) return fail();
    if (end != 2 && !attribute(msg.substr(2, end - 2), 'a')) return fail();
    gs2_header_ = std::string(msg.substr(0, end + 1));
    bare_ = std::string(msg.substr(end + 1));
    const auto parts = split(bare_);
    if (parts.size() < 2) return fail();
    auto name = attribute(parts[0], 'n');
    auto nonce = attribute(parts[1], 'r');
    if (!name || !nonce || !printable_nonce(*nonce)) return fail();
    auto user = sasl_name(*name);
    if (!user || user->empty() || user->size() > 256) return fail();
    user_ = std::move(*user);
    std::optional<encoded_hash> creds;
    if (auto encoded = lookup_(user_)) creds = parse_encoded(*encoded);
    if (creds) {
      salted_ = std::move(creds->hash);
      salt_ = std::move(creds->salt);
      iterations_ = creds->iterations;
    } else {  // unknown: the same steps with a made-up salt, failing at the proof
      known_ = false;
      salt_.resize(salt_size);
      salted_.resize(hash_size);
      if (RAND_bytes(reinterpret_cast<unsigned char*>(salt_.data()), static_cast<int>(salt_size)) !=
          1) {
        return fail();
      }
      iterations_ = 4096;
    }
    std::array<unsigned char, 18> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) return fail();
    nonce_ = std::string(*nonce) +
             to_base64({reinterpret_cast<const std::byte*>(random.data()), random.size()});
    server_first_ = "r=" + nonce_ + ",s=" + to_base64(salt_) + ",i=" + std::to_string(iterations_);
    step s;
    s.result = step::outcome::more;
    s.data = to_buffer(server_first_);
    return s;
  }

  // client-final-message: "c=<gs2 header base64>,r=<nonce>[,ext],p=<proof base64>".
  step final(std::string_view msg) {
    const auto at = msg.rfind(",p=");
    if (at == std::string_view::npos) return fail();
    const auto without_proof = msg.substr(0, at);
    const auto parts = split(without_proof);
    if (parts.size() < 2) return fail();
    auto binding = attribute(parts[0], 'c');
    auto nonce = attribute(parts[1], 'r');
    if (!binding || !nonce || *nonce != nonce_) return fail();
    if (*binding != to_base64(to_buffer(gs2_header_))) return fail();
    auto proof = from_base64(msg.substr(at + 3));
    if (!proof || proof->size() != SHA256_DIGEST_LENGTH) return fail();
    const std::string auth_message = bare_ + "," + server_first_ + "," + std::string(without_proof);
    const digest client_key = hmac(salted_, "Client Key");
    digest stored_key{};
    SHA256(client_key.data(), client_key.size(), stored_key.data());
    const digest signature = hmac(as_bytes(stored_key), auth_message);
    digest recovered{};  // ClientKey = ClientProof XOR ClientSignature
    for (std::size_t i = 0; i < recovered.size(); ++i) {
      recovered[i] =
          static_cast<unsigned char>(std::to_integer<unsigned char>((*proof)[i]) ^ signature[i]);
    }
    digest check{};
    SHA256(recovered.data(), recovered.size(), check.data());
    const bool match = CRYPTO_memcmp(check.data(), stored_key.data(), check.size()) == 0;
    if (!match || !known_) return fail(mqtt::reason_code::bad_user_name_or_password);
    const digest server_key = hmac(salted_, "Server Key");
    step s;
    s.result = step::outcome::success;
    s.data = to_buffer("v=" + to_base64(as_bytes(hmac(as_bytes(server_key), auth_message))));
    s.identity = user_;
    return s;
  }

  password_lookup lookup_;
  int stage_ = 0;
  bool known_ = true;
  std::string gs2_header_, bare_, user_, nonce_, server_first_;
  byte_buffer salt_, salted_;
  std::uint32_t iterations_ = 0;
};

}  // namespace

broker::broker::enhanced_auth_fn scram_sha256(password_lookup lookup) {
  return [lookup = std::move(lookup)](
             const broker::client_info&) -> std::unique_ptr<broker::auth_exchange> {
    return std::make_unique<scram_exchange>(lookup);
  };
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

}  // namespace iotblocks::gateway::detail
