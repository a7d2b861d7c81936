// A decision cache for one client connection: the same principal and context
// ask the same questions again and again (iot:Receive on every delivered
// message, iot:Publish on every PUBLISH), so answers are kept per
// (action, resource), stamped with the policy store's generation. When a
// policy or an attachment changes, the generation moves and every older entry
// misses.
//
//   policy::decision_cache cache{1024};
//   if (const auto* hit = cache.find(store.generation(), req)) return *hit;
//   auto d = policy::evaluate(set, req, ctx);
//   cache.insert(store.generation(), req, d);
//
// The cache is keyed by action and resource only: it belongs to one principal
// and one context (the context holds the client id, thing and certificate the
// decisions depend on). Call clear() when the context changes.
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/policy/evaluate.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::policy {

/// Bounded, two-way set-associative; a full set evicts its older entry.
/// Distinct objects: safe. Shared objects: unsafe.
class decision_cache {
 public:
  /// `capacity` is rounded up to a power of two (at least 2). Default 1024 entries.
  explicit decision_cache(std::size_t capacity = 1024);

  /// The cached decision for `req` under `generation`, or nullptr. Requests for
  /// actions outside the known table are never cached.
  const decision* find(std::uint64_t generation, const request& req) noexcept;
  void insert(std::uint64_t generation, const request& req, const decision& d);
  void clear() noexcept;

  std::size_t capacity() const noexcept { return slots_.size(); }
  std::uint64_t hits() const noexcept { return hits_; }
  std::uint64_t misses() const noexcept { return misses_; }
  /// Resources longer than this (default 512 bytes) are not cached.
  void max_resource_length(std::size_t n) noexcept { max_resource_length_ = n; }

 private:
  struct slot {
    std::uint64_t hash = 0;
    std::uint64_t generation = 0;
    bool used = false;
    action_id action;
    std::string resource;
    decision value;
  };
  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  std::size_t max_resource_length_ = 512;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace iotblocks::policy

IOTBLOCKS_API_END
