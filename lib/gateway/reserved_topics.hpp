// Private: AWS IoT's reserved topics (`$aws/...`) on the gateway's broker. A
// component that implements some of them claims them (shadows, lifecycle and
// registration events, Basic Ingest; jobs and provisioning when they are wired
// in); every other `$aws/` topic is refused, never relayed between clients.
//
//   reserved_topics r;
//   r.claim({"$aws/things/+/shadow/#", reserved_topics::publish::route, true});
//   r.claim({"$aws/rules/#", reserved_topics::publish::consume, false});   // Basic Ingest
//   broker.on_publish_gate([&](auto&, auto topic) { return r.on_publish(topic); });
//   broker.on_subscribe_gate([&](auto&, auto filter) { return r.on_subscribe(filter); });
#pragma once

#include <iotblocks/broker/hooks.hpp>
#include <iotblocks/mqtt/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::gateway {

/// Distinct objects: safe. Shared objects: safe for concurrent on_publish /
/// on_subscribe once claims are made (claim before the broker takes packets).
class reserved_topics {
 public:
  /// The prefix of AWS IoT's reserved topics.
  static constexpr std::string_view prefix = "$aws/";

  /// What a client PUBLISH to a claimed topic does.
  enum class publish : std::uint8_t {
    refuse,   ///< clients may not publish there (0x87 Not authorized)
    route,    ///< an ordinary topic (authorization, subscribers, on_accepted)
    consume,  ///< to the claiming component only (on_accepted), no subscriber
  };
  struct claim_entry {
    std::string filter;  ///< a topic filter under "$aws/"
    publish on_publish = publish::route;
    bool subscribe = true;  ///< clients may subscribe to it
  };

  /// Adds a claim; the first claim matching a topic decides.
  void claim(claim_entry c);
  const std::vector<claim_entry>& claims() const noexcept { return claims_; }

  /// A client PUBLISH: route outside `$aws/`; under it as the claim says;
  /// unclaimed: refused with 0x90 Topic Name invalid.
  broker::publish_verdict on_publish(std::string_view topic) const;
  /// A SUBSCRIBE filter (shared subscriptions by their filter): nullopt (go on)
  /// outside `$aws/` and for filters that reach a subscribable claim; 0x87 Not
  /// authorized for a filter that reaches a claim clients may not subscribe to
  /// (`$aws/rules/...`, also `$aws/#`); 0x8F Topic Filter invalid for one that
  /// reaches no claim.
  std::optional<mqtt::reason_code> on_subscribe(std::string_view filter) const;

 private:
  std::vector<claim_entry> claims_;
};

namespace detail {
/// Whether some topic is matched by both filters.
bool filters_overlap(std::string_view a, std::string_view b) noexcept;
}  // namespace detail

}  // namespace iotblocks::gateway
