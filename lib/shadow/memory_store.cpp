#include <iotblocks/shadow/store.hpp>

#include "shadow/shards.hpp"

#include <algorithm>

namespace iotblocks::shadow {

void store::modify_async(const shadow_key& key, edit fn, done on_done) {
  const std::error_code ec = modify(key, fn);
  if (on_done) on_done(ec);
}

void store::modify_deferred(const shadow_key& key, owned_edit fn, done on_done) {
  modify_async(key, fn, std::move(on_done));
}

result<std::vector<std::string>> store::named_shadows(std::string_view, std::string_view,
                                                      std::size_t) {
  return failure{std::make_error_code(std::errc::operation_not_supported),
                 "this shadow store cannot list named shadows",
                 {}};
}

struct memory_store::shard : detail::shard_map {};

memory_store::memory_store() : shards_(std::make_unique<shard[]>(detail::shard_count)) {}
memory_store::~memory_store() = default;

std::error_code memory_store::modify(const shadow_key& key, edit fn) {
  std::string flat = detail::flat_key(key);
  shard& s = shards_[detail::shard_of(flat)];
  std::lock_guard lock(s.mu);
  auto [it, created] = s.docs.try_emplace(std::move(flat));
  const bool changed = fn(it->second);
  if (created && !changed) s.docs.erase(it);
  return {};
}

std::error_code memory_store::read(const shadow_key& key, function_ref<void(const document&)> fn) {
  const std::string flat = detail::flat_key(key);
  shard& s = shards_[detail::shard_of(flat)];
  std::lock_guard lock(s.mu);
  auto it = s.docs.find(flat);
  if (it == s.docs.end()) {
    static const document none;
    fn(none);
  } else {
    fn(it->second);
  }
  return {};
}

result<std::vector<std::string>> memory_store::named_shadows(std::string_view thing,
                                                             std::string_view from,
                                                             std::size_t limit) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < detail::shard_count; ++i) {  // every shard: a scan, for tests
    std::lock_guard lock(shards_[i].mu);
    for (const auto& [flat, doc] : shards_[i].docs) {
      if (!doc.exists() || flat.size() <= thing.size() || !flat.starts_with(thing) ||
          flat[thing.size()] != '/') {
        continue;
      }
      auto name = flat.substr(thing.size() + 1);
      if (name >= from) out.push_back(std::move(name));
    }
  }
  std::sort(out.begin(), out.end());
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::size_t memory_store::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < detail::shard_count; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].docs.size();
  }
  return n;
}

std::size_t memory_store::purge_tombstones(std::int64_t before) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < detail::shard_count; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += std::erase_if(shards_[i].docs, [before](const auto& kv) {
      return !kv.second.exists() && kv.second.deleted_at() < before;
    });
  }
  return n;
}

}  // namespace iotblocks::shadow
