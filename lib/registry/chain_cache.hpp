// Private: chains that verified, keyed by their exact bytes, so that a device
// presenting the same chain again skips X509_verify_cert. The hash reads the
// sizes and the last bytes (signature bytes) of each certificate; equality
// compares every byte, so a collision only costs a comparison.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace iotblocks::registry::detail {

struct cached_chain {
  byte_buffer bytes;                 ///< the certificates, concatenated
  std::vector<std::uint32_t> sizes;  ///< of each certificate
  std::string leaf_id;               ///< the leaf certificate's id
  std::string anchor_id;             ///< the registered CA the chain ends at
  time_point not_before;             ///< latest notBefore of the built chain
  time_point not_after;              ///< earliest notAfter of the built chain
};

/// Distinct objects: safe. Shared objects: unsafe.
class chain_cache {
 public:
  explicit chain_cache(std::size_t capacity = 100'000) : capacity_(capacity) {}

  static std::uint64_t key(std::span<const bytes_view> chain) noexcept {
    constexpr std::size_t tail = 32;
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a over sizes and tails
    auto mix = [&h](std::uint8_t b) { h = (h ^ b) * 1099511628211ull; };
    for (const auto& c : chain) {
      for (int s = 0; s < 32; s += 8) mix(static_cast<std::uint8_t>(c.size() >> s));
      const std::size_t n = std::min(tail, c.size());
      for (std::size_t i = c.size() - n; i < c.size(); ++i)
        mix(std::to_integer<std::uint8_t>(c[i]));
    }
    return h;
  }

  const cached_chain* find(std::span<const bytes_view> chain) const noexcept {
    auto [lo, hi] = map_.equal_range(key(chain));
    for (auto it = lo; it != hi; ++it) {
      if (same(it->second, chain)) return &it->second;
    }
    return nullptr;
  }

  void insert(std::span<const bytes_view> chain, std::string leaf_id, std::string anchor_id,
              time_point not_before, time_point not_after) {
    if (capacity_ == 0 || find(chain) != nullptr) return;
    if (map_.size() >= capacity_) map_.erase(map_.begin());
    cached_chain entry{{}, {}, std::move(leaf_id), std::move(anchor_id), not_before, not_after};
    for (const auto& c : chain) {
      entry.bytes.insert(entry.bytes.end(), c.begin(), c.end());
      entry.sizes.push_back(static_cast<std::uint32_t>(c.size()));
    }
    map_.emplace(key(chain), std::move(entry));
  }

  void clear() noexcept { map_.clear(); }
  std::size_t size() const noexcept { return map_.size(); }

 private:
  static bool same(const cached_chain& e, std::span<const bytes_view> chain) noexcept {
    if (e.sizes.size() != chain.size()) return false;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < chain.size(); ++i) {
      if (e.sizes[i] != chain[i].size() ||
          (!chain[i].empty() &&
           std::memcmp(e.bytes.data() + offset, chain[i].data(), chain[i].size()) != 0)) {
        return false;
      }
      offset += chain[i].size();
    }
    return true;
  }

  std::size_t capacity_;
  std::unordered_multimap<std::uint64_t, cached_chain> map_;
};

}  // namespace iotblocks::registry::detail
