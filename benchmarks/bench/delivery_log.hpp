// What one subscriber of iotblocks-bench received: which sequence numbers of
// which publisher, so that a redelivery (QoS 1 after a reconnect) counts as a
// duplicate, not as a message, and a message the broker dropped counts as lost.
// Sans-I/O; the counts decide the `received` and `lost` figures.
//
//   delivery_log log{publishers};
//   auto r = log.record(publisher, seq);   // r.fresh, r.advanced
//   count_lost(sent, fanout, unique)       // expected − unique, never negative
//
// Distinct objects: safe. Shared objects: unsafe (one subscriber's thread writes it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace iotblocks::bench {

class delivery_log {
 public:
  explicit delivery_log(std::size_t publishers);

  struct outcome {
    bool fresh = false;          ///< first time this (publisher, seq) arrived
    std::uint64_t advanced = 0;  ///< how far the publisher's highest seq moved (gaps included)
  };
  /// One message: `seq` from `publisher`. A publisher index out of range is ignored.
  outcome record(std::uint32_t publisher, std::uint32_t seq);

  std::uint64_t unique() const noexcept { return unique_; }
  std::uint64_t duplicates() const noexcept { return duplicates_; }

 private:
  std::vector<std::vector<bool>> seen_;  // per publisher, by seq
  std::vector<std::uint32_t> next_;      // per publisher: highest seq seen + 1
  std::uint64_t unique_ = 0;
  std::uint64_t duplicates_ = 0;
};

/// Deliveries owed and missing: publisher p's `sent[p]` messages each reach `fanout[p]`
/// subscribers (those whose filter matches its topic).
struct loss {
  std::uint64_t expected = 0;
  std::uint64_t lost = 0;   ///< expected − unique received (0 when more arrived)
  std::uint64_t extra = 0;  ///< unique received beyond expected (publishes that failed late)
};
loss count_lost(std::span<const std::uint64_t> sent, std::span<const std::uint32_t> fanout,
                std::uint64_t unique_received);

}  // namespace iotblocks::bench
