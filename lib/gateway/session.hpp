// Private: the broker's per-client state.
#pragma once

#include <iotblocks/gateway/broker.hpp>
#include <iotblocks/mqtt/encoder.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace iotblocks::gateway::detail {

using clock = std::chrono::steady_clock;
using message_ptr = std::shared_ptr<const message>;

/// A message on its way to one subscriber.
struct outgoing {
  message_ptr msg;
  std::uint8_t qos = 0;
  bool retain = false;
  std::vector<std::uint32_t> identifiers;
  clock::time_point received;
  std::uint16_t packet_id = 0;
  bool released = false;  ///< QoS 2: PUBREC seen, PUBREL sent
};

/// One client's session; `mutex` guards everything below it. Distinct
/// objects: safe. Shared objects: safe under `mutex`.
struct session {
  topic::subscriber_id id = 0;
  std::string client_id;
  std::mutex mutex;
  net::connection_ptr connection;  ///< null while offline
  client_info info;
  mqtt::protocol_version version = mqtt::protocol_version::v5;
  std::uint32_t expiry_seconds = 0;  ///< after disconnect; 0xFFFFFFFF never
  clock::time_point offline_since{};
  std::uint16_t client_receive_maximum = 65535;
  std::uint32_t client_maximum_packet_size = 0;  ///< 0: no limit
  std::uint16_t next_packet_id = 1;
  std::map<std::uint16_t, outgoing> inflight;  ///< our QoS 1/2 awaiting acknowledgement
  std::deque<outgoing> queue;                  ///< waiting for a window slot or a connection
  std::set<std::uint16_t> incoming_qos2;       ///< PUBREC sent, PUBREL awaited
  std::unordered_map<std::uint16_t, std::string> aliases;  ///< topic aliases from the client
  std::map<std::string, mqtt::subscribe_options> subscriptions;
  std::optional<message> will;
  bool clean_start = true;
};
using session_ptr = std::shared_ptr<session>;

}  // namespace iotblocks::gateway::detail
