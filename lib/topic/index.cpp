// The subscription index. Most non-shared filters live in the shape table
// (shapes.hpp: one independent hash probe per wildcard pattern); this file holds
// the trie for the rest (shared groups, long or deep filters, '+' patterns beyond
// the budget) and the public API. Trie layout, chosen for lookups bound by cache
// misses:
//  - the trie's nodes live in one open-addressing table (32-byte slots, linear
//    probing, load <= 0.75, backward-shift deletion) keyed by (parent id, level):
//    finding a child and reading it is one cache line. A slot holds the node's
//    stable id, its label (inline up to 12 bytes, zero-padded, compared as two
//    words; longer labels in an arena), flags, child count and subscriptions;
//  - '+' and '#' are children labelled "+" and "#", announced by flags on the
//    parent so a lookup probes for them only where they exist;
//  - a node with one subscriber points to a 16-byte record; with more, to a
//    contiguous list, so a fan-out reads sequential memory;
//  - the table and the record pages are huge-page backed (see paged_storage.hpp);
//  - shared groups in a side map keyed by node id, flagged on the node.
#include "topic/hash.hpp"
#include "topic/paged_storage.hpp"
#include "topic/reader_gate.hpp"
#include "topic/shape_lookup.hpp"

#include <iotblocks/topic/index.hpp>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>

namespace iotblocks::topic {
namespace {

using detail::hash_bytes;

constexpr std::uint32_t inline_label = 12;
constexpr std::uint32_t max_records = (1u << 30) - 1;
constexpr std::uint32_t max_nodes = 1u << 30;
constexpr std::uint32_t max_identifier = 268'435'455;
constexpr std::uint32_t root_id = 1;
constexpr std::size_t short_filter = 32;  // levels of a filter handled without allocation
constexpr std::uint32_t max_class = 12;   // record blocks up to 4,096 (one page)
static_assert(max_class == detail::paged_vector<int>::shift);

enum node_flags : std::uint8_t {
  has_plus = 1,
  has_hash = 2,
  has_shared = 4,
  has_list = 8,    // slot::subs is a block of records with a header
  has_big = 32,    // slot::subs indexes big lists
  has_plain = 16,  // has a child other than '+' and '#'
};

// The hash of a filter prefix from its parent's and its last level's: a lookup
// computes the slots of a whole exact path up front, before reading any of them.
inline std::uint32_t chain(std::uint32_t parent_hash, std::uint64_t level_hash) noexcept {
  const std::uint64_t h =
      detail::mum(parent_hash ^ 0x94D049BB133111EBull, level_hash ^ 0xBF58476D1CE4E5B9ull);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

struct alignas(32) slot {
  std::uint32_t parent;  // id of the parent node
  std::uint32_t id;      // this node's id; 0 = empty slot
  std::uint32_t subs;    // a record, or a list with has_list; 0 = none
  std::uint32_t hash;    // hash of the filter prefix this node stands for; gives the home slot
  std::uint16_t len;     // label length
  std::uint8_t flags;
  std::uint8_t spare;
  char text[inline_label];  // the label zero-padded, or its arena offset when longer
};
static_assert(sizeof(slot) == 32);

// A level prepared for comparisons: its hash and, when short, its padded words.
struct key {
  std::uint64_t hash;
  std::uint64_t w0;
  std::uint32_t w1;
  std::uint32_t len;
  const char* data;

  static key of(std::string_view l) noexcept {
    const auto n = static_cast<std::uint32_t>(l.size());
    const char* p = l.data();
    key k{hash_bytes(l), 0, 0, n, p};
    // The zero-padded words of a short label, without a variable-length copy.
    if (n >= 8) {
      if (n > inline_label) return k;
      k.w0 = detail::load64(p);
      if (n > 8) k.w1 = static_cast<std::uint32_t>(detail::load32(p + n - 4) >> (8 * (12 - n)));
    } else if (n >= 4) {
      k.w0 = detail::load32(p) | (detail::load32(p + n - 4) << (8 * (n - 4)));
    } else {
      for (std::uint32_t i = 0; i < n; ++i) {
        k.w0 |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
      }
    }
    return k;
  }
  std::string_view view() const noexcept { return {data, len}; }
};

using detail::record;

struct group {
  std::string name;
  std::vector<share_member> members;
  mutable std::atomic<std::uint64_t> sequence{0};
};

std::uint64_t thread_random() noexcept {
  thread_local std::uint64_t state = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd() ^ 0x9E3779B97F4A7C15ull;
  }();
  state += 0x9E3779B97F4A7C15ull;
  return detail::mum(state, state ^ 0xe7037ed1a0b428dbull);
}

// Per-thread buffers of match(): no allocation per lookup after warm-up.
struct scratch {
  std::vector<key> keys;
  std::vector<const slot*> cur, next, hits;
};

}  // namespace

struct subscription_index::impl {
  mutable detail::reader_gate gate;
  limits lim;
  share_strategy strategy = share_strategy::round_robin;
  share_picker picker;

  slot root{};
  detail::block table_block;
  slot* table = nullptr;
  std::uint32_t bits = 0;
  std::uint32_t used = 0;  // occupied slots = nodes besides the root
  std::uint32_t next_id = root_id + 1;
  std::vector<std::uint32_t> free_ids;
  detail::paged_vector<std::uint32_t> children;  // by node id ('+' and '#' included)
  detail::paged_vector<record> records;
  std::uint32_t free_block[max_class + 1] = {};  // by class, linked through record::extra
  std::vector<std::vector<record>> big;          // big[0] unused
  std::vector<std::uint32_t> free_big;
  std::vector<char> arena;
  std::size_t arena_garbage = 0;
  std::unordered_map<std::uint32_t, std::vector<std::unique_ptr<group>>> shared;
  std::size_t subscriptions = 0;
  detail::shape_table shapes;  // non-shared filters of few shapes: one probe per shape

  impl() { reset(); }

  void reset() {
    root = slot{};
    root.id = root_id;
    root.hash = 0x2545F491u;
    bits = 4;
    table_block = detail::block{sizeof(slot) << bits};
    table = reinterpret_cast<slot*>(table_block.data());
    used = 0;
    next_id = root_id + 1;
    free_ids.clear();
    free_ids.shrink_to_fit();
    children.clear();
    while (children.size() <= root_id) children.push();
    records.clear();
    records.push();  // record 0 = none
    std::fill(std::begin(free_block), std::end(free_block), 0u);
    big.assign(1, {});
    big.shrink_to_fit();
    free_big.clear();
    free_big.shrink_to_fit();
    arena.clear();
    arena.shrink_to_fit();
    arena_garbage = 0;
    shared.clear();
    subscriptions = 0;
    shapes.clear();
  }

  // ---- labels -------------------------------------------------------------
  const char* label_data(const slot& n) const noexcept {
    if (n.len <= inline_label) return n.text;
    std::uint32_t off;
    std::memcpy(&off, n.text, 4);
    return arena.data() + off;
  }
  std::string_view label(const slot& n) const noexcept { return {label_data(n), n.len}; }

  void compact_arena() {
    std::vector<char> fresh;
    fresh.reserve(arena.size() - arena_garbage);
    for (std::uint32_t i = 0; i <= mask(); ++i) {
      slot& n = table[i];
      if (n.id == 0 || n.len <= inline_label) continue;
      const auto off = static_cast<std::uint32_t>(fresh.size());
      fresh.insert(fresh.end(), label_data(n), label_data(n) + n.len);
      std::memcpy(n.text, &off, 4);
    }
    arena = std::move(fresh);
    arena_garbage = 0;
  }

  // ---- the table ----------------------------------------------------------
  std::uint32_t mask() const noexcept { return (1u << bits) - 1; }
  std::uint32_t home(std::uint32_t hash) const noexcept { return hash >> (32 - bits); }

  bool same(const slot& s, std::uint32_t parent, std::uint32_t h, const key& k) const noexcept {
    if (s.hash != h || s.parent != parent || s.len != k.len) return false;
    if (k.len <= inline_label) {
      return detail::load64(s.text) == k.w0 &&
             static_cast<std::uint32_t>(detail::load32(s.text + 8)) == k.w1;
    }
    return std::memcmp(label_data(s), k.data, k.len) == 0;
  }

  // The child of node `parent` (prefix hash `parent_hash`) labelled `k`, or null.
  const slot* find(std::uint32_t parent, std::uint32_t parent_hash, const key& k) const noexcept {
    const std::uint32_t h = chain(parent_hash, k.hash);
    for (std::uint32_t i = home(h);; i = (i + 1) & mask()) {
      const slot& s = table[i];
      if (s.id == 0) return nullptr;
      if (same(s, parent, h, k)) return &s;
    }
  }
  const slot* find(const slot& parent, const key& k) const noexcept {
    return find(parent.id, parent.hash, k);
  }
  slot* find(const slot& parent, const key& k) noexcept {
    return const_cast<slot*>(std::as_const(*this).find(parent.id, parent.hash, k));
  }

  // Makes room for `more` slots without moving any during the next insertions.
  void reserve(std::size_t more) {
    while ((used + more) * 4 > (std::size_t{1} << bits) * 3) {
      detail::block fresh{sizeof(slot) << (bits + 1)};
      slot* old = table;
      const std::uint32_t old_size = 1u << bits;
      detail::block keep = std::move(table_block);
      table_block = std::move(fresh);
      table = reinterpret_cast<slot*>(table_block.data());
      ++bits;
      for (std::uint32_t i = 0; i < old_size; ++i) {
        if (old[i].id == 0) continue;
        std::uint32_t j = home(old[i].hash);
        while (table[j].id != 0) j = (j + 1) & mask();
        table[j] = old[i];
      }
    }
  }

  // Adds a child of `p`; capacity was reserved, so no slot moves.
  slot* add_child(slot& p, const key& k) {
    const std::uint32_t h = chain(p.hash, k.hash);
    std::uint32_t i = home(h);
    while (table[i].id != 0) i = (i + 1) & mask();
    slot& n = table[i];
    n = slot{};
    n.parent = p.id;
    n.hash = h;
    if (!free_ids.empty()) {
      n.id = free_ids.back();
      free_ids.pop_back();
    } else {
      n.id = next_id++;
      children.push();
    }
    n.len = static_cast<std::uint16_t>(k.len);
    if (k.len <= inline_label) {
      std::memcpy(n.text, &k.w0, 8);
      std::memcpy(n.text + 8, &k.w1, 4);
    } else {
      if (arena.size() + k.len > std::numeric_limits<std::uint32_t>::max()) compact_arena();
      const auto off = static_cast<std::uint32_t>(arena.size());
      arena.insert(arena.end(), k.data, k.data + k.len);
      std::memcpy(n.text, &off, 4);
    }
    ++children[p.id];
    if (k.view() == "+") {
      p.flags |= has_plus;
    } else if (k.view() == "#") {
      p.flags |= has_hash;
    } else {
      p.flags |= has_plain;
    }
    ++used;
    return &n;
  }

  // Removes the (childless, subscriber-less) node in `s` from the table; slots
  // after it may move back.
  void erase(slot* s) noexcept {
    if (s->len > inline_label) arena_garbage += s->len;
    free_ids.push_back(s->id);
    auto i = static_cast<std::uint32_t>(s - table);
    for (std::uint32_t j = (i + 1) & mask(); table[j].id != 0; j = (j + 1) & mask()) {
      const std::uint32_t k = home(table[j].hash);
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        table[i] = table[j];
        i = j;
      }
    }
    table[i] = slot{};
    --used;
  }

  bool removable(const slot& n) const noexcept {
    return n.subs == 0 && children[n.id] == 0 && (n.flags & has_shared) == 0;
  }

  // ---- updates ------------------------------------------------------------
  // The node of `filter` (valid, not shared), or null.
  slot* find_path(std::string_view filter) noexcept {
    slot* n = &root;
    for (std::string_view level : levels(filter)) {
      n = find(*n, key::of(level));
      if (n == nullptr) return nullptr;
    }
    return n;
  }

  result<bool> subscribe(std::string_view filter, subscriber_id s, const subscription_options& o) {
    if (o.qos > 2 || o.retain_handling > 2 || o.identifier > max_identifier) {
      return {error::invalid_options,
              "QoS, retain handling or subscription identifier out of range"};
    }
    shared_filter sf{};
    const bool is_share = is_shared(filter);
    if (is_share) {
      if (auto ec = parse_shared(filter, sf, lim)) return {ec, "invalid shared subscription"};
      if (o.no_local) return {error::invalid_options, "no_local on a shared subscription"};
    } else if (auto ec = validate_filter_fast(filter, lim)) {
      return {ec, "invalid topic filter"};
    } else {
      sf.filter = filter;
    }
    const std::size_t depth =
        static_cast<std::size_t>(std::count(sf.filter.begin(), sf.filter.end(), '/')) + 1;
    if (std::uint64_t{used} + depth >= max_nodes ||
        records.size() + (2u << max_class) >= max_records || shapes.full()) {
      return {error::index_full, "subscription index is full"};
    }
    detail::shape_table::parsed sp;
    if (!is_share && detail::shape_table::parse(sf.filter, sp)) {
      // A filter lives in one place: the shape table if its shape is there and the
      // filter with it, else the trie if it is there, else wherever it may go.
      const record rec = record::make(s, o);
      const bool known = shapes.has_shape(sp);
      int added = known ? shapes.assign(sp, sf.filter, rec, false) : -1;
      if (added < 0 && used != 0) {
        if (slot* n = find_path(sf.filter)) {
          if (!add(*n, rec)) return false;
          ++subscriptions;
          return true;
        }
      }
      if (added < 0 && shapes.may_add(sp)) added = shapes.assign(sp, sf.filter, rec, true);
      if (added >= 0) {
        subscriptions += static_cast<std::size_t>(added);
        return added == 1;
      }
    }
    reserve(depth);
    // Prefetch the slots of the whole path first: their cache misses overlap.
    key on_stack[short_filter];
    std::vector<key> on_heap;
    key* keys = on_stack;
    if (depth > short_filter) {
      on_heap.resize(depth);
      keys = on_heap.data();
    }
    std::size_t d = 0;
    for (std::uint32_t h = root.hash; std::string_view level : levels(sf.filter)) {
      keys[d] = key::of(level);
      h = chain(h, keys[d++].hash);
      __builtin_prefetch(&table[home(h)]);
    }
    slot* n = &root;
    for (d = 0; d < depth; ++d) {
      slot* c = find(*n, keys[d]);
      if (c == nullptr) c = add_child(*n, keys[d]);
      n = c;
    }
    if (is_share) return join(*n, sf.group, s, o);
    if (!add(*n, record::make(s, o))) return false;
    ++subscriptions;
    return true;
  }

  // ---- subscription records -----------------------------------------------
  // A node's subscriptions: one record, or (has_list) a block of 2^k records of
  // the same pool holding a header (count, k) and up to 2^k - 1 records, so a
  // fan-out is one contiguous read that starts on the header's cache line;
  // beyond 4,095 subscribers (has_big) a vector of its own.
  std::uint32_t alloc(std::uint32_t k) {
    if (free_block[k] != 0) {
      const std::uint32_t r = free_block[k];
      free_block[k] = records[r].extra;
      return r;
    }
    const std::uint32_t n = 1u << k;
    const std::uint32_t top = records.size();
    const std::uint32_t at = (top + n - 1) & ~(n - 1);  // never straddles a page
    while (records.size() < at + n) records.push();
    for (std::uint32_t i = top; i < at; ++i) release(i, 0);  // the gap: single records
    return at;
  }
  void release(std::uint32_t r, std::uint32_t k) noexcept {
    records[r].extra = free_block[k];
    free_block[k] = r;
  }

  // Adds or replaces `rec` in the subscriptions of `n`; false when replaced.
  bool add(slot& n, const record& rec) {
    if (n.subs == 0) {
      n.subs = alloc(0);
      records[n.subs] = rec;
      return true;
    }
    if ((n.flags & (has_list | has_big)) == 0) {
      const record only = records[n.subs];
      if (only.subscriber() == rec.subscriber()) {
        records[n.subs] = rec;
        return false;
      }
      const std::uint32_t b = alloc(2);
      records[b] = record{2, 2, 0, 0};
      records[b + 1] = only;
      records[b + 2] = rec;
      release(n.subs, 0);
      n.subs = b;
      n.flags |= has_list;
      return true;
    }
    if ((n.flags & has_big) != 0) {
      auto& list = big[n.subs];
      for (record& r : list) {
        if (r.subscriber() == rec.subscriber()) {
          r = rec;
          return false;
        }
      }
      list.push_back(rec);
      return true;
    }
    record* head = &records[n.subs];
    const std::uint32_t count = head->lo, k = head->hi;
    for (std::uint32_t i = 1; i <= count; ++i) {
      if (head[i].subscriber() == rec.subscriber()) {
        head[i] = rec;
        return false;
      }
    }
    if (count + 1 < (1u << k)) {
      head[count + 1] = rec;
      head->lo = count + 1;
      return true;
    }
    if (k < max_class) {
      const std::uint32_t b = alloc(k + 1);
      record* fresh = &records[b];
      std::copy(head, head + count + 1, fresh);
      fresh->lo = count + 1;
      fresh->hi = k + 1;
      fresh[count + 1] = rec;
      release(n.subs, k);
      n.subs = b;
      return true;
    }
    const std::uint32_t l = detail::take(free_big, big);
    big[l].assign(head + 1, head + count + 1);
    big[l].push_back(rec);
    release(n.subs, k);
    n.subs = l;
    n.flags = static_cast<std::uint8_t>((n.flags & ~has_list) | has_big);
    return true;
  }

  bool join(slot& n, std::string_view name, subscriber_id s, const subscription_options& o) {
    auto& groups = shared[n.id];
    n.flags |= has_shared;
    auto g = std::find_if(groups.begin(), groups.end(), [&](auto& x) { return x->name == name; });
    if (g == groups.end()) {
      groups.push_back(std::make_unique<group>());
      g = groups.end() - 1;
      (*g)->name = std::string{name};
    }
    for (auto& m : (*g)->members) {
      if (m.subscriber == s) {
        m.options = o;
        return false;
      }
    }
    (*g)->members.push_back({s, o});
    ++subscriptions;
    return true;
  }

  bool unsubscribe(std::string_view filter, subscriber_id s) {
    shared_filter sf{};
    if (is_shared(filter)) {
      if (parse_shared(filter, sf, lim)) return false;
    } else if (validate_filter_fast(filter, lim)) {
      return false;
    } else {
      sf.filter = filter;
      detail::shape_table::parsed sp;
      if (detail::shape_table::parse(sf.filter, sp) && shapes.has_shape(sp)) {
        const int removed = shapes.remove(sp, sf.filter, s);
        if (removed >= 0) {
          subscriptions -= static_cast<std::size_t>(removed);
          return removed == 1;
        }
      }
    }
    // ids[i], hashes[i]: the node at depth i (0 = the root); keys[i]: the level to depth i + 1.
    std::vector<std::uint32_t> ids{root_id}, hashes{root.hash};
    std::vector<key> keys;
    slot* n = &root;
    for (std::string_view level : levels(sf.filter)) {
      keys.push_back(key::of(level));
      n = find(*n, keys.back());
      if (n == nullptr) return false;
      ids.push_back(n->id);
      hashes.push_back(n->hash);
    }
    if (is_shared(filter) ? !leave(*n, sf.group, s) : !unlink(*n, s)) return false;
    --subscriptions;
    // Erasing a slot may move others: locate nodes again by key.
    auto locate = [&](std::size_t depth) {
      return depth == 0 ? &root
                        : const_cast<slot*>(std::as_const(*this).find(
                              ids[depth - 1], hashes[depth - 1], keys[depth - 1]));
    };
    for (std::size_t d = keys.size(); d > 0; --d) {
      slot* c = locate(d);
      if (!removable(*c)) break;
      erase(c);
      slot* p = locate(d - 1);
      const std::uint32_t left = --children[p->id];
      if (keys[d - 1].view() == "+") p->flags &= static_cast<std::uint8_t>(~has_plus);
      if (keys[d - 1].view() == "#") p->flags &= static_cast<std::uint8_t>(~has_hash);
      if (left == ((p->flags & has_plus) != 0 ? 1u : 0u) + ((p->flags & has_hash) != 0 ? 1u : 0u)) {
        p->flags &= static_cast<std::uint8_t>(~has_plain);
      }
    }
    if (arena_garbage > (std::size_t{1} << 20) && arena_garbage * 2 > arena.size()) {
      compact_arena();
    }
    return true;
  }

  bool unlink(slot& n, subscriber_id s) {
    if (n.subs == 0) return false;
    if ((n.flags & (has_list | has_big)) == 0) {
      if (records[n.subs].subscriber() != s) return false;
      release(n.subs, 0);
      n.subs = 0;
      return true;
    }
    if ((n.flags & has_big) != 0) {
      auto& list = big[n.subs];
      auto it = std::find_if(list.begin(), list.end(),
                             [&](const record& r) { return r.subscriber() == s; });
      if (it == list.end()) return false;
      *it = list.back();
      list.pop_back();
      if (list.empty()) {
        std::vector<record>{}.swap(list);
        free_big.push_back(n.subs);
        n.subs = 0;
        n.flags &= static_cast<std::uint8_t>(~has_big);
      }
      return true;
    }
    record* head = &records[n.subs];
    const std::uint32_t count = head->lo;
    for (std::uint32_t i = 1; i <= count; ++i) {
      if (head[i].subscriber() != s) continue;
      head[i] = head[count];
      head->lo = count - 1;
      if (count == 1) {
        release(n.subs, head->hi);
        n.subs = 0;
        n.flags &= static_cast<std::uint8_t>(~has_list);
      }
      return true;
    }
    return false;
  }

  bool leave(slot& n, std::string_view name, subscriber_id s) {
    auto it = shared.find(n.id);
    if (it == shared.end()) return false;
    auto& groups = it->second;
    auto g = std::find_if(groups.begin(), groups.end(), [&](auto& x) { return x->name == name; });
    if (g == groups.end()) return false;
    auto& members = (*g)->members;
    auto m = std::find_if(members.begin(), members.end(),
                          [&](const share_member& x) { return x.subscriber == s; });
    if (m == members.end()) return false;
    members.erase(m);
    if (members.empty()) groups.erase(g);
    if (groups.empty()) {
      shared.erase(it);
      n.flags &= static_cast<std::uint8_t>(~has_shared);
    }
    return true;
  }

  // ---- lookups ------------------------------------------------------------
  std::size_t pick(const group& g, std::string_view topic, const match_context& ctx) const {
    const std::uint64_t seq = g.sequence.fetch_add(1, std::memory_order_relaxed);
    const std::size_t count = g.members.size();
    const auto in_range = [count](std::uint64_t n) { return static_cast<std::size_t>(n % count); };
    if (picker) return in_range(picker({g.name, g.members, topic, ctx.publisher_client_id, seq}));
    switch (strategy) {
      case share_strategy::random: return in_range(thread_random());
      case share_strategy::hash_topic: return in_range(hash_bytes(topic));
      case share_strategy::hash_client:
        if (!ctx.publisher_client_id.empty()) return in_range(hash_bytes(ctx.publisher_client_id));
        return in_range(seq);
      case share_strategy::round_robin: break;
    }
    return in_range(seq);
  }

  // Calls sink(entry) for every match, the shape table's then the trie's; a sink
  // returning false stops the walk.
  template <class Sink>
  void walk(std::string_view topic, const match_context& ctx, bool pick_shared, Sink&& sink) const {
    if (shapes.match(topic, entries(ctx, sink)) && used != 0)
      walk_trie(topic, ctx, pick_shared, sink);
  }

  // Matches topics in groups: each step of the shape-table lookups runs for the
  // whole group before the next, so their cache misses overlap.
  template <class Sink, class Done>
  void walk_batch(std::span<const std::string_view> topics, const match_context& ctx, Sink&& sink,
                  Done&& done) const {
    constexpr std::size_t group = 8;
    detail::shape_table::lookup l[group];
    auto one = entries(ctx, sink);
    for (std::size_t at = 0; at < topics.size(); at += group) {
      const std::size_t n = std::min(group, topics.size() - at);
      for (std::size_t i = 0; i < n; ++i) l[i].start(shapes, topics[at + i], true);
      for (std::size_t i = 0; i < n; ++i) l[i].filter();
      for (std::size_t i = 0; i < n; ++i) l[i].probe();
      for (std::size_t i = 0; i < n; ++i) {
        if (l[i].finish(one) && used != 0) walk_trie(topics[at + i], ctx, true, sink);
        done();
      }
    }
  }

  // The shape table's records as match entries, without the publisher's own
  // no_local subscriptions.
  template <class Sink>
  static auto entries(const match_context& ctx, Sink& sink) {
    return [&ctx, &sink](const record& rec) {
      const subscription_options o = rec.options();
      if (o.no_local && rec.subscriber() == ctx.publisher) return true;
      return sink(match_entry{rec.subscriber(), o, false});
    };
  }

  // The trie: breadth first, one topic level at a time, with the cache misses of
  // a lookup overlapped rather than queued: the slots of the whole exact path (and
  // of the '+' and '#' children along it) are computable from the topic alone and
  // are prefetched before any is read; a '+' child found on the way gets its own
  // path prefetched; the subscriptions of all matching nodes are fetched before
  // any is emitted.
  template <class Sink>
  void walk_trie(std::string_view topic, const match_context& ctx, bool pick_shared,
                 Sink& sink) const {
    auto one = entries(ctx, sink);
    thread_local scratch w;
    w.keys.clear();
    for (auto l : levels(topic)) w.keys.push_back(key::of(l));
    const auto count = static_cast<std::uint32_t>(w.keys.size());
    const bool dollar = !topic.empty() && topic[0] == '$';
    static const key plus_key = key::of("+");
    static const key hash_key = key::of("#");

    auto prefetch_path = [&](std::uint32_t h, std::uint32_t from, bool plus) {
      for (std::uint32_t l = from;; ++l) {
        __builtin_prefetch(&table[home(chain(h, hash_key.hash))]);
        if (l == count) break;
        if (plus) __builtin_prefetch(&table[home(chain(h, plus_key.hash))]);
        h = chain(h, w.keys[l].hash);
        __builtin_prefetch(&table[home(h)]);
      }
    };
    auto& hits = w.hits;
    hits.clear();
    auto hit = [&](const slot* s) {
      if (s->subs != 0) {
        if ((s->flags & has_big) == 0) __builtin_prefetch(&records[s->subs]);
      } else if ((s->flags & has_shared) == 0) {
        return;
      }
      hits.push_back(s);
    };
    prefetch_path(root.hash, 0, true);
    auto& cur = w.cur;
    auto& next = w.next;
    cur.assign(1, &root);
    for (std::uint32_t level = 0;; ++level) {
      const bool wild = !(dollar && level == 0);  // MQTT-4.7.2-1
      const bool last = level == count;
      next.clear();
      for (const slot* n : cur) {
        if ((n->flags & has_hash) != 0 && wild) hit(find(*n, hash_key));
        if (last) {
          hit(n);
          continue;
        }
        if ((n->flags & has_plus) != 0 && wild) {
          const slot* c = find(*n, plus_key);
          prefetch_path(c->hash, level + 1, false);
          next.push_back(c);
        }
        if ((n->flags & has_plain) != 0) {
          if (const slot* c = find(*n, w.keys[level])) next.push_back(c);
        }
      }
      if (last || next.empty()) break;
      cur.swap(next);
    }

    for (const slot* s : hits) {  // the rest of each list, now that its header is here
      if ((s->flags & has_list) == 0) continue;
      const record* head = &records[s->subs];
      const std::uint32_t lines = std::min<std::uint32_t>(head->lo / 4, 7u);
      for (std::uint32_t i = 1; i <= lines; ++i) __builtin_prefetch(head + 4 * i);
    }
    for (const slot* s : hits) {
      if ((s->flags & has_list) != 0) {
        const record* head = &records[s->subs];
        for (std::uint32_t i = 1, n = head->lo; i <= n; ++i) {
          if (!one(head[i])) return;
        }
      } else if ((s->flags & has_big) != 0) {
        for (const record& rec : big[s->subs]) {
          if (!one(rec)) return;
        }
      } else if (s->subs != 0 && !one(records[s->subs])) {
        return;
      }
      if ((s->flags & has_shared) != 0) {
        for (const auto& g : shared.find(s->id)->second) {
          const share_member& m =
              pick_shared ? g->members[pick(*g, topic, ctx)] : g->members.front();
          if (!sink(match_entry{m.subscriber, m.options, true})) return;
        }
      }
    }
  }

  std::size_t memory() const noexcept {
    std::size_t bytes = sizeof(impl) + shapes.memory() + table_block.size() + records.bytes() +
                        children.bytes() + free_ids.capacity() * 4 + arena.capacity() +
                        big.capacity() * sizeof(big[0]) + free_big.capacity() * 4;
    for (const auto& l : big) bytes += l.capacity() * sizeof(record);
    for (const auto& [id, groups] : shared) {
      bytes += 32 + groups.capacity() * sizeof(void*);
      for (const auto& g : groups) {
        bytes += sizeof(group) + g->name.capacity() + g->members.capacity() * sizeof(share_member);
      }
    }
    return bytes;
  }
};

subscription_index::subscription_index() : impl_(std::make_unique<impl>()) {}
subscription_index::~subscription_index() = default;
subscription_index::subscription_index(subscription_index&&) noexcept = default;
subscription_index& subscription_index::operator=(subscription_index&&) noexcept = default;

subscription_index& subscription_index::max_levels(std::size_t n) {
  std::lock_guard lock{impl_->gate};
  impl_->lim.max_levels = std::max<std::size_t>(n, 1);
  return *this;
}
std::size_t subscription_index::max_levels() const noexcept { return impl_->lim.max_levels; }

subscription_index& subscription_index::max_length(std::size_t n) {
  std::lock_guard lock{impl_->gate};
  impl_->lim.max_length = std::clamp<std::size_t>(n, 1, 65535);
  return *this;
}
std::size_t subscription_index::max_length() const noexcept { return impl_->lim.max_length; }

subscription_index& subscription_index::max_wildcard_shapes(std::size_t n) {
  std::lock_guard lock{impl_->gate};
  impl_->shapes.max_wildcard_shapes(static_cast<std::uint32_t>(std::min<std::size_t>(n, 4096)));
  return *this;
}
std::size_t subscription_index::max_wildcard_shapes() const noexcept {
  return impl_->shapes.max_wildcard_shapes();
}

subscription_index& subscription_index::strategy(share_strategy s) {
  std::lock_guard lock{impl_->gate};
  impl_->strategy = s;
  impl_->picker = nullptr;
  return *this;
}

subscription_index& subscription_index::strategy(share_picker picker) {
  std::lock_guard lock{impl_->gate};
  impl_->picker = std::move(picker);
  return *this;
}

result<bool> subscription_index::subscribe(std::string_view filter, subscriber_id subscriber,
                                           subscription_options options) {
  std::lock_guard lock{impl_->gate};
  return impl_->subscribe(filter, subscriber, options);
}

bool subscription_index::unsubscribe(std::string_view filter, subscriber_id subscriber) {
  std::lock_guard lock{impl_->gate};
  return impl_->unsubscribe(filter, subscriber);
}

void subscription_index::clear() {
  std::lock_guard lock{impl_->gate};
  impl_->reset();
}

void subscription_index::match(std::string_view topic, std::vector<match_entry>& out,
                               const match_context& context) const {
  detail::shared_guard guard{impl_->gate};
  impl_->walk(topic, context, true, [&](const match_entry& e) {
    out.push_back(e);
    return true;
  });
}

void subscription_index::match(std::span<const std::string_view> topics,
                               std::vector<match_entry>& out, std::vector<std::size_t>& ends,
                               const match_context& context) const {
  detail::shared_guard guard{impl_->gate};
  impl_->walk_batch(
      topics, context,
      [&](const match_entry& e) {
        out.push_back(e);
        return true;
      },
      [&] { ends.push_back(out.size()); });
}

void subscription_index::match(std::string_view topic, match_result& out,
                               const match_context& context) const {
  out.clear();
  match(topic, out.entries_, context);
  auto& entries = out.entries_;
  std::sort(entries.begin(), entries.end(), [](const match_entry& a, const match_entry& b) {
    return a.shared != b.shared ? b.shared : a.subscriber < b.subscriber;
  });
  for (std::size_t i = 0; i < entries.size();) {
    std::size_t j = i + 1;
    if (!entries[i].shared) {
      while (j < entries.size() && !entries[j].shared &&
             entries[j].subscriber == entries[i].subscriber) {
        ++j;
      }
    }
    delivery d{entries[i].subscriber,
               0,
               false,
               entries[i].shared,
               static_cast<std::uint32_t>(out.ids_.size()),
               0};
    for (std::size_t k = i; k < j; ++k) {
      d.qos = std::max(d.qos, entries[k].options.qos);
      d.retain_as_published = d.retain_as_published || entries[k].options.retain_as_published;
      if (entries[k].options.identifier != 0) out.ids_.push_back(entries[k].options.identifier);
    }
    auto first = out.ids_.begin() + d.first_identifier;
    std::sort(first, out.ids_.end());
    out.ids_.erase(std::unique(first, out.ids_.end()), out.ids_.end());
    d.identifier_count = static_cast<std::uint32_t>(out.ids_.size()) - d.first_identifier;
    out.deliveries_.push_back(d);
    i = j;
  }
}

bool subscription_index::any_match(std::string_view topic) const {
  detail::shared_guard guard{impl_->gate};
  bool found = false;
  impl_->walk(topic, match_context{}, false, [&](const match_entry&) {
    found = true;
    return false;
  });
  return found;
}

std::size_t subscription_index::size() const noexcept {
  detail::shared_guard guard{impl_->gate};
  return impl_->subscriptions;
}

std::size_t subscription_index::node_count() const noexcept {
  detail::shared_guard guard{impl_->gate};
  return impl_->used + 1 + impl_->shapes.filters();
}

std::size_t subscription_index::memory_usage() const noexcept {
  detail::shared_guard guard{impl_->gate};
  return impl_->memory();
}

}  // namespace iotblocks::topic
