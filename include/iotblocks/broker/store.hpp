// The broker's durable state behind one interface: persistent sessions, their
// subscriptions, retained messages, the QoS 1/2 messages owed to persistent
// sessions (with QoS 2 packet ids and PUBREL state), QoS 2 packet ids received
// awaiting PUBREL, and wills. Writes are queued; after_commit() callbacks run
// once everything queued before them is durable, which is when the broker sends
// PUBACK/PUBREC. Implementations: sqlite_store (a file, group commit on its own
// thread) and memory_store (in the process, committed when told).
//
//   auto st = broker::sqlite_store::open("data/broker.db").value();
//   b.use_store(std::move(st)).value();   // loads, then persists from then on
#pragma once

#include <iotblocks/broker/message.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/mqtt/packet.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::broker {

using message_ptr = std::shared_ptr<const message>;

struct stored_session {
  std::string client_id;
  std::uint32_t expiry = 0;
  mqtt::protocol_version version = mqtt::protocol_version::v5;
};

struct stored_subscription {
  std::string client_id;
  std::string filter;
  mqtt::subscribe_options options;
  std::uint32_t identifier = 0;
};

/// A will: of a connection that was open when the process stopped (due_ms 0),
/// or waiting for its Will Delay Interval (due_ms: wall clock).
struct stored_will {
  std::string client_id;
  message msg;
  std::uint32_t delay = 0;
  std::int64_t due_ms = 0;
};

/// A message owed to a persistent session (queued or in flight).
struct stored_delivery {
  std::uint64_t seq = 0;
  std::string client_id;
  message_ptr msg;
  std::uint8_t qos = 1;
  bool retain = false;
  std::vector<std::uint32_t> identifiers;
  std::int64_t received_ms = 0;  ///< wall clock, for message expiry
  std::uint16_t packet_id = 0;   ///< QoS 2 sent: the id the client knows (0: not sent)
  bool released = false;         ///< QoS 2: PUBREC seen, PUBREL sent
};

struct stored_state {
  std::vector<stored_session> sessions;
  std::vector<stored_subscription> subscriptions;
  std::vector<message_ptr> retained;
  std::vector<stored_delivery> deliveries;  ///< in seq order
  std::vector<stored_will> wills;
  /// QoS 2 packet ids from persistent sessions' clients awaiting PUBREL.
  std::vector<std::pair<std::string, std::uint16_t>> incoming_qos2;
};

/// Transactions committed, rows written, failed commits.
struct store_stats {
  std::atomic<std::uint64_t> commits{0}, writes{0}, failures{0};
};

/// Distinct objects: safe. Shared objects: safe (every queueing call may come
/// from any thread; load() before start() only).
class store {
 public:
  virtual ~store() = default;

  virtual result<stored_state> load() = 0;
  /// Called once after load(), before the first write.
  virtual void start() {}

  virtual void put_session(const std::string& client_id, std::uint32_t expiry,
                           mqtt::protocol_version v) = 0;
  /// With its subscriptions, messages and QoS 2 packet ids.
  virtual void drop_session(const std::string& client_id) = 0;
  virtual void put_subscription(const std::string& client_id, const std::string& filter,
                                mqtt::subscribe_options o, std::uint32_t identifier) = 0;
  virtual void drop_subscription(const std::string& client_id, const std::string& filter) = 0;
  virtual void put_retained(const message_ptr& m) = 0;
  virtual void drop_retained(const std::string& topic) = 0;
  /// Returns the delivery's sequence number (for remove_delivery), never 0.
  virtual std::uint64_t add_delivery(const std::string& client_id, const message_ptr& m,
                                     std::uint8_t qos, bool retain,
                                     const std::vector<std::uint32_t>& identifiers,
                                     std::int64_t received_ms) = 0;
  virtual void remove_delivery(std::uint64_t seq) = 0;
  /// QoS 2 towards the client: the packet id it was sent with, and PUBREC seen.
  virtual void set_delivery_state(std::uint64_t seq, std::uint16_t packet_id, bool released) = 0;
  /// The will of `client_id` (one per client); due_ms 0 while its connection is open.
  virtual void put_will(const std::string& client_id, const message& will, std::uint32_t delay,
                        std::int64_t due_ms) = 0;
  virtual void drop_will(const std::string& client_id) = 0;
  /// A QoS 2 PUBLISH of a persistent session's client, PUBREC sent, PUBREL awaited.
  virtual void put_incoming_qos2(const std::string& client_id, std::uint16_t packet_id) = 0;
  virtual void drop_incoming_qos2(const std::string& client_id, std::uint16_t packet_id) = 0;
  /// Runs `fn(ok)` after the next commit of everything queued before; ok is
  /// false when that commit failed. Never runs `fn` inside this call.
  virtual void after_commit(std::function<void(bool)> fn) = 0;

  const store_stats& stats() const noexcept { return stats_; }

 protected:
  store_stats stats_;
};

}  // namespace iotblocks::broker

IOTBLOCKS_API_END
