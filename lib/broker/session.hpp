// Private: the broker's per-client state.
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/topic/index.hpp>

#include "broker/lazy_container.hpp"
#include "broker/lazy_queue.hpp"

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace iotblocks::broker::detail {

using clock = std::chrono::steady_clock;

/// A message on its way to one subscriber.
struct outgoing {
  message_ptr msg;
  std::uint8_t qos = 0;
  bool retain = false;
  std::vector<std::uint32_t> identifiers;
  clock::time_point received;
  std::uint16_t packet_id = 0;
  bool released = false;  ///< QoS 2: PUBREC seen, PUBREL sent
  std::uint64_t seq = 0;  ///< row in the store (durable sessions), 0 = none
};

/// MQTT 5 topic aliases of one connection, both ways.
struct topic_aliases {
  std::unordered_map<std::uint16_t, std::string> in;   ///< from the client
  std::unordered_map<std::string, std::uint16_t> out;  ///< ours towards the client
};

/// One client's session; `mutex` guards everything below it. Distinct
/// objects: safe. Shared objects: safe under `mutex`.
struct session : std::enable_shared_from_this<session> {
  topic::subscriber_id id = 0;
  std::string client_id;
  std::mutex mutex;
  connection_ptr connection;  ///< null while offline
  client_info info;
  mqtt::protocol_version version = mqtt::protocol_version::v5;
  std::uint32_t expiry_seconds = 0;  ///< after disconnect; 0xFFFFFFFF never
  clock::time_point offline_since{};
  std::uint16_t client_receive_maximum = 65535;
  std::uint32_t client_maximum_packet_size = 0;  ///< 0: no limit
  std::uint16_t next_packet_id = 1;
  /// Our QoS 1/2 awaiting acknowledgement.
  lazy_container<std::map<std::uint16_t, outgoing>> inflight;
  lazy_queue<outgoing> queue;  ///< waiting for a window slot or a connection
  lazy_container<std::set<std::uint16_t>> incoming_qos2;  ///< PUBREC sent, PUBREL awaited
  lazy_container<std::map<std::string, mqtt::subscribe_options>> subscriptions;
  std::unique_ptr<message> will;  ///< null: none (an idle session holds no empty message)
  std::uint32_t will_delay = 0;   ///< seconds (MQTT 5)
  bool clean_start = true;
  bool durable = false;                    ///< persisted in the store (expiry > 0 and a store)
  bool dead = false;                       ///< ended: deliveries racing the end are dropped
  std::uint32_t unacked_in = 0;            ///< QoS 1 PUBLISH from the client awaiting a commit
  std::uint32_t pending_acks = 0;          ///< acks waiting for a commit: later ones queue behind
  std::uint16_t client_alias_maximum = 0;  ///< Topic Alias Maximum of the client
  std::unique_ptr<topic_aliases> aliases;  ///< made on the first alias either way
  std::string disconnect_reason;           ///< for the presence event (AWS names)
  std::array<char, 32> session_uuid{};     ///< sessionIdentifier of the presence events (hex)
  std::unique_ptr<auth_exchange> reauth;   ///< a re-authentication (AUTH 0x19) in progress
  std::uint64_t connects = 0;              ///< versionNumber of the presence events
};
using session_ptr = std::shared_ptr<session>;

}  // namespace iotblocks::broker::detail

namespace iotblocks::broker::detail {

/// Figures of the `$SYS/broker/...` statistics.
struct sys_figures {
  const broker_stats* stats = nullptr;
  std::size_t sessions = 0, retained = 0, subscriptions = 0;
  std::uint64_t store_commits = 0;
  std::chrono::seconds uptime{0};
};
/// mosquitto-style `$SYS/broker/...` messages (retained, QoS 0). broker_events.cpp
std::vector<message> sys_messages(const sys_figures& f);

/// AWS IoT lifecycle event JSON; `reason` empty for "connected". broker_events.cpp
std::string presence_payload(std::string_view client_id, std::string_view event_type,
                             std::string_view session_id, std::string_view principal,
                             std::string_view ip, std::uint64_t version, std::string_view reason);
/// 32 hex digits.
std::array<char, 32> random_session_id();
/// Milliseconds since the Unix epoch.
std::int64_t wall_ms();

}  // namespace iotblocks::broker::detail
