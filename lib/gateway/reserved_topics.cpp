// AWS IoT's reserved topics on the gateway's broker (reserved_topics.hpp).
#include "gateway/reserved_topics.hpp"

#include <iotblocks/topic/syntax.hpp>

namespace iotblocks::gateway {
namespace detail {
namespace {

// The next level of `s` from `pos` (npos when none is left).
std::string_view next_level(std::string_view s, std::size_t& pos) noexcept {
  if (pos == std::string_view::npos) return {};
  const auto slash = s.find('/', pos);
  const std::string_view level =
      s.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
  pos = slash == std::string_view::npos ? std::string_view::npos : slash + 1;
  return level;
}

}  // namespace

bool filters_overlap(std::string_view a, std::string_view b) noexcept {
  std::size_t x = 0;
  std::size_t y = 0;
  while (x != std::string_view::npos && y != std::string_view::npos) {
    const auto la = next_level(a, x);
    const auto lb = next_level(b, y);
    if (la == "#" || lb == "#") return true;
    if (la == "+" || lb == "+") continue;
    if (la != lb) return false;
  }
  if (x == std::string_view::npos && y == std::string_view::npos) return true;
  // One ended: the other may only go on with a final "#" (which matches the parent).
  const auto& rest = x == std::string_view::npos ? b : a;
  auto& pos = x == std::string_view::npos ? y : x;
  return next_level(rest, pos) == "#" && pos == std::string_view::npos;
}

}  // namespace detail

void reserved_topics::claim(claim_entry c) { claims_.push_back(std::move(c)); }

broker::publish_verdict reserved_topics::on_publish(std::string_view topic) const {
  using kind = broker::publish_verdict::kind;
  if (!topic.starts_with(prefix)) return {};
  for (const auto& c : claims_) {
    if (!topic::matches(c.filter, topic)) continue;
    switch (c.on_publish) {
      case publish::route: return {};
      case publish::consume: return {kind::consume, mqtt::reason_code::success};
      case publish::refuse: return {kind::refuse, mqtt::reason_code::not_authorized};
    }
  }
  return {kind::refuse, mqtt::reason_code::topic_name_invalid};
}

std::optional<mqtt::reason_code> reserved_topics::on_subscribe(std::string_view filter) const {
  if (topic::is_shared(filter)) {
    topic::shared_filter sf;
    if (topic::parse_shared(filter, sf)) return std::nullopt;  // invalid: the broker says so
    filter = sf.filter;
  }
  if (!filter.starts_with(prefix) && filter != "$aws" && filter != "$aws/#") return std::nullopt;
  for (const auto& c : claims_) {
    if (!c.subscribe && detail::filters_overlap(c.filter, filter)) {
      return mqtt::reason_code::not_authorized;
    }
  }
  for (const auto& c : claims_) {
    if (c.subscribe && detail::filters_overlap(c.filter, filter)) return std::nullopt;
  }
  return mqtt::reason_code::topic_filter_invalid;
}

}  // namespace iotblocks::gateway
