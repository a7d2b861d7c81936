#include "gateway/ownership_tokens.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/provisioning/error.hpp>

#include <openssl/rand.h>

#include <array>

namespace iotblocks::gateway {
namespace {

using provisioning::error;

constexpr std::string_view schema =
    "CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, certificate_id TEXT NOT NULL, "
    "expires_ms INTEGER NOT NULL)";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

failure storage(const failure& f) {
  return failure{error::internal_error, "provisioning_tokens.db: " + f.describe(), {}};
}

}  // namespace

ownership_tokens::ownership_tokens(std::optional<sqlite::database> db) : db_(std::move(db)) {}

result<std::unique_ptr<ownership_tokens>> ownership_tokens::open(const std::string& path) {
  if (path.empty()) return std::unique_ptr<ownership_tokens>(new ownership_tokens(std::nullopt));
  auto db = sqlite::database::open(path);
  if (!db) return storage(db.fail());
  if (auto r = db->exec(schema); !r) return storage(r.fail());
  std::unique_ptr<ownership_tokens> t(new ownership_tokens(std::move(*db)));
  auto st = t->db_->prepare("SELECT token, certificate_id, expires_ms FROM tokens");
  if (!st) return storage(st.fail());
  const auto now = now_ms();
  while (true) {
    auto row = st->step();
    if (!row) return storage(row.fail());
    if (!*row) break;
    if (st->column_int64(2) <= now) continue;  // deleted by the next persist_spent()
    t->tokens_.emplace(std::string(st->column_text(0)),
                       entry{std::string(st->column_text(1)), st->column_int64(2)});
  }
  return t;
}

result<std::string> ownership_tokens::issue(const std::string& certificate_id) {
  std::array<unsigned char, 32> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return failure{error::internal_error, "no randomness for the ownership token", {}};
  }
  std::string token =
      to_hex(bytes_view(reinterpret_cast<const std::byte*>(raw.data()), raw.size()));
  const auto now = now_ms();
  std::lock_guard lock(mutex_);
  std::erase_if(tokens_, [&](const auto& e) { return e.second.expires_ms <= now; });
  if (tokens_.size() >= max_outstanding) {
    return failure{error::limit_exceeded, "too many certificate ownership tokens outstanding", {}};
  }
  const auto expires = now + std::chrono::milliseconds(lifetime).count();
  tokens_.emplace(token, entry{certificate_id, expires});
  if (db_) issued_.push_back(token);
  return token;
}

std::optional<std::string> ownership_tokens::certificate_of(const std::string& token) const {
  std::lock_guard lock(mutex_);
  const auto found = tokens_.find(token);
  if (found == tokens_.end() || found->second.expires_ms <= now_ms()) return std::nullopt;
  return found->second.certificate_id;
}

std::optional<ownership_tokens::entry> ownership_tokens::spend(const std::string& token) {
  std::lock_guard lock(mutex_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  auto e = std::move(it->second);
  tokens_.erase(it);
  if (db_) spent_.push_back(token);
  return e;
}

void ownership_tokens::restore(const std::string& token, entry e) {
  std::lock_guard lock(mutex_);
  tokens_.insert_or_assign(token, std::move(e));
  std::erase(spent_, token);
}

void ownership_tokens::forget(const std::string& token) {
  std::lock_guard lock(mutex_);
  tokens_.erase(token);
  std::erase(issued_, token);
}

result<void> ownership_tokens::persist_issued() {
  std::lock_guard lock(mutex_);
  if (!db_ || issued_.empty()) return {};
  sqlite::transaction tx{*db_};
  if (!tx.begun()) return storage(tx.begun().fail());
  auto st = db_->prepare(
      "INSERT OR REPLACE INTO tokens(token, certificate_id, expires_ms) "
      "VALUES(?1, ?2, ?3)");
  if (!st) return storage(st.fail());
  for (const auto& token : issued_) {
    const auto it = tokens_.find(token);
    if (it == tokens_.end()) continue;  // spent or expired already
    st->bind(1, std::string_view(token)).bind(2, std::string_view(it->second.certificate_id));
    st->bind(3, it->second.expires_ms);
    if (auto r = st->run(); !r) return storage(r.fail());
  }
  if (auto r = tx.commit(); !r) return storage(r.fail());
  issued_.clear();
  return {};
}

result<void> ownership_tokens::persist_spent() {
  std::lock_guard lock(mutex_);
  if (!db_ || spent_.empty()) return {};
  sqlite::transaction tx{*db_};
  if (!tx.begun()) return storage(tx.begun().fail());
  auto st = db_->prepare("DELETE FROM tokens WHERE token = ?1");
  if (!st) return storage(st.fail());
  for (const auto& token : spent_) {
    st->bind(1, std::string_view(token));
    if (auto r = st->run(); !r) return storage(r.fail());
  }
  auto expired = db_->prepare("DELETE FROM tokens WHERE expires_ms <= ?1");
  if (!expired) return storage(expired.fail());
  expired->bind(1, now_ms());
  if (auto r = expired->run(); !r) return storage(r.fail());
  if (auto r = tx.commit(); !r) return storage(r.fail());
  spent_.clear();
  return {};
}

}  // namespace iotblocks::gateway
