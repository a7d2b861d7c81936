// The topics iotblocks-bench publishes on and the filters it subscribes with,
// and how many subscribers each publisher's messages reach (the fan-out that the
// expected-delivery count and the end-to-end window use). Sans-I/O.
//
//   all:      publisher i -> <base><i>;          every subscriber: <base>#
//   wildcard: publisher i -> <base>g<i%G>/d<i>/t; subscriber j, by j % 3:
//             0: <base>g<j%G>/#   1: <base>+/d<(j/3)%P>/t   2: <base>g<(j/3)%G>/+/t
//             (each matches 1/G or 1/P of the publishers)
//   retained: message k -> <base>r/<k>;          every subscriber: <base>r/#
//
// Distinct objects: safe. Shared objects: safe (const).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::bench {

enum class topic_pattern { all, wildcard };

struct topic_layout {
  std::string base;  ///< ends with '/'
  topic_pattern pattern = topic_pattern::all;
  unsigned publishers = 1;
  unsigned groups = 5;  ///< G of the wildcard pattern

  std::string publisher_topic(unsigned i) const;
  std::string subscriber_filter(unsigned j) const;
  /// For each publisher: how many of `subscribers` subscribers' filters match its topic.
  std::vector<std::uint32_t> fanout(unsigned subscribers) const;
};

/// "all" or "wildcard"; false for anything else.
bool parse_topic_pattern(std::string_view s, topic_pattern& out);

}  // namespace iotblocks::bench
