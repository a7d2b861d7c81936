// SCRAM-SHA-256 (MQTT 5 enhanced authentication) against the password users' stored
// PBKDF2 hashes (registry::user_store, include/iotblocks/registry/users.hpp).
#include <iotblocks/registry/users.hpp>

#include "gateway/enhanced_auth.hpp"
#include "gateway/security.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <optional>
#include <vector>

namespace iotblocks::gateway::detail {

namespace {

constexpr std::size_t salt_size = 16;
constexpr std::size_t hash_size = 32;

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
    std::optional<registry::password_hash> creds;
    if (auto encoded = lookup_(user_)) creds = registry::parse_password_hash(*encoded);
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

}  // namespace iotblocks::gateway::detail
