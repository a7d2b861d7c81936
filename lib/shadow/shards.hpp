// Private: the lock-sharded map of documents behind memory_store and sqlite_store's cache.
#pragma once

#include <iotblocks/shadow/document.hpp>

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace iotblocks::shadow::detail {

inline constexpr std::size_t shard_count = 64;

struct shard_map {
  std::mutex mu;
  std::unordered_map<std::string, document> docs;
};

/// "thing" or "thing/name": thing names cannot hold '/', so this is unambiguous.
inline std::string flat_key(const shadow_key& k) {
  std::string out;
  out.reserve(k.thing.size() + 1 + k.name.size());
  out.append(k.thing);
  if (!k.name.empty()) {
    out.push_back('/');
    out.append(k.name);
  }
  return out;
}

inline std::size_t shard_of(std::string_view flat) noexcept {
  return std::hash<std::string_view>{}(flat) % shard_count;
}

}  // namespace iotblocks::shadow::detail
