#include "topic_layout.hpp"

#include <iotblocks/topic/syntax.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace iotblocks::bench {

std::string topic_layout::publisher_topic(unsigned i) const {
  if (pattern == topic_pattern::all) return fmt::format("{}{}", base, i);
  return fmt::format("{}g{}/d{}/t", base, i % std::max(groups, 1u), i);
}

std::string topic_layout::subscriber_filter(unsigned j) const {
  if (pattern == topic_pattern::all) return base + "#";
  const unsigned g = std::max(groups, 1u), p = std::max(publishers, 1u);
  switch (j % 3) {
    case 0: return fmt::format("{}g{}/#", base, j % g);
    case 1: return fmt::format("{}+/d{}/t", base, (j / 3) % p);
    default: return fmt::format("{}g{}/+/t", base, (j / 3) % g);
  }
}

std::vector<std::uint32_t> topic_layout::fanout(unsigned subscribers) const {
  std::vector<std::string> filters;
  for (unsigned j = 0; j < subscribers; ++j) filters.push_back(subscriber_filter(j));
  std::vector<std::uint32_t> out;
  for (unsigned i = 0; i < publishers; ++i) {
    const auto topic = publisher_topic(i);
    out.push_back(static_cast<std::uint32_t>(std::count_if(
        filters.begin(), filters.end(), [&](const auto& f) { return topic::matches(f, topic); })));
  }
  return out;
}

bool parse_topic_pattern(std::string_view s, topic_pattern& out) {
  if (s == "all") return out = topic_pattern::all, true;
  if (s == "wildcard") return out = topic_pattern::wildcard, true;
  return false;
}

}  // namespace iotblocks::bench
