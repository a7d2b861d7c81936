// A lookup in the shape table (shapes.hpp), in three steps so that the lookups of
// a batch overlap their cache misses (like DPDK's bulk hash lookups):
//   start   cut the topic into levels, compute the key of every shape that fits
//           it and prefetch each key's cache line of the table;
//   probe   read those lines and prefetch the blocks of the filters found;
//   finish  verify each filter's text against the topic and emit its records.
// A single lookup runs the steps back to back; a batch runs each step for all.
#pragma once

#include "topic/shapes.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace iotblocks::topic::detail {

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

/// The hash of a level [p, p + n) of a buffer that may be read up to `end`: one
/// or two masked loads for levels of up to 16 bytes (the usual case).
inline std::uint64_t level_hash(const char* p, std::size_t n, const char* end) noexcept {
  constexpr std::uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull;
  if (n > 16) return hash_bytes({p, n});
  const auto room = static_cast<std::size_t>(end - p);
  std::uint64_t a = 0, b = 0;
  if (room >= 16) {
    a = load64(p);
    b = load64(p + 8);
  } else {
    std::memcpy(&a, p, std::min<std::size_t>(n, 8));
    if (n > 8) std::memcpy(&b, p + 8, n - 8);
  }
  if constexpr (std::endian::native == std::endian::big) {
    a = __builtin_bswap64(a);
    b = __builtin_bswap64(b);
  }
  // Keep the level's own bytes: n bytes of a, then n - 8 of b.
  a &= n >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1;
  b &= n <= 8 ? 0 : n == 16 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * (n - 8))) - 1;
  return mum(a ^ k1, b ^ k0 ^ n);
}

/// A topic name cut into levels in one pass, eight bytes at a time.
struct topic_levels {
  static constexpr std::uint32_t max = shape_table::max_depth;
  std::uint32_t depth = 0;  // all levels
  std::uint32_t kept = 0;   // levels with a start below: min(depth, max)
  // start[i]: offset of level i; start[kept] is one past the end of level kept-1
  // plus one, so level i (i < kept) ends at start[i + 1] - 1.
  std::uint32_t start[max + 1];

  void cut(std::string_view topic) noexcept {
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
        if (d <= max)
          start[d] =
              static_cast<std::uint32_t>(i + static_cast<std::size_t>(__builtin_ctzll(m) >> 3) + 1);
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

class shape_table::lookup {
 public:
  /// Step 1. The table must outlive the lookup and not change before finish.
  /// `batch`: other lookups overlap this one's rounds, so when the table is
  /// beyond the size of a core's cache, the Bloom filter is read first (step 1b)
  /// and the table lines of most missing keys are never fetched.
  void start(const shape_table& table, std::string_view topic, bool batch = false) noexcept {
    s_ = &table;
    bloom_ = batch && table.bits_ >= bloom_from;
    topic_ = topic;
    next_ = issued_ = probed_ = hits_ = 0;
    longs_ = 0;
    if (table.used_ == 0) {
      list_ = nullptr;
      return;
    }
    levels_.cut(topic);
    const char* const topic_end = topic.data() + topic.size();
    x_[0] = 0;
    for (std::uint32_t i = 0; i < levels_.kept; ++i) {
      const std::string_view l = levels_.level(topic, i);
      const std::uint64_t v = shape_level_key(i, level_hash(l.data(), l.size(), topic_end));
      x_[i + 1] = x_[i] ^ v;
      w_[i] = v ^ shape_plus_key(i);
    }
    w_[max_depth] = 0;
    dollar_ = !topic.empty() && topic[0] == '$';
    list_ = &table.candidates_[std::min(levels_.depth, max_depth + 1)];
    issue();
  }

  /// Step 2: reads the table lines of the issued keys, prefetches the blocks found.
  void probe() noexcept {
    filter();
    const shape_table& s = *s_;
    for (; probed_ < issued_ && hits_ + window <= max_hits; ++probed_) {
      // The window at the home slot holds the tag's run unless the run goes on.
      // A block found is requested at once, while later probes still wait.
      const std::uint32_t tg = tags_[probed_], h = s.home(tg);
      const slot* win = s.table_ + h;
      for (std::uint32_t found = tag_hits(win, tg); found != 0; found &= found - 1) {
        const std::uint32_t b = win[__builtin_ctz(found) / 2].block;
        const char* at = reinterpret_cast<const char*>(&s.pool_[b & block_mask]);
        for (std::uint32_t l = 0, lines = b >> block_bits; l <= lines; ++l) {
          __builtin_prefetch(at + 64 * l);
        }
        hit_[hits_] = b;
        of_[hits_++] = picks_[probed_];
      }
      if (win[window - 1].block != 0 && !s.after(win[window - 1], h + window - 1, tg, window - 1))
          [[unlikely]] {
        longs_ |= 1u << probed_;
      }
    }
  }

  /// Step 3: calls emit(record) for each subscription of each matching filter;
  /// stops and returns false when emit does.
  template <class Emit>
  bool finish(Emit&& emit) {
    if (list_ == nullptr) return true;
    for (;;) {
      for (std::uint32_t k = 0; k < hits_; ++k) {
        if (!emit_block(hit_[k] & block_mask, of_[k], emit)) return false;
      }
      hits_ = 0;
      for (; longs_ != 0; longs_ &= longs_ - 1) {  // runs longer than the window
        const auto c = static_cast<std::uint32_t>(__builtin_ctz(longs_));
        const shape_table& s = *s_;
        const std::uint32_t tg = tags_[c], h = s.home(tg);
        for (std::uint32_t i = (h + window) & s.mask(), d = window;; i = (i + 1) & s.mask(), ++d) {
          const slot& e = s.table_[i];
          if (e.block == 0 || s.after(e, i, tg, d)) break;
          if (e.tag == tg && !emit_block(e.block & block_mask, picks_[c], emit)) return false;
        }
      }
      if (probed_ == issued_) {
        if (next_ == list_->size()) return true;
        issue();
      }
      probe();
    }
  }

 private:
  static constexpr std::uint32_t max_issued = 32, max_hits = 64;
  static constexpr std::uint32_t bloom_from = 18;  // table bits: 2 MiB of slots
  static_assert(window == 8 && sizeof(slot) == 8);

  // Bit 2j is set when slot j of the window has tag t (never 0, so never empty).
  static std::uint32_t tag_hits(const slot* win, std::uint32_t t) noexcept {
#if defined(__SSE2__)
    const __m128i k = _mm_set1_epi32(static_cast<int>(t));
    const auto* p = reinterpret_cast<const __m128i*>(win);
    auto two = [&](int i) {  // lanes: tag, block, tag, block
      const __m128i eq = _mm_cmpeq_epi32(_mm_loadu_si128(p + i), k);
      return static_cast<std::uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(eq)));
    };
    return (two(0) | two(1) << 4 | two(2) << 8 | two(3) << 12) & 0x5555u;
#else
    std::uint32_t found = 0;
    for (std::uint32_t j = 0; j < window; ++j) {
      found |= static_cast<std::uint32_t>(win[j].tag == t) << (2 * j);
    }
    return found;
#endif
  }

  // Computes the keys of the next candidates and prefetches their table lines.
  void issue() noexcept {
    const shape_table& s = *s_;
    const std::size_t end = std::min<std::size_t>(list_->size(), next_ + max_issued);
    issued_ = probed_ = 0;
    for (; next_ < end; ++next_) {
      const candidate& c = (*list_)[next_];
      if (dollar_ && c.wild_first) continue;
      std::uint64_t k = x_[c.depth] ^ w_[c.first] ^ w_[c.second];
      if (c.more) [[unlikely]] {
        for (std::uint32_t m = c.plus >> c.second >> 1; m != 0; m &= m - 1) {
          k ^= w_[c.second + 1 + static_cast<std::uint32_t>(__builtin_ctz(m))];
        }
      }
      const std::uint32_t tg = tag(shape_final_key(k, c.mix));
      if (bloom_) {
        __builtin_prefetch(&s.bloom_[s.bloom_word(bloom_mix(tg))]);
      } else {
        prefetch_window(tg);
      }
      tags_[issued_] = tg;
      picks_[issued_++] = next_;
    }
    unfiltered_ = bloom_;
  }

  void prefetch_window(std::uint32_t tg) const noexcept {
    const slot* win = s_->table_ + s_->home(tg);
    __builtin_prefetch(win);
    __builtin_prefetch(win + window - 1);
  }

 public:
  /// Step 1b (filtered lookups): drops the keys the table cannot hold and
  /// prefetches the table lines of the others.
  void filter() noexcept {
    if (!unfiltered_) return;
    unfiltered_ = false;
    const shape_table& s = *s_;
    std::uint32_t n = 0;
    for (std::uint32_t c = 0; c < issued_; ++c) {
      const std::uint64_t m = bloom_mix(tags_[c]), bits = bloom_bits(m);
      if ((s.bloom_[s.bloom_word(m)] & bits) != bits) continue;
      prefetch_window(tags_[c]);
      tags_[n] = tags_[c];
      picks_[n++] = picks_[c];
    }
    issued_ = n;
  }

 private:
  template <class Emit>
  bool emit_block(std::uint32_t b, std::uint32_t pick, Emit& emit) const {
    const shape_table& s = *s_;
    const record* head = &s.pool_[b];
    const candidate& c = (*list_)[pick];
    if (shape_in(*head) != c.shape ||
        !shape_verify(s.text(b), c.depth, c.plus, c.hash, topic_, levels_)) {
      return true;
    }
    if ((head->id_opts & big_flag) != 0) {
      for (const record& r : s.big_[head->extra]) {
        if (!emit(r)) return false;
      }
      return true;
    }
    const record* first = head + 1 + text_units(head->id_opts & 0xFFFFu);
    for (std::uint32_t i = 0, n = head->lo; i < n; ++i) {
      if (!emit(first[i])) return false;
    }
    return true;
  }

  const shape_table* s_ = nullptr;
  const std::vector<candidate>* list_ = nullptr;
  std::string_view topic_;
  bool dollar_ = false;
  bool bloom_ = false;        // filtered lookup
  bool unfiltered_ = false;   // issued keys not yet checked against the Bloom filter
  std::uint32_t next_ = 0;    // next candidate of list_ to issue
  std::uint32_t issued_ = 0;  // keys in tags_
  std::uint32_t probed_ = 0;  // keys of tags_ probed
  std::uint32_t hits_ = 0;    // blocks in hit_
  std::uint32_t longs_ = 0;   // bit c: the run of tags_[c] goes past the window
  topic_levels levels_;
  // x_[i]: the key words of the first i levels; w_[i]: what '+' at level i changes.
  std::uint64_t x_[max_depth + 1], w_[max_depth + 1];  // w_[max_depth] = 0
  std::uint32_t tags_[max_issued], picks_[max_issued];
  std::uint32_t hit_[max_hits], of_[max_hits];
};

template <class Emit>
bool shape_table::match(std::string_view topic, Emit&& emit) const {
  if (used_ == 0) return true;
  lookup l;
  l.start(*this, topic);
  l.probe();
  return l.finish(emit);
}

}  // namespace iotblocks::topic::detail
