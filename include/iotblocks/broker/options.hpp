// The broker's limits and features, and its counters.
#pragma once

#include <iotblocks/core/export.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

IOTBLOCKS_API_BEGIN

namespace iotblocks::broker {

/// What the broker does with the control characters U+0001..U+001F and
/// U+007F..U+009F in a client id, will topic, topic name or topic filter: MQTT 5
/// section 1.5.4 (3.1.1: 1.5.3) says they SHOULD NOT appear and a receiver MAY
/// treat the packet as malformed. `allow`: accepted (AWS IoT Core documents
/// these fields as UTF-8 only); `refuse`: Malformed Packet (0x81) in CONNACK or
/// DISCONNECT for MQTT 5, the connection closed for 3.1.1 (mosquitto 2.0).
enum class control_character_rule : std::uint8_t { allow, refuse };

struct broker_options {
  std::uint16_t receive_maximum = 1024;    ///< QoS 1/2 PUBLISH in flight from one client
  std::uint16_t topic_alias_maximum = 64;  ///< aliases a client may use towards us
  std::uint32_t maximum_packet_size = 1u << 20;
  std::size_t max_offline_messages = 1000;  ///< per offline session; more are dropped and counted
  std::uint32_t max_session_expiry = 7 * 24 * 3600;  ///< seconds
  std::size_t max_inflight_out = 256;                ///< our QoS 1/2 in flight to one client (cap)
  /// Seconds between `$SYS/broker/...` statistics (published retained); 0 = off.
  std::uint32_t sys_interval = 10;
  /// AWS IoT lifecycle events on `$aws/events/presence/{connected,disconnected}/<clientId>`.
  bool presence_events = false;
  /// Control characters in client ids, will topics, topic names and filters.
  control_character_rule control_characters = control_character_rule::allow;
};

struct broker_stats {
  std::atomic<std::uint64_t> connected{0}, connects{0}, disconnects{0}, messages_in{0},
      messages_out{0}, dropped{0}, rejected_connects{0}, protocol_errors{0};
};

}  // namespace iotblocks::broker

IOTBLOCKS_API_END
