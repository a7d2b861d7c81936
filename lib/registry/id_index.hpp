// Private: certificate records by id in a flat open-addressing table. Ids
// are lowercase hex SHA-256 digests; slots hold the 32-byte digest and the
// record pointer side by side, so a lookup touches one cache line (plus the
// record's reference count), and the digest's first bytes are the hash.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/registry/records.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace iotblocks::registry::detail {

/// Distinct objects: safe. Shared objects: unsafe.
class id_index {
 public:
  using record_ptr = std::shared_ptr<const certificate_record>;
  using digest = std::array<std::uint8_t, 32>;

  /// The 32 bytes of a 64-digit hex id (either case), or false (decode_hex:
  /// table-driven and branch-free, as random hex digits would defeat the branch predictor).
  static bool decode(std::string_view hex, digest& out) noexcept {
    return decode_hex(hex, std::as_writable_bytes(std::span{out}));
  }

  const record_ptr* find(std::string_view id) const noexcept {
    const slot* s = find_slot(id);
    return s == nullptr ? nullptr : &s->rec;
  }
  record_ptr* find(std::string_view id) noexcept {
    slot* s = const_cast<slot*>(find_slot(id));
    return s == nullptr ? nullptr : &s->rec;
  }
  bool contains(std::string_view id) const noexcept { return find(id) != nullptr; }

  /// Inserts or replaces. Precondition: `id` is a 64-digit hex id.
  void put(std::string_view id, record_ptr rec) {
    digest key;
    if (!decode(id, key)) return;
    if (record_ptr* existing = find(id)) {
      *existing = std::move(rec);
      return;
    }
    if ((size_ + tombstones_ + 1) * 10 > slots_.size() * 7) rehash();
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      slot& s = slots_[i];
      if (s.state != used) {
        if (s.state == deleted) --tombstones_;
        s = slot{key, used, std::move(rec)};
        ++size_;
        return;
      }
    }
  }

  bool erase(std::string_view id) {
    slot* s = const_cast<slot*>(find_slot(id));
    if (s == nullptr) return false;
    s->state = deleted;
    s->rec.reset();
    --size_;
    ++tombstones_;
    return true;
  }

  std::size_t size() const noexcept { return size_; }

  /// Calls `f(record_ptr)` for each record, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (const slot& s : slots_) {
      if (s.state == used) f(s.rec);
    }
  }

 private:
  enum : std::uint8_t { empty = 0, used = 1, deleted = 2 };
  struct slot {
    digest key{};
    std::uint8_t state = empty;
    record_ptr rec;
  };

  static std::size_t hash(const digest& key) noexcept {
    std::uint64_t h;
    std::memcpy(&h, key.data(), sizeof h);
    return static_cast<std::size_t>(h);
  }
  const slot* find_slot(std::string_view id) const noexcept {
    digest key;
    if (slots_.empty() || !decode(id, key)) return nullptr;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      const slot& s = slots_[i];
      if (s.state == empty) return nullptr;
      if (s.state == used && s.key == key) return &s;
    }
  }
  // Rebuilds at a load of at most 1/2 (sized by live records, so tombstones
  // from churn never make the table grow without bound).
  void rehash() {
    std::vector<slot> old = std::move(slots_);
    std::size_t capacity = 16;
    while (capacity < (size_ + 1) * 2) capacity *= 2;
    slots_.assign(capacity, slot{});
    size_ = 0;
    tombstones_ = 0;
    const std::size_t mask = slots_.size() - 1;
    for (slot& s : old) {
      if (s.state != used) continue;
      for (std::size_t i = hash(s.key) & mask;; i = (i + 1) & mask) {
        if (slots_[i].state == empty) {
          slots_[i] = std::move(s);
          ++size_;
          break;
        }
      }
    }
  }

  std::vector<slot> slots_;
  std::size_t size_ = 0;
  std::size_t tombstones_ = 0;
};

}  // namespace iotblocks::registry::detail
