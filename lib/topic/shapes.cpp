// The shape table (see shapes.hpp): filters keyed by a hash composed from their
// levels, so a topic computes the key of every filter that could match it.
#include "topic/shapes.hpp"

#include <algorithm>

namespace iotblocks::topic::detail {

// A level's word depends on its position, so "a/b" and "b/a" differ; words are
// combined by XOR, so a lookup replaces level i by '+' with two XORs.
std::uint64_t shape_level_key(std::uint32_t position, std::uint64_t level_hash) noexcept {
  return mum(level_hash ^ ((position + 1) * 0xBF58476D1CE4E5B9ull), 0x9E3779B97F4A7C15ull);
}

std::uint64_t shape_plus_key(std::uint32_t position) noexcept {
  return shape_level_key(position, 0x5851F42D4C957F2Dull);
}

std::uint64_t shape_final_key(std::uint64_t x, std::uint32_t depth, bool hash) noexcept {
  const std::uint64_t d = ((std::uint64_t{depth} << 1) | (hash ? 1u : 0u)) + 1;
  return mum(x ^ 0xa0761d6478bd642full, (d * 0x9E3779B97F4A7C15ull) ^ 0xe7037ed1a0b428dbull);
}

bool shape_verify(std::string_view filter, std::string_view topic) noexcept {
  return matches(filter, topic);
}

shape_table::shape_table() { clear(); }

void shape_table::clear() {
  bits_ = 4;
  table_block_ = block{sizeof(slot) << bits_};
  table_ = reinterpret_cast<slot*>(table_block_.data());
  used_ = 0;
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
  for (auto& l : exact_by_depth_) l.clear();
  hash_shapes_.clear();
}

bool shape_table::parse(std::string_view filter, parsed& p) noexcept {
  if (filter.size() > max_text) return false;
  p = parsed{};
  std::uint64_t x = 0;
  std::uint32_t i = 0;
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
      x ^= shape_level_key(i, hash_bytes(level));
    }
    ++i;
  }
  p.depth = i;
  p.key = shape_final_key(x, i, p.hash);
  p.signature = i | (p.hash ? 1u << 6 : 0u) | (std::uint64_t{p.plus} << 7);
  return true;
}

bool shape_table::may_add(const parsed& p) const noexcept {
  if (has_shape(p)) return true;
  return shapes_.size() - free_shapes_.size() < max_shapes - 1 &&
         (p.plus == 0 || wild_shapes_ < budget_);
}

shape_table::slot* shape_table::find(const parsed& p, std::uint32_t id,
                                     std::string_view filter) noexcept {
  const std::uint32_t t = tag(p.key);
  for (std::uint32_t i = home(t);; i = (i + 1) & mask()) {
    slot& s = table_[i];
    if (s.block == 0) return nullptr;
    if (s.tag == t && shape_in(pool_[s.block]) == id && text(s.block) == filter) return &s;
  }
}

void shape_table::grow() {
  if ((std::size_t{used_} + 1) * 4 <= (std::size_t{1} << bits_) * 3) return;
  block fresh{sizeof(slot) << (bits_ + 1)};
  block keep = std::move(table_block_);
  const slot* old = table_;
  const std::uint32_t old_size = 1u << bits_;
  table_block_ = std::move(fresh);
  table_ = reinterpret_cast<slot*>(table_block_.data());
  ++bits_;
  for (std::uint32_t i = 0; i < old_size; ++i) {
    if (old[i].block == 0) continue;
    std::uint32_t j = home(old[i].tag);
    while (table_[j].block != 0) j = (j + 1) & mask();
    table_[j] = old[i];
  }
}

void shape_table::erase_slot(slot* s) noexcept {
  auto i = static_cast<std::uint32_t>(s - table_);
  for (std::uint32_t j = (i + 1) & mask(); table_[j].block != 0; j = (j + 1) & mask()) {
    const std::uint32_t k = home(table_[j].tag);
    // Move j back into the hole at i unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (!stays) {
      table_[i] = table_[j];
      i = j;
    }
  }
  table_[i] = slot{};
  --used_;
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
  std::uint32_t id;
  if (!free_shapes_.empty()) {
    id = free_shapes_.back();
    free_shapes_.pop_back();
  } else {
    id = static_cast<std::uint32_t>(shapes_.size());
    shapes_.emplace_back();
  }
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
  for (auto& l : exact_by_depth_) l.clear();
  hash_shapes_.clear();
  for (const auto& [signature, id] : by_signature_) {
    if (shapes_[id].hash) {
      hash_shapes_.push_back(id);
    } else {
      exact_by_depth_[shapes_[id].depth].push_back(id);
    }
  }
  std::sort(hash_shapes_.begin(), hash_shapes_.end(),
            [&](std::uint32_t a, std::uint32_t b) { return shapes_[a].depth < shapes_[b].depth; });
}

int shape_table::assign(const parsed& p, std::string_view filter, const record& r, bool create) {
  std::uint32_t id = shape_of(p);
  slot* s = id != none ? find(p, id, filter) : nullptr;
  const auto len = static_cast<std::uint32_t>(filter.size());
  const std::uint32_t t = text_units(len);
  if (s == nullptr) {
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
    std::uint32_t i = home(tag(p.key));
    while (table_[i].block != 0) i = (i + 1) & mask();
    table_[i] = slot{tag(p.key), b};
    ++used_;
    ++shapes_[id].refs;
    return 1;
  }
  const std::uint32_t b = s->block;
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
    return 1;
  }
  const std::uint32_t fresh_cap = cap * 2;
  if (1 + t + fresh_cap > page) {  // a list of its own; the block keeps header and text
    std::uint32_t l;
    if (!free_big_.empty()) {
      l = free_big_.back();
      free_big_.pop_back();
    } else {
      l = static_cast<std::uint32_t>(big_.size());
      big_.emplace_back();
    }
    big_[l].assign(first, first + count);
    big_[l].push_back(r);
    const std::uint32_t nb = alloc(1 + t);
    std::copy(&head, &head + 1 + t, &pool_[nb]);
    pool_[nb].id_opts |= big_flag;
    pool_[nb].extra = l;
    pool_[nb].hi = 0;
    release(b, 1 + t + cap);
    s->block = nb;
    return 1;
  }
  const std::uint32_t nb = alloc(1 + t + fresh_cap);
  std::copy(&head, &head + 1 + t + count, &pool_[nb]);
  pool_[nb].hi = fresh_cap;
  pool_[nb].lo = count + 1;
  pool_[nb + 1 + t + count] = r;
  release(b, 1 + t + cap);
  s->block = nb;
  return 1;
}

int shape_table::remove(const parsed& p, std::string_view filter, subscriber_id who) {
  const std::uint32_t id = shape_of(p);
  if (id == none) return -1;
  slot* s = find(p, id, filter);
  if (s == nullptr) return -1;
  const std::uint32_t b = s->block;
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
    if (count > 1) return 1;
    units = 1 + t + head.hi;
  }
  release(b, units);
  erase_slot(s);
  if (--shapes_[id].refs == 0) drop_shape(id);
  return 1;
}

std::size_t shape_table::memory() const noexcept {
  std::size_t bytes = table_block_.size() + pool_.bytes() + free_.capacity() * 4 +
                      big_.capacity() * sizeof(big_[0]) + free_big_.capacity() * 4 +
                      shapes_.capacity() * sizeof(shape) + free_shapes_.capacity() * 4 +
                      by_signature_.size() * 32 + hash_shapes_.capacity() * 4;
  for (const auto& l : big_) bytes += l.capacity() * sizeof(record);
  for (const auto& l : exact_by_depth_) bytes += l.capacity() * 4;
  return bytes;
}

}  // namespace iotblocks::topic::detail
