// The subscription trie. Layout, chosen for a million subscriptions:
//  - nodes (24 bytes) in pages; a node's level label is inline up to 12 bytes,
//    longer labels live in one arena;
//  - one open-addressing table (12-byte entries, linear probing, backward-shift
//    deletion) maps (parent node, level) to the child for every node; '+' and '#'
//    are children labelled "+" and "#", announced by flags on the parent so a
//    lookup probes for them only where they exist;
//  - a node with one subscriber points to a 16-byte record in pages; a node with
//    more points to a contiguous list, so a fan-out reads sequential memory;
//  - shared groups in a side map, flagged on the node.
#include "topic/detail.hpp"

#include <iotblocks/topic/index.hpp>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>

namespace iotblocks::topic {
namespace {

using detail::hash_bytes;

constexpr std::uint32_t inline_label = 12;
constexpr std::uint32_t max_records = (1u << 30) - 1;
constexpr std::uint32_t max_nodes = 1u << 31;
constexpr std::uint32_t max_identifier = 268'435'455;

enum node_flags : std::uint8_t {
  has_plus = 1,
  has_hash = 2,
  has_shared = 4,
  is_free = 8,
  has_list = 16,  // node::subs indexes lists, not records
};

struct node {
  std::uint32_t subs;      // a record, or a list with has_list; 0 = none
  std::uint32_t children;  // number of child edges ('+' and '#' included)
  std::uint16_t len;       // label length
  std::uint8_t flags;
  std::uint8_t spare;
  char text[inline_label];  // the label, or its arena offset when len > inline_label
};
static_assert(sizeof(node) == 24);

struct record {
  std::uint32_t lo, hi;   // subscriber (lo: next free record while on the free list)
  std::uint32_t id_opts;  // identifier (28 bits), qos (2), no_local (1), retain_as_published (1)
  std::uint32_t extra;    // retain handling (2 bits)

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

struct edge {
  std::uint32_t parent;
  std::uint32_t child;  // 0 = empty slot (the root is nobody's child)
  std::uint32_t tag;    // 32 bits of the (parent, level) hash; also gives the home slot
};

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

struct frame {
  std::uint32_t node;
  std::uint32_t level;
};

struct scratch {
  std::vector<std::string_view> levels;
  std::vector<std::uint64_t> hashes;
  std::vector<frame> stack;
};

}  // namespace

struct subscription_index::impl {
  mutable detail::reader_gate gate;
  limits lim;
  share_strategy strategy = share_strategy::round_robin;
  share_picker picker;

  detail::paged_vector<node> nodes;
  std::uint32_t free_node = 0;  // free list through node::subs
  std::uint32_t live_nodes = 0;
  detail::paged_vector<record> records;
  std::uint32_t free_record = 0;           // free list through record::lo
  std::vector<std::vector<record>> lists;  // lists[0] unused
  std::vector<std::uint32_t> free_lists;
  std::vector<edge> edges;
  std::uint32_t edge_bits = 0;
  std::uint32_t edge_count = 0;
  std::vector<char> arena;
  std::size_t arena_garbage = 0;
  std::unordered_map<std::uint32_t, std::vector<std::unique_ptr<group>>> shared;
  std::size_t subscriptions = 0;

  impl() { reset(); }

  void reset() {
    nodes.clear();
    records.clear();
    nodes.push();    // root
    records.push();  // record 0 = none
    free_node = free_record = 0;
    lists.assign(1, {});
    lists.shrink_to_fit();
    free_lists.clear();
    free_lists.shrink_to_fit();
    live_nodes = 1;
    edge_bits = 4;
    edges.assign(std::size_t{1} << edge_bits, edge{});
    edge_count = 0;
    arena.clear();
    arena.shrink_to_fit();
    arena_garbage = 0;
    shared.clear();
    subscriptions = 0;
  }

  // ---- labels -------------------------------------------------------------
  const char* label_data(const node& n) const noexcept {
    if (n.len <= inline_label) return n.text;
    std::uint32_t off;
    std::memcpy(&off, n.text, 4);
    return arena.data() + off;
  }
  std::string_view label(const node& n) const noexcept { return {label_data(n), n.len}; }
  bool label_equals(const node& n, std::string_view s) const noexcept {
    return n.len == s.size() && std::memcmp(label_data(n), s.data(), s.size()) == 0;
  }

  void compact_arena() {
    std::vector<char> fresh;
    fresh.reserve(arena.size() - arena_garbage);
    for (std::uint32_t i = 0; i < nodes.size(); ++i) {
      node& n = nodes[i];
      if ((n.flags & is_free) != 0 || n.len <= inline_label) continue;
      const auto off = static_cast<std::uint32_t>(fresh.size());
      fresh.insert(fresh.end(), label_data(n), label_data(n) + n.len);
      std::memcpy(n.text, &off, 4);
    }
    arena = std::move(fresh);
    arena_garbage = 0;
  }

  // ---- edges --------------------------------------------------------------
  static std::uint32_t tag_of(std::uint32_t parent, std::uint64_t level_hash) noexcept {
    const std::uint64_t h =
        detail::mum(level_hash ^ 0x94D049BB133111EBull, parent ^ 0xBF58476D1CE4E5B9ull);
    return static_cast<std::uint32_t>(h ^ (h >> 32));
  }
  std::uint32_t home(std::uint32_t tag) const noexcept {
    return static_cast<std::uint32_t>((std::uint64_t{tag} * 0x9E3779B1u) & 0xFFFF'FFFFu) >>
           (32 - edge_bits);
  }
  std::uint32_t mask() const noexcept { return (1u << edge_bits) - 1; }

  std::uint32_t find_child(std::uint32_t parent, std::string_view level,
                           std::uint64_t level_hash) const noexcept {
    const std::uint32_t tag = tag_of(parent, level_hash);
    for (std::uint32_t i = home(tag);; i = (i + 1) & mask()) {
      const edge& e = edges[i];
      if (e.child == 0) return 0;
      if (e.tag == tag && e.parent == parent && label_equals(nodes[e.child], level)) {
        return e.child;
      }
    }
  }

  void place(const edge& e) noexcept {
    std::uint32_t i = home(e.tag);
    while (edges[i].child != 0) i = (i + 1) & mask();
    edges[i] = e;
  }

  void add_edge(std::uint32_t parent, std::uint32_t child, std::uint32_t tag) {
    if ((edge_count + 1) * 4ull > (std::uint64_t{1} << edge_bits) * 3ull) {
      std::vector<edge> old(std::size_t{1} << (edge_bits + 1), edge{});
      old.swap(edges);
      ++edge_bits;
      for (const edge& e : old) {
        if (e.child != 0) place(e);
      }
    }
    place({parent, child, tag});
    ++edge_count;
  }

  void remove_edge(std::uint32_t child, std::uint32_t tag) noexcept {
    std::uint32_t i = home(tag);
    while (edges[i].child != child) i = (i + 1) & mask();
    for (std::uint32_t j = (i + 1) & mask(); edges[j].child != 0; j = (j + 1) & mask()) {
      const std::uint32_t k = home(edges[j].tag);
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        edges[i] = edges[j];
        i = j;
      }
    }
    edges[i] = edge{};
    --edge_count;
  }

  // ---- nodes --------------------------------------------------------------
  std::uint32_t new_node(std::uint32_t parent, std::string_view level, std::uint64_t h) {
    std::uint32_t id;
    if (free_node != 0) {
      id = free_node;
      free_node = nodes[id].subs;
      nodes[id] = node{};
    } else {
      id = nodes.push();
    }
    node& n = nodes[id];
    n.len = static_cast<std::uint16_t>(level.size());
    if (level.size() <= inline_label) {
      std::memcpy(n.text, level.data(), level.size());
    } else {
      if (arena.size() + level.size() > std::numeric_limits<std::uint32_t>::max()) compact_arena();
      const auto off = static_cast<std::uint32_t>(arena.size());
      arena.insert(arena.end(), level.begin(), level.end());
      std::memcpy(nodes[id].text, &off, 4);
    }
    add_edge(parent, id, tag_of(parent, h));
    node& p = nodes[parent];
    ++p.children;
    if (level == "+") p.flags |= has_plus;
    if (level == "#") p.flags |= has_hash;
    ++live_nodes;
    return id;
  }

  void free_node_at(std::uint32_t parent, std::uint32_t id) {
    node& n = nodes[id];
    const std::string_view l = label(n);
    remove_edge(id, tag_of(parent, hash_bytes(l)));
    node& p = nodes[parent];
    --p.children;
    if (l == "+") p.flags &= static_cast<std::uint8_t>(~has_plus);
    if (l == "#") p.flags &= static_cast<std::uint8_t>(~has_hash);
    if (n.len > inline_label) arena_garbage += n.len;
    n.flags = is_free;
    n.subs = free_node;
    free_node = id;
    --live_nodes;
    if (arena_garbage > (std::size_t{1} << 20) && arena_garbage * 2 > arena.size()) {
      compact_arena();
    }
  }

  bool removable(std::uint32_t id) const noexcept {
    const node& n = nodes[id];
    return n.subs == 0 && n.children == 0 && (n.flags & has_shared) == 0;
  }

  // ---- updates ------------------------------------------------------------
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
    } else if (auto ec = validate_filter(filter, lim)) {
      return {ec, "invalid topic filter"};
    } else {
      sf.filter = filter;
    }
    std::size_t depth = 0;
    for ([[maybe_unused]] auto l : levels(sf.filter)) ++depth;
    if (std::uint64_t{nodes.size()} + depth >= max_nodes || records.size() >= max_records) {
      return {error::index_full, "subscription index is full"};
    }
    std::uint32_t n = 0;
    for (std::string_view level : levels(sf.filter)) {
      const std::uint64_t h = hash_bytes(level);
      std::uint32_t c = find_child(n, level, h);
      if (c == 0) c = new_node(n, level, h);
      n = c;
    }
    if (is_share) return join(n, sf.group, s, o);
    if (!add(nodes[n], record::make(s, o))) return false;
    ++subscriptions;
    return true;
  }

  // Adds or replaces `rec` in the subscriptions of `n`; false when replaced.
  bool add(node& n, const record& rec) {
    if (n.subs == 0) {
      n.subs = new_record(rec);
      return true;
    }
    if ((n.flags & has_list) == 0) {
      record& only = records[n.subs];
      if (only.subscriber() == rec.subscriber()) {
        only = rec;
        return false;
      }
      std::uint32_t l;
      if (!free_lists.empty()) {
        l = free_lists.back();
        free_lists.pop_back();
      } else {
        l = static_cast<std::uint32_t>(lists.size());
        lists.emplace_back();
      }
      lists[l].reserve(2);
      lists[l].push_back(only);
      free_record_at(n.subs);
      n.subs = l;
      n.flags |= has_list;
    }
    auto& list = lists[n.subs];
    for (record& r : list) {
      if (r.subscriber() == rec.subscriber()) {
        r = rec;
        return false;
      }
    }
    list.push_back(rec);
    return true;
  }

  std::uint32_t new_record(const record& rec) {
    std::uint32_t r;
    if (free_record != 0) {
      r = free_record;
      free_record = records[r].lo;
    } else {
      r = records.push();
    }
    records[r] = rec;
    return r;
  }
  void free_record_at(std::uint32_t r) noexcept {
    records[r].lo = free_record;
    free_record = r;
  }

  bool join(std::uint32_t n, std::string_view name, subscriber_id s,
            const subscription_options& o) {
    auto& groups = shared[n];
    nodes[n].flags |= has_shared;
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
    } else if (validate_filter(filter, lim)) {
      return false;
    } else {
      sf.filter = filter;
    }
    std::vector<std::uint32_t> path{0};
    for (std::string_view level : levels(sf.filter)) {
      const std::uint32_t c = find_child(path.back(), level, hash_bytes(level));
      if (c == 0) return false;
      path.push_back(c);
    }
    const std::uint32_t n = path.back();
    if (is_shared(filter) ? !leave(n, sf.group, s) : !unlink(n, s)) return false;
    --subscriptions;
    for (std::size_t i = path.size() - 1; i > 0 && removable(path[i]); --i) {
      free_node_at(path[i - 1], path[i]);
    }
    return true;
  }

  bool unlink(std::uint32_t id, subscriber_id s) {
    node& n = nodes[id];
    if (n.subs == 0) return false;
    if ((n.flags & has_list) == 0) {
      if (records[n.subs].subscriber() != s) return false;
      free_record_at(n.subs);
      n.subs = 0;
      return true;
    }
    auto& list = lists[n.subs];
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const record& r) { return r.subscriber() == s; });
    if (it == list.end()) return false;
    *it = list.back();
    list.pop_back();
    if (list.empty()) {
      std::vector<record>{}.swap(list);
      free_lists.push_back(n.subs);
      n.subs = 0;
      n.flags &= static_cast<std::uint8_t>(~has_list);
    }
    return true;
  }

  bool leave(std::uint32_t n, std::string_view name, subscriber_id s) {
    auto it = shared.find(n);
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
      nodes[n].flags &= static_cast<std::uint8_t>(~has_shared);
    }
    return true;
  }

  // ---- lookups ------------------------------------------------------------
  std::size_t pick(const group& g, std::string_view topic, const match_context& ctx) const {
    const std::uint64_t seq = g.sequence.fetch_add(1, std::memory_order_relaxed);
    const std::size_t count = g.members.size();
    if (picker) return picker({g.name, g.members, topic, ctx.publisher_client_id, seq}) % count;
    switch (strategy) {
      case share_strategy::random: return thread_random() % count;
      case share_strategy::hash_topic: return hash_bytes(topic) % count;
      case share_strategy::hash_client:
        if (!ctx.publisher_client_id.empty()) return hash_bytes(ctx.publisher_client_id) % count;
        return seq % count;
      case share_strategy::round_robin: break;
    }
    return seq % count;
  }

  // Calls sink(entry) for every match; a sink returning false stops the walk.
  template <class Sink>
  void walk(std::string_view topic, const match_context& ctx, bool pick_shared, Sink&& sink) const {
    thread_local scratch tls;
    auto& lv = tls.levels;
    auto& hv = tls.hashes;
    lv.clear();
    hv.clear();
    for (auto l : levels(topic)) {
      lv.push_back(l);
      hv.push_back(hash_bytes(l));
    }
    const auto count = static_cast<std::uint32_t>(lv.size());
    const bool dollar = !topic.empty() && topic[0] == '$';
    static const std::uint64_t plus_hash = hash_bytes("+");
    static const std::uint64_t hash_hash = hash_bytes("#");

    auto emit = [&](std::uint32_t id) -> bool {
      const node& n = nodes[id];
      auto one = [&](const record& rec) {
        const subscription_options o = rec.options();
        if (o.no_local && rec.subscriber() == ctx.publisher) return true;
        return sink(match_entry{rec.subscriber(), o, false});
      };
      if ((n.flags & has_list) != 0) {
        for (const record& rec : lists[n.subs]) {
          if (!one(rec)) return false;
        }
      } else if (n.subs != 0 && !one(records[n.subs])) {
        return false;
      }
      if ((n.flags & has_shared) != 0) {
        for (const auto& g : shared.find(id)->second) {
          const share_member& m =
              pick_shared ? g->members[pick(*g, topic, ctx)] : g->members.front();
          if (!sink(match_entry{m.subscriber, m.options, true})) return false;
        }
      }
      return true;
    };

    // A pushed child is looked at soon: fetch it and its next-level edge slot now,
    // so the two cache misses of a level overlap.
    auto push = [&](std::uint32_t c, std::uint32_t level) {
      __builtin_prefetch(&nodes[c]);
      if (level < count) __builtin_prefetch(&edges[home(tag_of(c, hv[level]))]);
      stack_push(tls.stack, c, level);
    };
    auto& stack = tls.stack;
    stack.clear();
    stack.push_back({0, 0});
    while (!stack.empty()) {
      const frame f = stack.back();
      stack.pop_back();
      const node& n = nodes[f.node];
      const bool wild = !(dollar && f.level == 0);  // MQTT-4.7.2-1
      if ((n.flags & has_hash) != 0 && wild) {
        if (!emit(find_child(f.node, "#", hash_hash))) return;
      }
      if (f.level == count) {
        if (!emit(f.node)) return;
        continue;
      }
      if ((n.flags & has_plus) != 0 && wild) {
        push(find_child(f.node, "+", plus_hash), f.level + 1);
      }
      if (n.children != 0) {
        if (const std::uint32_t c = find_child(f.node, lv[f.level], hv[f.level])) {
          push(c, f.level + 1);
        }
      }
    }
  }

  static void stack_push(std::vector<frame>& stack, std::uint32_t c, std::uint32_t level) {
    stack.push_back({c, level});
  }

  std::size_t memory() const noexcept {
    std::size_t bytes = sizeof(impl) + nodes.bytes() + records.bytes() +
                        edges.capacity() * sizeof(edge) + arena.capacity() +
                        lists.capacity() * sizeof(lists[0]) + free_lists.capacity() * 4;
    for (const auto& l : lists) bytes += l.capacity() * sizeof(record);
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
  return impl_->live_nodes;
}

std::size_t subscription_index::memory_usage() const noexcept {
  detail::shared_guard guard{impl_->gate};
  return impl_->memory();
}

}  // namespace iotblocks::topic
