// A naive subscription index written straight from the spec: a list of filters
// checked one by one with topic::matches. The property test and the ops fuzzer
// compare subscription_index against it.
#pragma once

#include <iotblocks/topic/index.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace iotblocks::topic::testing {

class reference_index {
 public:
  /// Same contract as subscription_index::subscribe for valid input.
  bool subscribe(std::string_view filter, subscriber_id s, const subscription_options& o) {
    if (shared_filter sf; is_shared(filter) && !parse_shared(filter, sf)) {
      auto& members = groups_[{std::string{sf.group}, std::string{sf.filter}}];
      for (auto& m : members) {
        if (m.subscriber == s) return m.options = o, false;
      }
      members.push_back({s, o});
      return true;
    }
    for (auto& p : plain_) {
      if (p.filter == filter && p.subscriber == s) return p.options = o, false;
    }
    plain_.push_back({std::string{filter}, s, o});
    return true;
  }

  bool unsubscribe(std::string_view filter, subscriber_id s) {
    if (shared_filter sf; is_shared(filter) && !parse_shared(filter, sf)) {
      auto it = groups_.find({std::string{sf.group}, std::string{sf.filter}});
      if (it == groups_.end()) return false;
      auto& members = it->second;
      auto m = std::find_if(members.begin(), members.end(),
                            [&](const share_member& x) { return x.subscriber == s; });
      if (m == members.end()) return false;
      members.erase(m);
      if (members.empty()) groups_.erase(it);
      return true;
    }
    auto it = std::find_if(plain_.begin(), plain_.end(),
                           [&](const entry& p) { return p.filter == filter && p.subscriber == s; });
    if (it == plain_.end()) return false;
    plain_.erase(it);
    return true;
  }

  std::size_t size() const {
    std::size_t n = plain_.size();
    for (const auto& [key, members] : groups_) n += members.size();
    return n;
  }

  /// True if any subscription matches (no_local ignored).
  bool any(std::string_view topic) const {
    for (const auto& p : plain_) {
      if (matches(p.filter, topic)) return true;
    }
    for (const auto& [k, members] : groups_) {
      if (matches(k.second, topic)) return true;
    }
    return false;
  }

  /// Checks what `index` reports for `topic`; returns a description of the first
  /// difference, or an empty string.
  std::string check(const subscription_index& index, std::string_view topic,
                    const match_context& ctx = {}) const {
    std::vector<match_entry> got;
    index.match(topic, got, ctx);
    return compare(got, topic, ctx);
  }

  /// The same through the batch overload, topic by topic.
  std::string check_batch(const subscription_index& index, std::span<const std::string_view> topics,
                          const match_context& ctx = {}) const {
    std::vector<match_entry> got{match_entry{}};  // appended to, not cleared
    std::vector<std::size_t> ends{1};
    index.match(topics, got, ends, ctx);
    if (ends.size() != topics.size() + 1) return "batch: wrong number of ends";
    for (std::size_t i = 0; i < topics.size(); ++i) {
      if (ends[i + 1] < ends[i] || ends[i + 1] > got.size()) return "batch: ends out of order";
      const std::vector<match_entry> one(got.begin() + static_cast<std::ptrdiff_t>(ends[i]),
                                         got.begin() + static_cast<std::ptrdiff_t>(ends[i + 1]));
      if (std::string diff = compare(one, topics[i], ctx); !diff.empty()) return "batch: " + diff;
    }
    return {};
  }

  /// Compares what an index reported for `topic` with the spec.
  std::string compare(const std::vector<match_entry>& got, std::string_view topic,
                      const match_context& ctx) const {
    std::vector<std::tuple<subscriber_id, std::uint64_t>> want_plain, got_plain;
    for (const auto& p : plain_) {
      if (matches(p.filter, topic) && !(p.options.no_local && p.subscriber == ctx.publisher)) {
        want_plain.emplace_back(p.subscriber, key(p.options));
      }
    }
    std::vector<const std::vector<share_member>*> want_groups;
    for (const auto& [k, members] : groups_) {
      if (matches(k.second, topic)) want_groups.push_back(&members);
    }
    std::vector<match_entry> got_shared;
    for (const auto& e : got) {
      if (e.shared) {
        got_shared.push_back(e);
      } else {
        got_plain.emplace_back(e.subscriber, key(e.options));
      }
    }
    std::sort(want_plain.begin(), want_plain.end());
    std::sort(got_plain.begin(), got_plain.end());
    if (want_plain != got_plain) {
      return "non-shared matches differ for '" + std::string{topic} + "': want " +
             std::to_string(want_plain.size()) + " got " + std::to_string(got_plain.size());
    }
    if (got_shared.size() != want_groups.size()) {
      return "shared: want one pick for each of " + std::to_string(want_groups.size()) +
             " groups, got " + std::to_string(got_shared.size()) + " for '" + std::string{topic} +
             "'";
    }
    // Every group must have received exactly one of its members: a perfect
    // bipartite matching between picks and groups (Kuhn's algorithm).
    const std::size_t n = want_groups.size();
    std::vector<int> group_of_pick(n, -1), pick_of_group(n, -1);
    auto member_of = [&](std::size_t pick, std::size_t g) {
      return std::any_of(want_groups[g]->begin(), want_groups[g]->end(),
                         [&](const share_member& m) {
                           return m.subscriber == got_shared[pick].subscriber &&
                                  m.options == got_shared[pick].options;
                         });
    };
    std::function<bool(std::size_t, std::vector<bool>&)> augment = [&](std::size_t p,
                                                                       std::vector<bool>& seen) {
      for (std::size_t g = 0; g < n; ++g) {
        if (seen[g] || !member_of(p, g)) continue;
        seen[g] = true;
        if (pick_of_group[g] < 0 || augment(static_cast<std::size_t>(pick_of_group[g]), seen)) {
          pick_of_group[g] = static_cast<int>(p);
          group_of_pick[p] = static_cast<int>(g);
          return true;
        }
      }
      return false;
    };
    for (std::size_t p = 0; p < n; ++p) {
      std::vector<bool> seen(n, false);
      if (!augment(p, seen)) return "shared: a pick is not a member of a distinct matching group";
    }
    return {};
  }

 private:
  struct entry {
    std::string filter;
    subscriber_id subscriber;
    subscription_options options;
  };
  static std::uint64_t key(const subscription_options& o) {
    return o.identifier | (std::uint64_t{o.qos} << 28) | (std::uint64_t{o.no_local} << 30) |
           (std::uint64_t{o.retain_as_published} << 31) | (std::uint64_t{o.retain_handling} << 32);
  }
  std::vector<entry> plain_;
  std::map<std::pair<std::string, std::string>, std::vector<share_member>> groups_;
};

}  // namespace iotblocks::topic::testing
