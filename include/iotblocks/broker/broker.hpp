// The MQTT broker, sans I/O: sessions, subscriptions, retained messages and
// QoS 0/1/2 flows for MQTT 3.1.1 and 5.0. A transport hands it the packets it
// decodes (on_packet) with the connection they came on, and the broker writes
// its packets to that connection; time comes from tick(now); authentication
// and authorization are hooks; durable state goes to a `store`. `on_accepted`
// lets rules, shadows and bridges see every accepted message. net_broker
// binds it to net's TCP/TLS/WebSocket server.
//
//   broker::broker b;
//   b.use_store(std::make_shared<broker::memory_store>()).value();   // optional
//   b.on_packet(conn, packet);    // for each packet a transport decoded
//   b.on_close(conn);             // when the transport lost the connection
//   b.tick(now);                  // about once a second
//   b.publish({.topic = "greeting", .payload = iotblocks::to_buffer("hi")});
//
// With a store, persistent sessions (expiry > 0), their subscriptions, retained
// messages, the QoS 1/2 messages owed to them (QoS 2 with its packet id and
// PUBREL state), the QoS 2 packet ids they sent awaiting PUBREL, and wills
// (also those waiting for their delay) survive a restart. A QoS 1/2 PUBLISH
// that made the broker owe something durable (a row for a persistent session,
// a retained change) is acknowledged only once committed; one that did not is
// acknowledged at once.
#pragma once

#include <iotblocks/broker/connection.hpp>
#include <iotblocks/broker/hooks.hpp>
#include <iotblocks/broker/message.hpp>
#include <iotblocks/broker/options.hpp>
#include <iotblocks/broker/store.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/mqtt/packet.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::broker {

/// Finishes a CONNECT that a deferred authenticate hook took (broker::on_authenticate_deferred).
/// Copyable; the first call counts, later ones do nothing. Safe from any thread: the
/// broker continues on the connection's own thread (connection::post). Does nothing
/// when the connection closed meanwhile or the broker is gone.
class connect_resumer {
 public:
  /// `why` success: the CONNECT goes on (the authenticate hook runs next and sees
  /// `credentials` in client_info::credentials); otherwise it is refused with `why`
  /// (a CONNACK reason code; 3.1.1 gets the matching return code).
  void operator()(mqtt::reason_code why, std::shared_ptr<const void> credentials = {}) const;
  /// The connection whose CONNECT waits (e.g. to close it when its credentials expire).
  std::weak_ptr<connection> target() const { return connection_; }

 private:
  friend class broker;
  std::weak_ptr<void> alive_;
  void* impl_ = nullptr;
  std::weak_ptr<connection> connection_;
};

/// Distinct objects: safe. Shared objects: safe (calls may come from many
/// threads; those of one connection in order).
class broker {
 public:
  using clock = std::chrono::steady_clock;
  using authenticate_fn = std::function<mqtt::reason_code(const mqtt::connect_view&, client_info&)>;
  using authorize_fn = std::function<bool(const client_info&, action, std::string_view topic)>;
  using publish_hook = std::function<void(const message&, const client_info*)>;
  /// Makes the exchange for one CONNECT (or re-authentication) naming the method.
  using enhanced_auth_fn = std::function<std::unique_ptr<auth_exchange>(const client_info&)>;
  /// Classifies a client's PUBLISH topic; called on the connection's thread with
  /// its session locked: decide, do not call the broker.
  using publish_gate_fn = std::function<publish_verdict(const client_info&, std::string_view)>;
  /// A refusal reason for a SUBSCRIBE filter, or nullopt to go on (authorization).
  using subscribe_gate_fn =
      std::function<std::optional<mqtt::reason_code>(const client_info&, std::string_view)>;
  /// Takes a CONNECT to decide it later (returns true and calls the resumer once), or
  /// leaves it to the authenticate hook now (returns false).
  using deferred_authenticate_fn =
      std::function<bool(const mqtt::connect_view&, const client_info&, connect_resumer)>;
  /// A client disconnected (or its CONNECT refused) for a protocol error, with the
  /// reason code and what was wrong.
  using client_error_fn =
      std::function<void(const client_info&, mqtt::reason_code, std::string_view why)>;

  /// `now`: the time until the first tick().
  explicit broker(broker_options options = {}, clock::time_point now = clock::now());
  ~broker();
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;

  /// Decides CONNECTs (default: accept all); return success or the refusal reason.
  void on_authenticate(authenticate_fn fn);
  /// Decides CONNECTs that need I/O (an HTTP call, a child process): runs before the
  /// authenticate hook, after enhanced authentication. While a CONNECT is pending the
  /// client gets no answer; any other packet it sends closes the connection (as before
  /// a CONNECT), and so does a second CONNECT. The transport's connect timeout still
  /// applies. Call before the first packet.
  void on_authenticate_deferred(deferred_authenticate_fn fn);
  /// Decides publish/subscribe/receive/retain (default: allow all).
  void on_authorize(authorize_fn fn);
  /// Sees every accepted message after routing (rules, shadows, bridges), and
  /// the messages a publish gate consumed (not routed).
  void on_accepted(publish_hook fn);
  /// Decides on client PUBLISHes before authorization (default: route all).
  /// Owner publishes (publish()) and wills are not gated. Call before the first packet.
  void on_publish_gate(publish_gate_fn fn);
  /// Decides on SUBSCRIBE filters before authorization: a refusal is the
  /// SUBACK reason code (MQTT 5; 3.1.1: 0x80). Call before the first packet.
  void on_subscribe_gate(subscribe_gate_fn fn);
  /// Enables an MQTT 5 Authentication Method (e.g. "SCRAM-SHA-256"). A CONNECT
  /// naming a method with no exchange is refused with 0x8C Bad authentication
  /// method. A client authenticated so may re-authenticate (AUTH 0x19, same
  /// method): success ends with AUTH 0x00, failure with DISCONNECT 0x87.
  /// Call before the first packet.
  void on_enhanced_auth(std::string method, enhanced_auth_fn fn);
  /// Told of each client the broker disconnects or refuses for a protocol error: a
  /// malformed packet (also one the transport refused, on_protocol_error), a protocol
  /// violation, Receive Maximum exceeded, an invalid topic alias. `client_info` has
  /// no client id when no CONNECT was accepted yet. Runs on the connection's thread,
  /// its session possibly locked: record it (e.g. a log line), do not call the broker.
  /// Call before the first packet.
  void on_client_error(client_error_fn fn);

  /// Loads the sessions, subscriptions, retained and queued messages and wills
  /// `s` holds, then persists into it. Call before the first packet; later
  /// calls do nothing. A store may outlive the broker (a restart on a
  /// memory_store): callbacks it runs after the broker is gone do nothing.
  result<void> use_store(std::shared_ptr<store> s);
  /// use_store(sqlite_store::open(path)).
  result<void> open_store(const std::string& path);

  /// Routes a message from the broker's owner (rules republish, HTTP, shadows).
  void publish(const message& m);

  /// The broker's clock: drops expired sessions and messages, publishes due
  /// wills (will delay) and the `$SYS` statistics; call about once a second.
  /// Message expiry and will delays are measured on the times given here.
  void tick(clock::time_point now = clock::now());

  // What a transport calls.
  /// A packet decoded from `c`. Its views are read during the call only.
  void on_packet(const connection_ptr& c, const mqtt::packet_view& p);
  /// The transport refused a malformed packet from `c` for `reason`;
  /// `version`: the protocol version its decoder knows (from the CONNECT, also
  /// from one it refused past the protocol level), if any; `why`: what the
  /// decoder found (for on_client_error). The broker answers (CONNACK or
  /// DISCONNECT with the reason, as the version allows) and closes.
  void on_protocol_error(const connection_ptr& c, mqtt::reason_code reason,
                         std::optional<mqtt::protocol_version> version, std::string_view why = {});
  /// `c` is gone (peer closed, error, timeout, or after close()).
  void on_close(const connection_ptr& c);

  const broker_stats& stats() const noexcept;
  /// The store's counters (all zero without a store).
  const store_stats& store_counters() const noexcept;
  std::size_t retained_count() const;
  std::size_t session_count() const;

  /// The retained message of `topic`, or null.
  message_ptr retained(std::string_view topic) const;
  /// Up to `limit` retained messages in topic order, from topic `from` on
  /// (inclusive; empty: the first); topics starting with '$' are not listed. Sorts
  /// the topics on each call: for operators' tools, not for the message path.
  std::vector<message_ptr> retained_page(std::string_view from, std::size_t limit) const;

  struct IOTBLOCKS_HIDDEN impl;  ///< implementation detail

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::broker

IOTBLOCKS_API_END
