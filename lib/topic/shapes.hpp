// Filters by shape: the front of the subscription index. A filter's shape is its
// depth, the positions of its '+' levels and whether it ends in '#'. A topic of L
// levels can only match filters of a few shapes (exact of depth L, '+' shapes of
// depth L, '#' shapes of depth <= L), and for each of them the one filter that
// could match is named by a key composed from the topic's level hashes: a lookup
// is one independent hash probe per registered shape, all issued before any is
// read, then one read of each matching filter's block (text and subscriptions).
//
// Filters that would make lookups slow stay in the trie (index.cpp): shared
// subscriptions, filters longer than max_text bytes or deeper than max_depth
// levels, and '+' shapes beyond the budget (max_wildcard_shapes).
#pragma once

#include "topic/hash.hpp"
#include "topic/paged_storage.hpp"

#include <iotblocks/topic/index.hpp>

#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace iotblocks::topic::detail {

/// One subscription: 16 bytes in a pool of 16-byte units.
struct record {
  std::uint32_t lo, hi;   // subscriber
  std::uint32_t id_opts;  // identifier (28 bits), qos (2), no_local (1), retain_as_published (1)
  std::uint32_t extra;    // retain handling (2 bits); next free block while on a free list

  subscriber_id subscriber() const noexcept { return (std::uint64_t{hi} << 32) | lo; }
  subscription_options options() const noexcept {
    return {static_cast<std::uint8_t>((id_opts >> 28) & 3u), ((id_opts >> 30) & 1u) != 0,
            (id_opts >> 31) != 0, static_cast<std::uint8_t>(extra & 3u), id_opts & 0x0FFF'FFFFu};
  }
  static record make(subscriber_id s, const subscription_options& o) noexcept {
    return {static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(s >> 32),
            o.identifier | (std::uint32_t{o.qos} << 28) | (o.no_local ? 1u << 30 : 0u) |
                (o.retain_as_published ? 1u << 31 : 0u),
            o.retain_handling};
  }
};
static_assert(sizeof(record) == 16);

class shape_table {
 public:
  static constexpr std::uint32_t max_depth = 32;  // levels before '#'
  static constexpr std::uint32_t max_text = 512;  // bytes
  static constexpr std::uint32_t page = paged_vector<record>::page;

  /// A filter prepared for the table.
  struct parsed {
    std::uint64_t key = 0;        // composed key: what a matching topic computes
    std::uint64_t signature = 0;  // the shape: depth, '+' mask, '#'
    std::uint32_t depth = 0;      // levels before '#'
    std::uint32_t plus = 0;       // bit i: level i is '+'
    bool hash = false;
  };

  shape_table();

  /// False when the (valid, non-shared) filter cannot live here at all.
  static bool parse(std::string_view filter, parsed& p) noexcept;
  /// Whether filters of this shape are in the table.
  bool has_shape(const parsed& p) const noexcept { return shape_of(p) != none; }
  /// Whether a new filter of this shape may be added (shape known or within budget).
  bool may_add(const parsed& p) const noexcept;

  /// Adds or replaces the record of its subscriber in `filter`: 1 added, 0 replaced,
  /// -1 when the filter is not here and `create` is false.
  int assign(const parsed& p, std::string_view filter, const record& r, bool create);
  /// 1 removed, 0 the filter is here without that subscriber, -1 the filter is not here.
  int remove(const parsed& p, std::string_view filter, subscriber_id s);

  /// Calls emit(record) for each subscription of each filter matching `topic`;
  /// stops and returns false when emit does (shape_lookup.hpp).
  template <class Emit>
  bool match(std::string_view topic, Emit&& emit) const;
  /// One lookup in steps, for batches (shape_lookup.hpp).
  class lookup;

  void clear();
  void max_wildcard_shapes(std::uint32_t n) noexcept { budget_ = n; }
  std::uint32_t max_wildcard_shapes() const noexcept { return budget_; }
  std::size_t filters() const noexcept { return used_; }
  std::size_t units() const noexcept { return pool_.size(); }
  /// Whether the pool may grow by a block of up to a page.
  bool full() const noexcept { return pool_.size() + 2 * page >= block_mask; }
  std::size_t memory() const noexcept;

 private:
  static constexpr std::uint32_t none = ~0u;
  struct slot {
    std::uint32_t tag;    // tag(key); its top bits are the home slot
    std::uint32_t block;  // 0 = empty; the top bits: the block's cache lines - 1
  };
  static constexpr std::uint32_t window = 8;  // slots a lookup reads at once
  static constexpr std::uint32_t block_bits = 28, block_mask = (1u << block_bits) - 1;
  // A slot's block with how many cache lines its first `units` span, which a lookup
  // prefetches as soon as the slot is read (up to 16).
  static std::uint32_t packed(std::uint32_t b, std::uint32_t units) noexcept {
    const std::uint32_t lines = ((b & 3u) * 16 + units * 16 + 63) / 64;
    return b | (std::min<std::uint32_t>(lines, 16u) - 1) << block_bits;
  }
  struct shape {
    std::uint32_t depth = 0, plus = 0, refs = 0;
    bool hash = false;
  };
  // Block header (a record): lo = subscriptions, hi = record capacity,
  // id_opts = text length | big << 16 | shape << 17, extra = index into big_ when big.
  static constexpr std::uint32_t big_flag = 1u << 16;
  static constexpr std::uint32_t max_shapes = 1u << 15;
  static std::uint32_t shape_in(const record& head) noexcept { return head.id_opts >> 17; }
  // The key's high half, never 0 (an empty slot's tag).
  static std::uint32_t tag(std::uint64_t key) noexcept {
    return static_cast<std::uint32_t>(key >> 32) | 1u;
  }

  std::uint32_t shape_of(const parsed& p) const noexcept {
    auto it = by_signature_.find(p.signature);
    return it == by_signature_.end() ? none : it->second;
  }
  std::uint32_t home(std::uint32_t t) const noexcept { return t >> (32 - bits_); }
  std::uint32_t mask() const noexcept { return (1u << bits_) - 1; }
  /// Whether the entry in slot i sorts after tag t searched at distance d from its home.
  bool after(const slot& s, std::uint32_t i, std::uint32_t t, std::uint32_t d) const noexcept {
    const std::uint32_t ds = (i - home(s.tag)) & mask();
    return ds < d || (ds == d && s.tag > t);
  }
  static std::uint32_t text_units(std::uint32_t len) noexcept { return (len + 15) / 16; }
  std::string_view text(std::uint32_t b) const noexcept {  // b: a block, unpacked
    const record& h = pool_[b];
    return {reinterpret_cast<const char*>(&pool_[b + 1]), h.id_opts & 0xFFFFu};
  }
  std::uint32_t find(const parsed& p, std::uint32_t id, std::string_view filter) const noexcept;
  void put(std::uint32_t i, slot s) noexcept;
  void set_block(std::uint32_t i, std::uint32_t b) noexcept { put(i, slot{table_[i].tag, b}); }
  void grow();
  void place(slot e) noexcept;
  void erase_slot(std::uint32_t i) noexcept;
  std::uint32_t alloc(std::uint32_t units);
  void release(std::uint32_t b, std::uint32_t units) noexcept;
  std::uint32_t add_shape(const parsed& p);
  void drop_shape(std::uint32_t id);
  void rebuild_candidates();

  // A Bloom filter of the tags in the table, one 64-bit word per 8 slots and two
  // bits per tag (about 3 % false positives): a batch lookup reads it first, as it
  // mostly stays in cache, and brings in the table lines of the keys it may hold
  // only. Removals leave their bits; it is rebuilt after a quarter of the table's
  // size of them, so a rebuild's scan costs at most 4 slots per removal.
  static std::uint64_t bloom_mix(std::uint32_t t) noexcept { return mum(t, 0x9E3779B97F4A7C15ull); }
  std::uint32_t bloom_word(std::uint64_t m) const noexcept {
    return static_cast<std::uint32_t>(m >> (64 - (bits_ - 3)));
  }
  static std::uint64_t bloom_bits(std::uint64_t m) noexcept {
    return (std::uint64_t{1} << (m & 63)) | (std::uint64_t{1} << ((m >> 6) & 63));
  }
  void bloom_add(std::uint32_t t) noexcept {
    const std::uint64_t m = bloom_mix(t);
    bloom_[bloom_word(m)] |= bloom_bits(m);
  }
  void bloom_rebuild();

  block bloom_block_;
  std::uint64_t* bloom_ = nullptr;
  std::uint32_t stale_ = 0;  // entries removed since the Bloom filter was built
  block table_block_;
  slot* table_ = nullptr;
  std::uint32_t bits_ = 0;
  std::uint32_t used_ = 0;
  paged_vector<record> pool_;
  std::vector<std::uint32_t> free_;  // by block size in units, linked through record::extra
  std::vector<std::vector<record>> big_;
  std::vector<std::uint32_t> free_big_;
  std::vector<shape> shapes_;
  std::vector<std::uint32_t> free_shapes_;
  std::unordered_map<std::uint64_t, std::uint32_t> by_signature_;
  std::uint32_t wild_shapes_ = 0;  // shapes with a '+'
  std::uint32_t budget_ = 64;
  // What a lookup probes: for a topic of depth d (d > max_depth: the last list),
  // the shapes it can match: exact and '+' shapes of depth d, '#' shapes of depth <= d.
  struct candidate {
    std::uint64_t mix;  // the final key's depth word
    std::uint32_t plus;
    std::uint32_t shape;
    std::uint8_t depth;
    std::uint8_t first, second;  // the first two '+' levels; max_depth when fewer
    bool hash;
    bool wild_first;  // never matches a topic starting with '$' (MQTT-4.7.2-1)
    bool more;        // more than two '+' levels
  };
  std::array<std::vector<candidate>, max_depth + 2> candidates_;
};

}  // namespace iotblocks::topic::detail
