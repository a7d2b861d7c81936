// The shape table (see shapes.hpp): filters keyed by a hash composed from their
// levels, so a topic computes the key of every filter that could match it.
#include "topic/shape_lookup.hpp"

#include <algorithm>
#include <bit>
#include <utility>

namespace iotblocks::topic::detail {

shape_table::shape_table() { clear(); }

void shape_table::clear() {
  bits_ = 4;
  table_block_ = block{sizeof(slot) * ((1u << bits_) + window)};
  table_ = reinterpret_cast<slot*>(table_block_.data());
  used_ = 0;
  bloom_rebuild();
  pool_.clear();
  pool_.push();  // block 0 = none
  free_.assign(page + 1, 0);
  free_.shrink_to_fit();
  big_.clear();
  big_.shrink_to_fit();
  free_big_.clear();
  free_big_.shrink_to_fit();
  shapes_.clear();
  shapes_.shrink_to_fit();
  free_shapes_.clear();
  by_signature_.clear();
  wild_shapes_ = 0;
  for (auto& l : candidates_) l.clear();
}

bool shape_table::parse(std::string_view filter, parsed& p) noexcept {
  if (filter.size() > max_text) return false;
  p = parsed{};
  std::uint64_t x = 0;
  std::uint32_t i = 0;
  const char* const end = filter.data() + filter.size();
  for (std::string_view level : levels(filter)) {
    if (level == "#") {
      p.hash = true;
      break;
    }
    if (i == max_depth) return false;
    if (level == "+") {
      p.plus |= 1u << i;
      x ^= shape_plus_key(i);
    } else {
      x ^= shape_level_key(i, level_hash(level.data(), level.size(), end));
    }
    ++i;
  }
  p.depth = i;
  p.key = shape_final_key(x, shape_depth_word(i, p.hash));
  p.signature = i | (p.hash ? 1u << 6 : 0u) | (std::uint64_t{p.plus} << 7);
  return true;
}

bool shape_table::may_add(const parsed& p) const noexcept {
  if (has_shape(p)) return true;
  return shapes_.size() - free_shapes_.size() < max_shapes - 1 &&
         (p.plus == 0 || wild_shapes_ < budget_);
}

// The table is ordered (Robin Hood with linear probing): along a run of slots,
// home slots never decrease and tags ascend within a home, so a search stops at
// the first slot that would sort after its tag, and the slots of one tag are
// adjacent. The first `window` slots are mirrored past the end, so a lookup
// reads the window at a home slot without wrapping.
std::uint32_t shape_table::find(const parsed& p, std::uint32_t id,
                                std::string_view filter) const noexcept {
  const std::uint32_t t = tag(p.key);
  for (std::uint32_t i = home(t), d = 0;; i = (i + 1) & mask(), ++d) {
    const slot& s = table_[i];
    if (s.block == 0 || after(s, i, t, d)) return none;
    const std::uint32_t b = s.block & block_mask;
    if (s.tag == t && shape_in(pool_[b]) == id && text(b) == filter) return i;
  }
}

void shape_table::put(std::uint32_t i, slot s) noexcept {
  table_[i] = s;
  if (i < window) table_[(1u << bits_) + i] = s;
}

void shape_table::place(slot e) noexcept {
  std::uint32_t i = home(e.tag);
  for (std::uint32_t d = 0; table_[i].block != 0 && !after(table_[i], i, e.tag, d); ++d) {
    i = (i + 1) & mask();
  }
  for (; e.block != 0; i = (i + 1) & mask()) {  // shift the rest of the run
    const slot next = table_[i];
    put(i, e);
    e = next;
  }
}

void shape_table::grow() {
  if ((std::size_t{used_} + 1) * 4 <= (std::size_t{1} << bits_) * 3) return;
  block keep = std::exchange(table_block_, block{sizeof(slot) * ((2u << bits_) + window)});
  const slot* old = reinterpret_cast<const slot*>(keep.data());
  const std::uint32_t old_size = 1u << bits_;
  table_ = reinterpret_cast<slot*>(table_block_.data());
  ++bits_;
  for (std::uint32_t i = 0; i < old_size; ++i) {
    if (old[i].block != 0) place(old[i]);
  }
  bloom_rebuild();
}

void shape_table::bloom_rebuild() {
  bloom_block_ = block{sizeof(std::uint64_t) << (bits_ - 3)};
  bloom_ = reinterpret_cast<std::uint64_t*>(bloom_block_.data());
  stale_ = 0;
  for (std::uint32_t i = 0, n = 1u << bits_; i < n; ++i) {
    if (table_[i].block != 0) bloom_add(table_[i].tag);
  }
}

void shape_table::erase_slot(std::uint32_t i) noexcept {
  for (std::uint32_t j = (i + 1) & mask(); table_[j].block != 0 && home(table_[j].tag) != j;
       j = (j + 1) & mask()) {
    put(i, table_[j]);
    i = j;
  }
  put(i, slot{});
  --used_;
  if (++stale_ > (1u << bits_) / 4) bloom_rebuild();  // a scan of the table per 1/4 of it
}

// Blocks of `units` records (at most a page) from the pool; a block never
// straddles a page, so it is contiguous. Freed blocks are reused by exact size.
std::uint32_t shape_table::alloc(std::uint32_t units) {
  if (free_[units] != 0) {
    const std::uint32_t b = free_[units];
    free_[units] = pool_[b].extra;
    return b;
  }
  std::uint32_t top = pool_.size();
  const std::uint32_t off = top & (page - 1);
  if (off != 0 && off + units > page) {
    const std::uint32_t gap = page - off;
    for (std::uint32_t i = 0; i < gap; ++i) pool_.push();
    release(top, gap);
    top += gap;
  }
  for (std::uint32_t i = 0; i < units; ++i) pool_.push();
  return top;
}

void shape_table::release(std::uint32_t b, std::uint32_t units) noexcept {
  pool_[b].extra = free_[units];
  free_[units] = b;
}

std::uint32_t shape_table::add_shape(const parsed& p) {
  const std::uint32_t id = take(free_shapes_, shapes_);
  shapes_[id] = shape{p.depth, p.plus, 0, p.hash};
  by_signature_.emplace(p.signature, id);
  if (p.plus != 0) ++wild_shapes_;
  rebuild_candidates();
  return id;
}

void shape_table::drop_shape(std::uint32_t id) {
  const shape& s = shapes_[id];
  by_signature_.erase(s.depth | (s.hash ? 1u << 6 : 0u) | (std::uint64_t{s.plus} << 7));
  if (s.plus != 0) --wild_shapes_;
  free_shapes_.push_back(id);
  rebuild_candidates();
}

void shape_table::rebuild_candidates() {
  for (auto& l : candidates_) l.clear();
  for (const auto& [signature, id] : by_signature_) {
    const shape& s = shapes_[id];
    const std::uint32_t rest = s.plus & (s.plus - 1);
    auto first_of = [](std::uint32_t m) {
      return static_cast<std::uint8_t>(m == 0 ? max_depth
                                              : static_cast<std::uint32_t>(std::countr_zero(m)));
    };
    const candidate c{shape_depth_word(s.depth, s.hash),
                      s.plus,
                      id,
                      static_cast<std::uint8_t>(s.depth),
                      first_of(s.plus),
                      first_of(rest),
                      s.hash,
                      (s.plus & 1u) != 0 || (s.hash && s.depth == 0),
                      (rest & (rest - 1)) != 0};
    if (!s.hash) {
      candidates_[s.depth].push_back(c);
      continue;
    }
    for (std::uint32_t depth = s.depth; depth <= max_depth + 1; ++depth) {
      candidates_[depth].push_back(c);
    }
  }
}

int shape_table::assign(const parsed& p, std::string_view filter, const record& r, bool create) {
  // A new filter sets its Bloom bits: their miss overlaps the table's.
  __builtin_prefetch(&bloom_[bloom_word(bloom_mix(tag(p.key)))], 1);
  __builtin_prefetch(&table_[home(tag(p.key))]);
  std::uint32_t id = shape_of(p);
  const std::uint32_t at = id != none ? find(p, id, filter) : none;
  const auto len = static_cast<std::uint32_t>(filter.size());
  const std::uint32_t t = text_units(len);
  if (at == none) {
    if (!create) return -1;
    if (id == none) id = add_shape(p);
    grow();
    const std::uint32_t b = alloc(2 + t);
    pool_[b] = record{1, 1, len | (id << 17), 0};
    std::memcpy(&pool_[b + 1], filter.data(), len);
    if (len % 16 != 0) {
      std::memset(reinterpret_cast<char*>(&pool_[b + 1]) + len, 0, 16 * t - len);
    }
    pool_[b + 1 + t] = r;
    place(slot{tag(p.key), packed(b, 2 + t)});
    bloom_add(tag(p.key));
    ++used_;
    ++shapes_[id].refs;
    return 1;
  }
  const std::uint32_t b = table_[at].block & block_mask;
  record& head = pool_[b];
  if ((head.id_opts & big_flag) != 0) {
    auto& list = big_[head.extra];
    for (record& x : list) {
      if (x.subscriber() == r.subscriber()) {
        x = r;
        return 0;
      }
    }
    list.push_back(r);
    return 1;
  }
  record* first = &pool_[b + 1 + t];
  const std::uint32_t count = head.lo, cap = head.hi;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (first[i].subscriber() == r.subscriber()) {
      first[i] = r;
      return 0;
    }
  }
  if (count < cap) {
    first[count] = r;
    ++head.lo;
    set_block(at, packed(b, 2 + t + count));
    return 1;
  }
  const std::uint32_t fresh_cap = cap * 2;
  if (1 + t + fresh_cap > page) {  // a list of its own; the block keeps header and text
    const std::uint32_t l = take(free_big_, big_);
    big_[l].assign(first, first + count);
    big_[l].push_back(r);
    const std::uint32_t nb = alloc(1 + t);
    std::copy(&head, &head + 1 + t, &pool_[nb]);
    pool_[nb].id_opts |= big_flag;
    pool_[nb].extra = l;
    pool_[nb].hi = 0;
    release(b, 1 + t + cap);
    set_block(at, packed(nb, 1 + t));
    return 1;
  }
  const std::uint32_t nb = alloc(1 + t + fresh_cap);
  std::copy(&head, &head + 1 + t + count, &pool_[nb]);
  pool_[nb].hi = fresh_cap;
  pool_[nb].lo = count + 1;
  pool_[nb + 1 + t + count] = r;
  release(b, 1 + t + cap);
  set_block(at, packed(nb, 2 + t + count));
  return 1;
}

int shape_table::remove(const parsed& p, std::string_view filter, subscriber_id who) {
  const std::uint32_t id = shape_of(p);
  if (id == none) return -1;
  const std::uint32_t at = find(p, id, filter);
  if (at == none) return -1;
  const std::uint32_t b = table_[at].block & block_mask;
  record& head = pool_[b];
  const std::uint32_t t = text_units(head.id_opts & 0xFFFFu);
  std::uint32_t units;
  if ((head.id_opts & big_flag) != 0) {
    auto& list = big_[head.extra];
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const record& x) { return x.subscriber() == who; });
    if (it == list.end()) return 0;
    *it = list.back();
    list.pop_back();
    if (!list.empty()) return 1;
    std::vector<record>{}.swap(list);
    free_big_.push_back(head.extra);
    units = 1 + t;
  } else {
    record* first = &pool_[b + 1 + t];
    const std::uint32_t count = head.lo;
    std::uint32_t i = 0;
    while (i < count && first[i].subscriber() != who) ++i;
    if (i == count) return 0;
    first[i] = first[count - 1];
    head.lo = count - 1;
    if (count > 1) {
      set_block(at, packed(b, t + count));
      return 1;
    }
    units = 1 + t + head.hi;
  }
  release(b, units);
  erase_slot(at);
  if (--shapes_[id].refs == 0) drop_shape(id);
  return 1;
}

std::size_t shape_table::memory() const noexcept {
  std::size_t bytes = table_block_.size() + bloom_block_.size() + pool_.bytes() +
                      free_.capacity() * 4 + big_.capacity() * sizeof(big_[0]) +
                      free_big_.capacity() * 4 + shapes_.capacity() * sizeof(shape) +
                      free_shapes_.capacity() * 4 + by_signature_.size() * 32;
  for (const auto& l : big_) bytes += l.capacity() * sizeof(record);
  for (const auto& l : candidates_) bytes += l.capacity() * sizeof(candidate);
  return bytes;
}

}  // namespace iotblocks::topic::detail
