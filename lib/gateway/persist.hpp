// Private: the broker's durable state in SQLite (WAL, synchronous=FULL):
// persistent sessions, their subscriptions, retained messages, the QoS 1/2
// messages owed to persistent sessions (with QoS 2 packet ids and PUBREL
// state), QoS 2 packet ids received awaiting PUBREL, and wills. Writes are queued and applied by
// one store thread in batches, one transaction per batch (group commit); callbacks queued with
// after_commit() run once everything queued before them is durable, which is when the broker sends
// PUBACK/PUBREC.
//
//   auto st = detail::store::open("data/broker.db").value();
//   auto state = st->load().value();   // before start()
//   st->start();
//   st->put_retained(msg);
//   st->after_commit([](bool ok) { /* send the PUBACK */ });
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/gateway/broker.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace iotblocks::gateway::detail {

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

/// Distinct objects: safe. Shared objects: safe (every queueing call may come
/// from any thread; load() before start() only).
class store {
 public:
  /// Counts commits, writes and failures in `stats` (which must outlive the store).
  static result<std::unique_ptr<store>> open(const std::string& path, broker_stats& stats);
  ~store();  ///< applies what is queued, then stops the thread
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  result<stored_state> load();
  void start();

  void put_session(const std::string& client_id, std::uint32_t expiry, mqtt::protocol_version v);
  void drop_session(const std::string& client_id);  ///< with its subscriptions and messages
  void put_subscription(const std::string& client_id, const std::string& filter,
                        mqtt::subscribe_options o, std::uint32_t identifier);
  void drop_subscription(const std::string& client_id, const std::string& filter);
  void put_retained(const message_ptr& m);
  void drop_retained(const std::string& topic);
  /// Returns the delivery's sequence number (for remove_delivery).
  std::uint64_t add_delivery(const std::string& client_id, const message_ptr& m, std::uint8_t qos,
                             bool retain, const std::vector<std::uint32_t>& identifiers,
                             std::int64_t received_ms);
  void remove_delivery(std::uint64_t seq);
  /// QoS 2 towards the client: the packet id it was sent with, and PUBREC seen.
  void set_delivery_state(std::uint64_t seq, std::uint16_t packet_id, bool released);
  /// The will of `client_id` (one per client); due_ms 0 while its connection is open.
  void put_will(const std::string& client_id, const message& will, std::uint32_t delay,
                std::int64_t due_ms);
  void drop_will(const std::string& client_id);
  /// A QoS 2 PUBLISH of a persistent session's client, PUBREC sent, PUBREL awaited.
  void put_incoming_qos2(const std::string& client_id, std::uint16_t packet_id);
  void drop_incoming_qos2(const std::string& client_id, std::uint16_t packet_id);
  /// Runs `fn(ok)` on the store thread after the next commit of everything
  /// queued before; ok is false when that commit failed.
  void after_commit(std::function<void(bool)> fn);
  /// Writes queued by the calling thread so far (any store): the broker
  /// compares it around a PUBLISH to learn whether anything durable is owed.
  static std::uint64_t queued_by_this_thread() noexcept;

  struct op;

 private:
  explicit store(broker_stats& stats);
  void enqueue(op o);
  void run();
  bool apply(const op& o);

  struct statements;
  std::unique_ptr<statements> db_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<op> queue_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> next_seq_{1};
  broker_stats& stats_;
};

}  // namespace iotblocks::gateway::detail
