#include <iotblocks/policy/cache.hpp>

#include <bit>
#include <cstring>

namespace iotblocks::policy {
namespace {

// A fast non-cryptographic hash (FxHash-style multiply-rotate over 8-byte words)
// of the last 32 bytes and the length: resources of one connection share long
// ARN prefixes and differ at the end; collisions only cost a compare.
std::uint64_t hash(std::string_view s, std::uint16_t action) noexcept {
  constexpr std::uint64_t k = 0x517cc1b727220a95ULL;
  std::uint64_t h = action;
  if (s.size() > 32) s.remove_prefix(s.size() - 32);
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, 8);
    h = (std::rotl(h, 5) ^ w) * k;
  }
  std::uint64_t tail = 0;
  if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (std::rotl(h, 5) ^ tail) * k;
  return h ^ (h >> 29);
}

}  // namespace

decision_cache::decision_cache(std::size_t capacity)
    : slots_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity)), mask_(slots_.size() - 1) {}

const decision* decision_cache::find(std::uint64_t generation, const request& req) noexcept {
  if (req.action == request::unknown_action) return nullptr;
  const std::uint64_t h = hash(req.resource, req.action.value) ^ req.resource.size();
  const std::size_t set = static_cast<std::size_t>(h) & mask_ & ~std::size_t{1};
  for (std::size_t way = 0; way < 2; ++way) {
    const slot& s = slots_[set + way];
    if (s.used && s.hash == h && s.generation == generation && s.action == req.action &&
        s.resource == req.resource) {
      ++hits_;
      return &s.value;
    }
  }
  ++misses_;
  return nullptr;
}

void decision_cache::insert(std::uint64_t generation, const request& req, const decision& d) {
  if (req.action == request::unknown_action || req.resource.size() > max_resource_length_) return;
  const std::uint64_t h = hash(req.resource, req.action.value) ^ req.resource.size();
  const std::size_t set = static_cast<std::size_t>(h) & mask_ & ~std::size_t{1};
  // Newest in way 0; the previous way-0 entry moves to way 1 unless way 0 is stale.
  slot& first = slots_[set];
  if (first.used && first.generation == generation) std::swap(first, slots_[set + 1]);
  first.used = true;
  first.hash = h;
  first.generation = generation;
  first.action = req.action;
  first.resource.assign(req.resource);
  first.value = d;
}

void decision_cache::clear() noexcept {
  for (auto& s : slots_) s.used = false;
}

}  // namespace iotblocks::policy
