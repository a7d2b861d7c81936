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

#include "topic/detail.hpp"

#include <iotblocks/topic/index.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
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

struct topic_levels;

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
  /// stops and returns false when emit does.
  template <class Emit>
  bool match(std::string_view topic, Emit&& emit) const;

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
    std::uint32_t tag;    // the key's high half; its top bits are the home slot
    std::uint32_t block;  // 0 = empty; the top bits: the block's cache lines - 1
  };
  static constexpr std::uint32_t window = 8;  // slots a lookup reads at once
  static constexpr std::uint32_t block_bits = 28, block_mask = (1u << block_bits) - 1;
  // A slot's block with how many cache lines its first `units` span, which a lookup
  // prefetches as soon as the slot is read (up to 16).
  static std::uint32_t packed(std::uint32_t b, std::uint32_t units) noexcept {
    const std::uint32_t lines = ((b & 3u) * 16 + units * 16 + 63) / 64;
    return b | (std::min(lines, 16u) - 1) << block_bits;
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
  static std::uint32_t tag(std::uint64_t key) noexcept {
    return static_cast<std::uint32_t>(key >> 32);
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
    std::uint32_t plus;
    std::uint16_t depth;
    bool hash;
    bool wild_first;    // never matches a topic starting with '$' (MQTT-4.7.2-1)
    std::uint64_t mix;  // the final key's depth word
    std::uint32_t shape;
  };
  std::array<std::vector<candidate>, max_depth + 2> candidates_;

  template <class Emit>
  bool emit_hits(std::string_view topic, const topic_levels& t, const std::vector<candidate>& list,
                 const std::uint32_t* hits, const std::uint32_t* of, std::uint32_t n,
                 Emit& emit) const;
};

// ---- lookups ------------------------------------------------------------------

// A level's word depends on its position, so "a/b" and "b/a" differ; words are
// combined by XOR, so a lookup replaces level i by '+' with two XORs.
inline std::uint64_t shape_level_key(std::uint32_t position, std::uint64_t level_hash) noexcept {
  return mum(level_hash ^ ((position + 1) * 0xBF58476D1CE4E5B9ull), 0x9E3779B97F4A7C15ull);
}

inline std::uint64_t shape_plus_key(std::uint32_t position) noexcept {
  return shape_level_key(position, 0x5851F42D4C957F2Dull);
}

/// The last step of a key: the level words mixed with the shape's depth word.
inline std::uint64_t shape_depth_word(std::uint32_t depth, bool hash) noexcept {
  const std::uint64_t d = ((std::uint64_t{depth} << 1) | (hash ? 1u : 0u)) + 1;
  return (d * 0x9E3779B97F4A7C15ull) ^ 0xe7037ed1a0b428dbull;
}

inline std::uint64_t shape_final_key(std::uint64_t x, std::uint64_t depth_word) noexcept {
  return mum(x ^ 0xa0761d6478bd642full, depth_word);
}

/// A topic name cut into levels in one pass, eight bytes at a time.
struct topic_levels {
  static constexpr std::uint32_t max = shape_table::max_depth;
  std::uint32_t depth = 0;  // all levels
  std::uint32_t kept = 0;   // levels with a start below: min(depth, max)
  // start[i]: offset of level i; start[kept] is one past the end of level kept-1
  // plus one, so level i (i < kept) ends at start[i + 1] - 1.
  std::uint32_t start[max + 1];

  explicit topic_levels(std::string_view topic) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull, low7 = 0x7F7F7F7F7F7F7F7Full;
    const char* p = topic.data();
    const std::size_t n = topic.size();
    start[0] = 0;
    std::uint32_t d = 1;
    for (std::size_t i = 0; i < n; i += 8) {
      std::uint64_t w = 0;
      if (i + 8 <= n) {
        std::memcpy(&w, p + i, 8);
      } else {
        std::memcpy(&w, p + i, n - i);
      }
      if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
      const std::uint64_t v = w ^ ('/' * ones);
      std::uint64_t m = ~(((v & low7) + low7) | v | low7);  // 0x80 in each '/' byte, exactly
      for (; m != 0; m &= m - 1) {
        if (d <= max) start[d] = static_cast<std::uint32_t>(i + (__builtin_ctzll(m) >> 3) + 1);
        ++d;
      }
    }
    depth = d;
    kept = d < max ? d : max;
    if (d <= max) start[d] = static_cast<std::uint32_t>(n + 1);
  }
  std::string_view level(std::string_view topic, std::uint32_t i) const noexcept {
    return topic.substr(start[i], start[i + 1] - 1 - start[i]);
  }
};

/// Whether `filter`, a filter of the shape (depth, plus, hash), matches the topic:
/// one comparison per run of levels between '+' levels.
inline bool shape_verify(std::string_view filter, std::uint32_t depth, std::uint32_t plus,
                         bool hash, std::string_view topic, const topic_levels& t) noexcept {
  if (plus == 0 && !hash) return filter == topic;
  const char* f = filter.data();
  const std::size_t size = filter.size();
  std::size_t at = 0;
  for (std::uint32_t i = 0; i < depth;) {
    if ((plus >> i & 1u) != 0) {  // "+" and its '/' (past the end for a final '+')
      at += 2;
      ++i;
      continue;
    }
    std::uint32_t j = i + 1;
    while (j < depth && (plus >> j & 1u) == 0) ++j;
    const std::size_t n = t.start[j] - 1 - t.start[i];  // levels i..j-1 with their '/'
    if (at + n > size || std::memcmp(f + at, topic.data() + t.start[i], n) != 0) return false;
    at += n;
    if (at < size && f[at] != '/') return false;  // the filter's level j-1 is longer
    ++at;
    i = j;
  }
  return hash ? at + 1 == size : at == size + 1;
}

template <class Emit>
bool shape_table::match(std::string_view topic, Emit&& emit) const {
  if (used_ == 0) return true;
  const topic_levels t{topic};
  // x[i]: the key words of the first i levels; w[i]: what '+' at level i changes.
  std::uint64_t x[max_depth + 1], w[max_depth];
  x[0] = 0;
  for (std::uint32_t i = 0; i < t.kept; ++i) {
    const std::uint64_t v = shape_level_key(i, hash_bytes(t.level(topic, i)));
    x[i + 1] = x[i] ^ v;
    w[i] = v ^ shape_plus_key(i);
  }
  const bool dollar = !topic.empty() && topic[0] == '$';
  const auto& list = candidates_[std::min(t.depth, max_depth + 1)];
  // In chunks: every probe of a chunk is issued (prefetched) before the first is
  // read, and every block found before the first is verified.
  constexpr std::uint32_t chunk = 32, cap = chunk * window;
  std::uint32_t tags[chunk], picks[chunk], hits[cap], of[cap];
  for (std::size_t base = 0; base < list.size(); base += chunk) {
    const std::size_t end = std::min(list.size(), base + chunk);
    std::uint32_t n = 0;
    for (std::size_t c = base; c < end; ++c) {
      const candidate& s = list[c];
      if (dollar && s.wild_first) continue;
      std::uint64_t k = x[s.depth];
      for (std::uint32_t m = s.plus; m != 0; m &= m - 1) k ^= w[__builtin_ctz(m)];
      const std::uint32_t tg = tag(shape_final_key(k, s.mix));
      const slot* win = table_ + home(tg);
      __builtin_prefetch(win);
      __builtin_prefetch(win + window - 1);
      tags[n] = tg;
      picks[n++] = static_cast<std::uint32_t>(c);
    }
    std::uint32_t nh = 0;
    for (std::uint32_t c = 0; c < n; ++c) {
      // The window at the home slot holds the tag's run unless the run is longer.
      const std::uint32_t tg = tags[c], h = home(tg);
      const slot* win = table_ + h;
      std::uint32_t found = 0;
      for (std::uint32_t j = 0; j < window; ++j) {
        found |= static_cast<std::uint32_t>(win[j].tag == tg && win[j].block != 0) << j;
      }
      for (; found != 0; found &= found - 1) {
        hits[nh] = win[__builtin_ctz(found)].block;
        of[nh++] = picks[c];
      }
      if (win[window - 1].block != 0 && !after(win[window - 1], h + window - 1, tg, window - 1))
          [[unlikely]] {
        for (std::uint32_t i = (h + window) & mask(), d = window;; i = (i + 1) & mask(), ++d) {
          const slot& s = table_[i];
          if (s.block == 0 || after(s, i, tg, d)) break;
          if (s.tag != tg) continue;
          if (nh == cap) {
            if (!emit_hits(topic, t, list, hits, of, nh, emit)) return false;
            nh = 0;
          }
          hits[nh] = s.block;
          of[nh++] = picks[c];
        }
      }
      if (nh + window > cap) {
        if (!emit_hits(topic, t, list, hits, of, nh, emit)) return false;
        nh = 0;
      }
    }
    for (std::uint32_t k = 0; k < nh; ++k) {
      const char* at = reinterpret_cast<const char*>(&pool_[hits[k] & block_mask]);
      for (std::uint32_t l = 0, lines = hits[k] >> block_bits; l <= lines; ++l) {
        __builtin_prefetch(at + 64 * l);
      }
    }
    if (!emit_hits(topic, t, list, hits, of, nh, emit)) return false;
  }
  return true;
}

template <class Emit>
bool shape_table::emit_hits(std::string_view topic, const topic_levels& t,
                            const std::vector<candidate>& list, const std::uint32_t* hits,
                            const std::uint32_t* of, std::uint32_t n, Emit& emit) const {
  for (std::uint32_t k = 0; k < n; ++k) {
    const std::uint32_t b = hits[k] & block_mask;
    const record* head = &pool_[b];
    const candidate& s = list[of[k]];
    if (shape_in(*head) != s.shape || !shape_verify(text(b), s.depth, s.plus, s.hash, topic, t)) {
      continue;
    }
    if ((head->id_opts & big_flag) != 0) {
      for (const record& r : big_[head->extra]) {
        if (!emit(r)) return false;
      }
      continue;
    }
    const record* first = head + 1 + text_units(head->id_opts & 0xFFFFu);
    for (std::uint32_t i = 0, count = head->lo; i < count; ++i) {
      if (!emit(first[i])) return false;
    }
  }
  return true;
}

}  // namespace iotblocks::topic::detail
