// keyed_store: open addressing over an arena of records.
//
// Record (8-byte words, at a word offset in the arena):
//   word 0: 64-bit hash of (key, field)
//   word 1: key length (bits 0..15), field length (16..31), flags (32..)
//   state_size bytes of detector state, then key and field bytes, padded to 8.
// Slots hold (32-bit hash tag, word offset + 1); 0 marks an empty slot. Linear
// probing, load <= 1/2, backward-shift deletion; erased records are garbage
// until a compaction rewrites the arena.
#include "anomaly/hash_mix.hpp"
#include "anomaly/keyed_store_impl.hpp"

#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/keyed_store.hpp>
#include <iotblocks/anomaly/pewma.hpp>
#include <iotblocks/core/utf8.hpp>

#include <algorithm>
#include <cstring>
#include <random>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace iotblocks::anomaly {

using detail::store_core;

namespace detail {
namespace {

// The home slot of hash `h` in a table of mask + 1 slots (a power of two): the low
// bits, which fit std::size_t on 32-bit CPUs too.
inline std::size_t slot_of(std::uint64_t h, std::size_t mask) noexcept {
  return static_cast<std::size_t>(h & mask);
}

std::uint64_t hash_bytes(std::string_view s, std::uint64_t h) noexcept {
  constexpr std::uint64_t k1 = 0xa0761d6478bd642full, k2 = 0xe7037ed1a0b428dbull;
  h = mix(h ^ s.size(), k1);
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix(h ^ w, k2);
  }
  if (i < s.size()) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = mix(h ^ w, k1);
  }
  return h;
}

}  // namespace

void advise_huge(void* p, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  (void)::madvise(p, bytes, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

store_core::store_core(std::shared_ptr<const detector> m)
    : model(std::move(m)),
      pewma_model(model->as_pewma()),
      state_words((model->state_size() + 7) / 8),
      seed(std::random_device{}() * 0x9E3779B97F4A7C15ull ^ 0x5851F42D4C957F2Dull) {
  slots.assign(16, slot{});
}

std::uint64_t store_core::hash(std::string_view key, std::string_view field) const noexcept {
  return mix(hash_bytes(field, hash_bytes(key, seed)), 0x8ebc6af09c88c6e3ull);
}

std::size_t store_core::record_words(std::size_t key_len, std::size_t field_len) const noexcept {
  return 2 + state_words + (key_len + field_len + 7) / 8;
}

std::size_t store_core::find_slot(std::uint64_t h, std::string_view key, std::string_view field,
                                  bool& found) const noexcept {
  const std::size_t mask = slots.size() - 1;
  const auto tag = static_cast<std::uint32_t>(h >> 32);
  for (std::size_t i = slot_of(h, mask);; i = (i + 1) & mask) {
    const slot s = slots[i];
    if (s.offset == 0) {
      found = false;
      return i;
    }
    if (s.tag == tag && matches(s.offset - 1, h, key, field)) {
      found = true;
      return i;
    }
  }
}

void store_core::grow() {
  std::vector<slot, big_allocator<slot>> bigger(slots.size() * 2);
  const std::size_t mask = bigger.size() - 1;
  for (const slot s : slots) {
    if (s.offset == 0) continue;
    const std::uint64_t h = arena[s.offset - 1];
    std::size_t i = slot_of(h, mask);
    while (bigger[i].offset != 0) i = (i + 1) & mask;
    bigger[i] = s;
  }
  slots.swap(bigger);
  ++epoch;
}

std::error_code store_core::check_key(std::string_view key, std::string_view field) const noexcept {
  if (key.empty() || field.empty() || key.size() > max_key_length ||
      field.size() > max_key_length || !is_valid_utf8(key, false) || !is_valid_utf8(field, false)) {
    return error::invalid_key;
  }
  return {};
}

std::uint64_t* store_core::insert(std::size_t slot_index, std::uint64_t h, std::string_view key,
                                  std::string_view field) {
  const std::size_t words = record_words(key.size(), field.size());
  const std::size_t off = arena.size();
  arena.resize(off + words, 0);
  std::uint64_t* r = arena.data() + off;
  r[0] = h;
  r[1] = key.size() | (field.size() << 16) | dirty_flag;
  model->init({reinterpret_cast<std::byte*>(r + 2), model->state_size()});
  char* k = reinterpret_cast<char*>(r + 2 + state_words);
  std::memcpy(k, key.data(), key.size());
  std::memcpy(k + key.size(), field.data(), field.size());
  slots[slot_index] = {static_cast<std::uint32_t>(h >> 32), static_cast<std::uint32_t>(off + 1)};
  ++live;
  if (live * 2 > slots.size()) grow();
  return arena.data() + off;
}

std::uint64_t* store_core::find_or_insert(std::string_view key, std::string_view field,
                                          std::error_code& ec) {
  if (!lengths_ok(key, field)) {
    ec = error::invalid_key;
    return nullptr;
  }
  return find_or_insert(hash(key, field), key, field, ec);
}

// Keys are checked for UTF-8 only when they are new: a stored key was valid.
std::uint64_t* store_core::find_or_insert(std::uint64_t h, std::string_view key,
                                          std::string_view field, std::error_code& ec) {
  ec = {};
  bool found = false;
  const std::size_t i = find_slot(h, key, field, found);
  if (found) return arena.data() + (slots[i].offset - 1);
  ec = check_key(key, field);
  if (ec) return nullptr;
  if (live >= max_series) {
    ec = error::too_many_series;
    return nullptr;
  }
  if (arena.size() + record_words(key.size(), field.size()) >= 0xFFFFFFFFu) {
    compact();
    if (arena.size() + record_words(key.size(), field.size()) >= 0xFFFFFFFFu) {
      ec = error::too_many_series;  // the arena is limited to 2^32 words (32 GiB)
      return nullptr;
    }
    return find_or_insert(h, key, field, ec);
  }
  return insert(i, h, key, field);
}

const std::uint64_t* store_core::find(std::string_view key, std::string_view field) const noexcept {
  if (check_key(key, field)) return nullptr;
  bool found = false;
  const std::size_t i = find_slot(hash(key, field), key, field, found);
  return found ? arena.data() + (slots[i].offset - 1) : nullptr;
}

bool store_core::erase(std::string_view key, std::string_view field) {
  if (check_key(key, field)) return false;
  bool found = false;
  std::size_t i = find_slot(hash(key, field), key, field, found);
  if (!found) return false;
  std::uint64_t* r = arena.data() + (slots[i].offset - 1);
  r[1] |= erased_flag;
  garbage += record_words(r[1] & 0xFFFF, (r[1] >> 16) & 0xFFFF);
  if (!db_path.empty()) erased.emplace_back(std::string(key), std::string(field));
  --live;
  // Backward-shift deletion keeps probe sequences intact without tombstones.
  const std::size_t mask = slots.size() - 1;
  for (std::size_t j = (i + 1) & mask; slots[j].offset != 0; j = (j + 1) & mask) {
    const std::size_t home = slot_of(arena[slots[j].offset - 1], mask);
    if (((j - home) & mask) >= ((j - i) & mask)) {
      slots[i] = slots[j];
      i = j;
    }
  }
  slots[i] = slot{};
  ++epoch;
  if (garbage > 1024 && garbage * 2 > arena.size()) compact();
  return true;
}

void store_core::compact() {
  std::vector<std::uint64_t, big_allocator<std::uint64_t>> fresh;
  fresh.reserve(arena.size() - garbage);
  std::vector<slot, big_allocator<slot>> table(slots.size());
  const std::size_t mask = table.size() - 1;
  for_each_record([&](const std::uint64_t* r) {
    const std::size_t off = fresh.size();
    const std::size_t words = record_words(r[1] & 0xFFFF, (r[1] >> 16) & 0xFFFF);
    fresh.insert(fresh.end(), r, r + words);
    std::size_t i = slot_of(r[0], mask);
    while (table[i].offset != 0) i = (i + 1) & mask;
    table[i] = {static_cast<std::uint32_t>(r[0] >> 32), static_cast<std::uint32_t>(off + 1)};
  });
  arena.swap(fresh);
  slots.swap(table);
  garbage = 0;
  ++epoch;
}

void store_core::clear() {
  if (!db_path.empty()) {
    for_each_record([&](const std::uint64_t* r) {
      erased.emplace_back(std::string(record_key(r)), std::string(record_field(r)));
    });
  }
  arena.clear();
  slots.assign(16, slot{});
  live = garbage = 0;
  ++epoch;
}

std::string_view store_core::record_key(const std::uint64_t* r) const noexcept {
  return {reinterpret_cast<const char*>(r + 2 + state_words),
          static_cast<std::size_t>(r[1] & 0xFFFF)};
}
std::string_view store_core::record_field(const std::uint64_t* r) const noexcept {
  return {reinterpret_cast<const char*>(r + 2 + state_words) + (r[1] & 0xFFFF),
          static_cast<std::size_t>((r[1] >> 16) & 0xFFFF)};
}

}  // namespace detail

namespace {

std::error_code update_state(const store_core& core, std::uint64_t* r, double value,
                             std::int64_t time_ms, point_result& out) noexcept {
  if (core.pewma_model != nullptr) {
    return core.pewma_model->update(*std::launder(reinterpret_cast<pewma_state*>(r + 2)), value,
                                    out);
  }
  return core.model->update({reinterpret_cast<std::byte*>(r + 2), core.model->state_size()}, value,
                            time_ms, out);
}

}  // namespace

// ---- keyed_store

keyed_store::keyed_store(std::shared_ptr<const detector> model)
    : impl_(std::make_unique<impl>(std::move(model))) {}
keyed_store::keyed_store(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
keyed_store::keyed_store(keyed_store&&) noexcept = default;
keyed_store& keyed_store::operator=(keyed_store&&) noexcept = default;
keyed_store::~keyed_store() = default;

keyed_store& keyed_store::max_series(std::size_t n) noexcept {
  impl_->max_series = n;
  return *this;
}
std::size_t keyed_store::max_series() const noexcept { return impl_->max_series; }
keyed_store& keyed_store::max_key_length(std::size_t n) noexcept {
  impl_->max_key_length = std::min<std::size_t>(n, 0xFFFF);
  return *this;
}
std::size_t keyed_store::max_key_length() const noexcept { return impl_->max_key_length; }

std::error_code keyed_store::score(std::string_view key, std::string_view field, double value,
                                   std::int64_t time_ms, point_result& out) {
  std::error_code ec;
  const std::size_t before = impl_->live;
  std::uint64_t* r = impl_->find_or_insert(key, field, ec);
  if (ec) return ec;
  ec = update_state(*impl_, r, value, time_ms, out);
  if (!ec) {
    r[1] |= store_core::dirty_flag;
  } else if (impl_->live != before) {  // a rejected first value creates no series
    impl_->erase(key, field);
  }
  return ec;
}

result<point_result> keyed_store::score(std::string_view key, std::string_view field, double value,
                                        std::int64_t time_ms) {
  point_result out;
  if (auto ec = score(key, field, value, time_ms, out)) {
    return failure{ec, ec.message(), {}};
  }
  return out;
}

void keyed_store::score(std::span<const keyed_point> points, std::span<point_result> results,
                        std::span<std::error_code> errors) {
  // A software pipeline, `dist` points between stages: hash point i + 2 dist and
  // prefetch its home slot; walk the slots of point i + dist to the first tag match
  // and prefetch that record; score point i, using the candidate record when it
  // matches (and no insertion moved records since), the full lookup otherwise.
  // Prefetches are hints; results are exactly those of score() point by point.
  constexpr std::size_t dist = 16, ring = 64;
  static_assert(ring > 2 * dist && (ring & (ring - 1)) == 0);
  const std::size_t n = std::min({points.size(), results.size(), errors.size()});
  auto& core = *impl_;
  std::uint64_t hashes[ring];
  std::uint32_t candidates[ring];  // word offset + 1 of the record to try; 0: none
  std::uint64_t epochs[ring];
  auto hash_stage = [&](std::size_t i) {
    const auto& p = points[i];
    const std::uint64_t h = core.hash(p.key, p.field);
    hashes[i % ring] = h;
    __builtin_prefetch(&core.slots[detail::slot_of(h, core.slots.size() - 1)]);
  };
  auto probe_stage = [&](std::size_t i) {
    const std::uint64_t h = hashes[i % ring];
    const std::size_t mask = core.slots.size() - 1;
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    std::uint32_t found = 0;
    for (std::size_t j = detail::slot_of(h, mask), probes = 0; probes < 8;
         j = (j + 1) & mask, ++probes) {
      const auto s = core.slots[j];
      if (s.offset == 0) break;
      if (s.tag == tag) {
        found = s.offset;
        break;
      }
    }
    candidates[i % ring] = found;
    epochs[i % ring] = core.epoch;
    if (found != 0) {
      const std::uint64_t* r = core.arena.data() + (found - 1);
      __builtin_prefetch(r, 1);
      __builtin_prefetch(r + core.state_words + 4);  // key and field, when on the next line
    }
  };
  const std::size_t lead = std::min(n, 2 * dist);
  for (std::size_t i = 0; i < lead; ++i) hash_stage(i);
  for (std::size_t i = 0; i < std::min(n, dist); ++i) probe_stage(i);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + 2 * dist < n) hash_stage(i + 2 * dist);
    if (i + dist < n) probe_stage(i + dist);
    const auto& p = points[i];
    auto& ec = errors[i];
    if (!core.lengths_ok(p.key, p.field)) {
      ec = error::invalid_key;
      continue;
    }
    const std::uint64_t h = hashes[i % ring];
    std::uint64_t* r = nullptr;
    const std::size_t before = core.live;
    if (const std::uint32_t c = candidates[i % ring];
        c != 0 && epochs[i % ring] == core.epoch && core.matches(c - 1, h, p.key, p.field)) {
      r = core.arena.data() + (c - 1);
      ec = {};
    } else {
      r = core.find_or_insert(h, p.key, p.field, ec);
      if (ec) continue;
    }
    ec = update_state(core, r, p.value, p.time_ms, results[i]);
    if (!ec) {
      r[1] |= store_core::dirty_flag;
    } else if (core.live != before) {
      core.erase(p.key, p.field);
    }
  }
}

bool keyed_store::contains(std::string_view key, std::string_view field) const noexcept {
  return impl_->find(key, field) != nullptr;
}
bool keyed_store::erase(std::string_view key, std::string_view field) {
  return impl_->erase(key, field);
}
void keyed_store::clear() { impl_->clear(); }
std::size_t keyed_store::size() const noexcept { return impl_->live; }
std::size_t keyed_store::memory_bytes() const noexcept {
  std::size_t erased_bytes = 0;
  for (const auto& [k, f] : impl_->erased)
    erased_bytes += sizeof(k) * 2 + k.capacity() + f.capacity();
  return sizeof(impl) + impl_->arena.capacity() * 8 +
         impl_->slots.capacity() * sizeof(store_core::slot) + erased_bytes;
}
const detector& keyed_store::model() const noexcept { return *impl_->model; }
const std::shared_ptr<const detector>& keyed_store::model_ptr() const noexcept {
  return impl_->model;
}

void keyed_store::for_each(
    const std::function<void(std::string_view, std::string_view, bytes_view)>& visit) const {
  impl_->for_each_record([&](const std::uint64_t* r) {
    visit(impl_->record_key(r), impl_->record_field(r),
          {reinterpret_cast<const std::byte*>(r + 2), impl_->model->state_size()});
  });
}

}  // namespace iotblocks::anomaly
