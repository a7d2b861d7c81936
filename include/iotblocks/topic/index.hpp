// The subscription index: which subscriptions match a topic name? Filters keyed
// by their shape (one hash probe per wildcard pattern that fits the topic), a trie
// for shared groups and unusual filters, 16-byte subscription records, built for a
// million subscriptions and sub-microsecond lookups from many threads. The
// subscriber is an opaque 64-bit key: a broker session, a rule of the rules engine
// (keyed by its FROM filter), a bridge mapping.
//
//   topic::subscription_index index;
//   index.subscribe("sensors/+/temperature", 7, {.qos = 1}).value();
//   index.subscribe("$share/workers/sensors/#", 8).value();
//   std::vector<topic::match_entry> found;
//   index.match("sensors/probe1/temperature", found);   // subscriber 7, and 8 (shared)
//
//   topic::match_result r;                               // one delivery per subscriber,
//   index.match("sensors/probe1/temperature", r);        // max QoS, all identifiers
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::topic {

/// Who subscribed: an opaque key chosen by the caller (session, rule, mapping).
using subscriber_id = std::uint64_t;

/// Subscription options of MQTT 5 (3.8.3.1). MQTT 3.1.1 uses the QoS only.
struct subscription_options {
  std::uint8_t qos = 0;              ///< maximum QoS, 0..2
  bool no_local = false;             ///< not delivered to the publisher itself
  bool retain_as_published = false;  ///< keep the RETAIN flag when forwarding
  std::uint8_t retain_handling = 0;  ///< 0..2; applied by the server at SUBSCRIBE time
  std::uint32_t identifier = 0;      ///< subscription identifier, 0 = none, max 268,435,455

  friend bool operator==(const subscription_options&, const subscription_options&) = default;
};

/// How a shared group picks the one member that receives a message.
enum class share_strategy {
  round_robin,  ///< members in turn (default)
  random,       ///< uniformly at random
  hash_client,  ///< by a hash of the publisher's client id (sticky per publisher)
  hash_topic,   ///< by a hash of the topic name (sticky per topic)
};

/// One member of a shared group.
struct share_member {
  subscriber_id subscriber = 0;
  subscription_options options;
};

/// What a custom share picker sees. Views are valid during the call only.
struct share_pick_input {
  std::string_view group = {};                 ///< the ShareName
  std::span<const share_member> members = {};  ///< non-empty, in subscription order
  std::string_view topic = {};                 ///< the topic being published
  std::string_view publisher_client_id = {};   ///< from match_context, may be empty
  std::uint64_t sequence = 0;                  ///< per-group message counter
};

/// A custom strategy: returns the index of the member (taken modulo the member
/// count). Called from many threads at once under the index's read lock: it must
/// be thread-safe and must not call back into the index.
using share_picker = std::function<std::size_t(const share_pick_input&)>;

/// The publisher of the message being matched.
struct match_context {
  static constexpr subscriber_id nobody = ~subscriber_id{0};
  subscriber_id publisher = nobody;           ///< subscriptions with no_local skip this subscriber
  std::string_view publisher_client_id = {};  ///< for share_strategy::hash_client
};

/// One matching subscription, or the member a shared group picked.
struct match_entry {
  subscriber_id subscriber = 0;
  subscription_options options;
  bool shared = false;

  friend bool operator==(const match_entry&, const match_entry&) = default;
};

/// One copy of a message for one subscriber (MQTT 5 section 3.3.4): the maximum
/// QoS of its overlapping subscriptions and all their subscription identifiers.
/// Shared-group picks are separate deliveries.
struct delivery {
  subscriber_id subscriber = 0;
  std::uint8_t qos = 0;
  bool retain_as_published = false;  ///< true if any of the overlapping subscriptions asks for it
  bool shared = false;
  std::uint32_t first_identifier = 0;  ///< into match_result::identifiers()
  std::uint32_t identifier_count = 0;
};

/// Reusable output of subscription_index::match; keeps its capacity between calls.
/// Distinct objects: safe. Shared objects: unsafe.
class match_result {
 public:
  std::span<const delivery> deliveries() const noexcept { return deliveries_; }
  /// The subscription identifiers of `d`, ascending, without duplicates.
  std::span<const std::uint32_t> identifiers(const delivery& d) const noexcept {
    return std::span<const std::uint32_t>(ids_).subspan(d.first_identifier, d.identifier_count);
  }
  void clear() noexcept {
    entries_.clear();
    deliveries_.clear();
    ids_.clear();
  }

 private:
  friend class subscription_index;
  std::vector<match_entry> entries_;
  std::vector<delivery> deliveries_;
  std::vector<std::uint32_t> ids_;
};

/// Subscriptions by topic filter. `match` runs on many threads at once and
/// alongside updates: readers announce themselves on a per-thread slot (a
/// "big reader" lock) so lookups on different threads share no cache line, and
/// an update waits for the readers in flight, then changes the trie in place.
/// Distinct objects: safe. Shared objects: safe (all member functions).
class subscription_index {
 public:
  subscription_index();
  ~subscription_index();
  subscription_index(subscription_index&&) noexcept;
  subscription_index& operator=(subscription_index&&) noexcept;

  /// Deepest filter accepted, in levels (default 256). Deeper topic names are
  /// still matched, by `#` filters only.
  subscription_index& max_levels(std::size_t n);
  std::size_t max_levels() const noexcept;
  /// Longest filter accepted, in bytes (default and maximum 65,535).
  subscription_index& max_length(std::size_t n);
  std::size_t max_length() const noexcept;

  /// Distinct '+' patterns (depth, positions of '+', trailing '#') matched by one
  /// hash probe each (default 64, at most 4,096). Filters of further patterns, shared
  /// subscriptions, filters over 512 bytes or 32 levels go to a trie walked level by
  /// level. A lookup probes every pattern that fits its depth: the budget bounds it.
  subscription_index& max_wildcard_shapes(std::size_t n);
  std::size_t max_wildcard_shapes() const noexcept;

  /// Strategy of every shared group (default round_robin).
  subscription_index& strategy(share_strategy s);
  /// A custom strategy; replaces the built-in one.
  subscription_index& strategy(share_picker picker);

  /// Adds a subscription, or replaces the options of the existing subscription of
  /// `subscriber` to the same filter (MQTT-3.8.4-3). `$share/{group}/{filter}` joins
  /// a shared group. @return true when added, false when replaced.
  /// Errors: the validation errors of syntax.hpp; error::invalid_options (QoS or
  /// retain handling above 2, identifier above 268,435,455, no_local on a shared
  /// subscription: MQTT-3.8.3-4); error::index_full.
  result<bool> subscribe(std::string_view filter, subscriber_id subscriber,
                         subscription_options options = {});

  /// Removes the subscription of `subscriber` to `filter` (written as it was
  /// subscribed, `$share/...` included). @return false when there was none.
  bool unsubscribe(std::string_view filter, subscriber_id subscriber);

  /// Removes everything.
  void clear();

  /// Appends one entry per matching subscription (each once) and one per shared
  /// group (the member the strategy picks). `topic` must be a valid topic name.
  void match(std::string_view topic, std::vector<match_entry>& out,
             const match_context& context = {}) const;

  /// The same for many topics at once, faster per topic than one call each (the
  /// cache misses of a group of lookups overlap): for a server that decoded several
  /// PUBLISH packets from one read, a queue drained in bursts. Appends the entries
  /// of topics[i], then `out.size()` to `ends`; so topics[i]'s entries end at
  /// ends[k + i], k being ends.size() before the call. Uses about 12 KiB of stack.
  void match(std::span<const std::string_view> topics, std::vector<match_entry>& out,
             std::vector<std::size_t>& ends, const match_context& context = {}) const;

  /// Like the first, merged per subscriber: one delivery per subscriber of its
  /// non-shared matches (max QoS, all identifiers), plus one per shared group.
  /// `out` is cleared first.
  void match(std::string_view topic, match_result& out, const match_context& context = {}) const;

  /// True if at least one subscription matches (shared groups included).
  bool any_match(std::string_view topic) const;

  /// Number of subscriptions, shared-group members included.
  std::size_t size() const noexcept;
  /// Number of trie nodes (distinct filter prefixes).
  std::size_t node_count() const noexcept;
  /// Bytes held by the index's own tables (capacity, not just use).
  std::size_t memory_usage() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::topic

IOTBLOCKS_API_END
