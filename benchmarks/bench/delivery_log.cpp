#include "delivery_log.hpp"

#include <algorithm>

namespace iotblocks::bench {

delivery_log::delivery_log(std::size_t publishers) : seen_(publishers), next_(publishers, 0) {}

delivery_log::outcome delivery_log::record(std::uint32_t publisher, std::uint32_t seq) {
  if (publisher >= seen_.size()) return {};
  auto& seen = seen_[publisher];
  if (seq >= seen.size()) seen.resize(std::max<std::size_t>(seq + 1, seen.size() * 2));
  outcome o;
  if (seen[seq]) {
    ++duplicates_;
  } else {
    seen[seq] = true;
    ++unique_;
    o.fresh = true;
  }
  if (seq >= next_[publisher]) {
    o.advanced = seq + 1 - next_[publisher];
    next_[publisher] = seq + 1;
  }
  return o;
}

loss count_lost(std::span<const std::uint64_t> sent, std::span<const std::uint32_t> fanout,
                std::uint64_t unique_received) {
  loss l;
  for (std::size_t p = 0; p < sent.size() && p < fanout.size(); ++p)
    l.expected += sent[p] * fanout[p];
  if (l.expected > unique_received) {
    l.lost = l.expected - unique_received;
  } else {
    l.extra = unique_received - l.expected;
  }
  return l;
}

}  // namespace iotblocks::bench
