// Tags by resource ARN in SQLite (see aws_tags.hpp).
#include <iotblocks/registry/error.hpp>

#include <iotblocks/net/http_server.hpp>

#include "gateway/aws_tags.hpp"
#include "sqlite/database.hpp"

#include <algorithm>
#include <set>

namespace iotblocks::gateway::aws {
namespace {

constexpr std::string_view schema =
    "CREATE TABLE IF NOT EXISTS tags(arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
    "PRIMARY KEY(arn, key)) WITHOUT ROWID";

/// Characters (UTF-8 code points) in `s`.
std::size_t characters(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

/// TagKey's pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*, with every non-ASCII character allowed.
bool valid_key_character(unsigned char c) noexcept {
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == ' ' || c == '_' || c == '.' || c == ':' || c == '/' || c == '=' || c == '+' ||
         c == '-' || c == '@';
}

failure storage_failure(const failure& f) {
  return failure{registry::error::storage, "tags: " + f.describe(), {}};
}

}  // namespace

std::optional<std::string> check_tags(std::span<const tag> tags, std::string_view field) {
  const std::string f(field);
  if (tags.size() > max_tags) {
    return f + ": at most " + std::to_string(max_tags) + " tags per resource";
  }
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const auto& t = tags[i];
    const std::string at = f + "[" + std::to_string(i) + "]";
    const std::size_t n = characters(t.key);
    if (n < 1 || n > max_tag_key) return at + ".Key: must be 1..128 characters";
    if (!std::all_of(t.key.begin(), t.key.end(),
                     [](char c) { return valid_key_character(static_cast<unsigned char>(c)); })) {
      return at + ".Key: only letters, digits, spaces and _.:/=+-@ are allowed";
    }
    if (t.key.size() >= 4 && std::equal(t.key.begin(), t.key.begin() + 4,
                                        "aws:", [](char a, char b) { return (a | 0x20) == b; })) {
      return at + ".Key: the prefix aws: is reserved for AWS";
    }
    if (characters(t.value) > max_tag_value) return at + ".Value: at most 256 characters";
    if (!seen.insert(t.key).second) return at + ".Key: " + t.key + " is given twice";
  }
  return std::nullopt;
}

std::optional<std::string> read_tag_list(const rapidjson::Value& v, std::string_view field,
                                         std::vector<tag>& out) {
  const std::string f(field);
  if (!v.IsArray()) return f + ": expected a list of {\"Key\", \"Value\"}";
  if (v.Size() > max_tags)
    return f + ": at most " + std::to_string(max_tags) + " tags per resource";
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const auto& t = v[i];
    const std::string at = f + "[" + std::to_string(i) + "]";
    if (!t.IsObject()) return at + ": expected an object";
    const auto* key = json::find(t, "Key");
    const auto* value = json::find(t, "Value");
    if (key == nullptr || !key->IsString()) return at + ".Key: expected a string";
    if (value != nullptr && !value->IsNull() && !value->IsString()) {
      return at + ".Value: expected a string";
    }
    tag one{std::string(json::view(*key)), {}};
    if (value != nullptr && value->IsString()) one.value = std::string(json::view(*value));
    out.push_back(std::move(one));
  }
  return check_tags(out, field);
}

std::optional<std::string> read_tagging_header(std::string_view h, std::vector<tag>& out) {
  while (!h.empty()) {
    const auto amp = h.find('&');
    const auto pair = h.substr(0, amp);
    if (!pair.empty()) {
      if (out.size() == max_tags)
        return "tags: at most " + std::to_string(max_tags) + " tags per resource";
      const auto eq = pair.find('=');
      out.push_back({net::percent_decode(pair.substr(0, eq)),
                     eq == std::string_view::npos ? std::string()
                                                  : net::percent_decode(pair.substr(eq + 1))});
    }
    if (amp == std::string_view::npos) break;
    h.remove_prefix(amp + 1);
  }
  return check_tags(out, "tags");
}

struct tag_store::impl {
  std::mutex mu;
  sqlite::database db;
  explicit impl(sqlite::database d) : db(std::move(d)) {}

  result<std::vector<tag>> list(std::string_view arn) {
    auto st = db.prepare("SELECT key, value FROM tags WHERE arn = ?1 ORDER BY key");
    if (!st) return storage_failure(st.fail());
    st->bind(1, arn);
    std::vector<tag> out;
    while (true) {
      auto row = st->step();
      if (!row) return storage_failure(row.fail());
      if (!*row) break;
      out.push_back({std::string(st->column_text(0)), std::string(st->column_text(1))});
    }
    return out;
  }
};

result<std::unique_ptr<tag_store>> tag_store::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  return std::unique_ptr<tag_store>(new tag_store(std::make_unique<impl>(std::move(*db))));
}

tag_store::tag_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
tag_store::~tag_store() = default;

result<void> tag_store::set(std::string_view arn, std::span<const tag> tags) {
  std::lock_guard lock(p_->mu);
  sqlite::transaction tx{p_->db};
  if (!tx.begun()) return storage_failure(tx.begun().fail());
  auto existing = p_->list(arn);
  if (!existing) return std::move(existing).take_failure();
  std::set<std::string_view> keys;
  for (const auto& t : *existing) keys.insert(t.key);
  for (const auto& t : tags) keys.insert(t.key);
  if (keys.size() > max_tags) {
    return failure{registry::error::limit_exceeded,
                   "tags: a resource has at most " + std::to_string(max_tags) + " tags (it has " +
                       std::to_string(existing->size()) + ")",
                   {}};
  }
  auto st = p_->db.prepare("INSERT OR REPLACE INTO tags(arn, key, value) VALUES(?1, ?2, ?3)");
  if (!st) return storage_failure(st.fail());
  for (const auto& t : tags) {
    st->bind(1, arn).bind(2, std::string_view(t.key)).bind(3, std::string_view(t.value));
    if (auto r = st->run(); !r) return storage_failure(r.fail());
  }
  if (auto r = tx.commit(); !r) return storage_failure(r.fail());
  return {};
}

result<void> tag_store::remove(std::string_view arn, std::span<const std::string> keys) {
  std::lock_guard lock(p_->mu);
  sqlite::transaction tx{p_->db};
  if (!tx.begun()) return storage_failure(tx.begun().fail());
  auto st = p_->db.prepare("DELETE FROM tags WHERE arn = ?1 AND key = ?2");
  if (!st) return storage_failure(st.fail());
  for (const auto& k : keys) {
    st->bind(1, arn).bind(2, std::string_view(k));
    if (auto r = st->run(); !r) return storage_failure(r.fail());
  }
  if (auto r = tx.commit(); !r) return storage_failure(r.fail());
  return {};
}

result<void> tag_store::remove_all(std::string_view arn) {
  std::lock_guard lock(p_->mu);
  auto st = p_->db.prepare("DELETE FROM tags WHERE arn = ?1");
  if (!st) return storage_failure(st.fail());
  st->bind(1, arn);
  if (auto r = st->run(); !r) return storage_failure(r.fail());
  return {};
}

result<std::vector<tag>> tag_store::list(std::string_view arn) {
  std::lock_guard lock(p_->mu);
  return p_->list(arn);
}

}  // namespace iotblocks::gateway::aws
