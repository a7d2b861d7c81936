// The MQTT broker of the reference gateway: sessions, subscriptions, retained
// messages and QoS 0/1/2 flows for MQTT 3.1.1 and 5.0, on top of the net
// transports (it is a net::handler) and the topic index. Authentication and
// authorization are hooks, so the gateway can plug in the certificate
// registry and the policy engine; `on_publish` lets the rules engine and the
// shadow service see every accepted message.
//
//   gateway::broker b;
//   net::server s;
//   s.listen(listener).value();
//   b.open_store("data/broker.db").value();   // optional: durable sessions
//   s.start(b);
//   b.publish({.topic = "greeting", .payload = iotblocks::to_buffer("hi")});
//
// With a store, persistent sessions (expiry > 0), their subscriptions, retained
// messages, the QoS 1/2 messages owed to them (QoS 2 with its packet id and
// PUBREL state), the QoS 2 packet ids they sent awaiting PUBREL, and wills
// (also those waiting for their delay) survive a restart. A QoS 1/2 PUBLISH
// that made the broker owe something durable (a row for a persistent session,
// a retained change) is acknowledged only once committed (group commit on a
// store thread); one that did not is acknowledged at once.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/mqtt/packet.hpp>
#include <iotblocks/net/server.hpp>
#include <iotblocks/topic/index.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace iotblocks::gateway {

/// An application message as the broker routes it.
struct message {
  std::string topic;
  byte_buffer payload;
  std::uint8_t qos = 0;
  bool retain = false;
  mqtt::properties properties;  ///< MQTT 5 properties forwarded to subscribers
  std::string publisher;        ///< client id, empty for messages of the gateway itself
};

/// What the hooks know about a client.
struct client_info {
  std::string client_id;
  std::string username;
  mqtt::protocol_version version = mqtt::protocol_version::v5;
  const net::peer_info* peer = nullptr;
  std::shared_ptr<void> principal;  ///< set by the authenticate hook (e.g. a policy session)
  /// MQTT 5 enhanced authentication: the method that succeeded (empty: none).
  /// The authenticate hook still runs after it (for the policy session).
  std::string auth_method;
};

/// One MQTT 5 enhanced authentication exchange (Authentication Method and
/// Data carried by CONNECT, AUTH and CONNACK), made for one CONNECT or
/// re-authentication. Distinct objects: safe. Shared objects: unsafe (the
/// broker calls one exchange from one thread at a time).
class auth_exchange {
 public:
  struct step {
    enum class outcome : std::uint8_t { more, success, failure };
    outcome result = outcome::failure;
    /// Authentication Data for the client: with `more` in AUTH 0x18; with
    /// `success` in the CONNACK (or the AUTH 0x00 ending a re-authentication).
    byte_buffer data;
    mqtt::reason_code reason = mqtt::reason_code::not_authorized;  ///< with `failure`
    std::string identity;  ///< with `success`: becomes client_info::username
  };
  virtual ~auth_exchange() = default;
  /// The client's Authentication Data: from the CONNECT (or AUTH 0x19), then each AUTH 0x18.
  virtual step next(bytes_view data) = 0;
};

enum class action { publish, subscribe, receive, retain_publish };

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
  /// The store: transactions committed, rows written, failed commits.
  std::atomic<std::uint64_t> store_commits{0}, store_writes{0}, store_failures{0};
};

/// Distinct objects: safe. Shared objects: safe (callbacks come from many threads).
class broker final : public net::handler {
 public:
  using authenticate_fn = std::function<mqtt::reason_code(const mqtt::connect_view&, client_info&)>;
  using authorize_fn = std::function<bool(const client_info&, action, std::string_view topic)>;
  using publish_hook = std::function<void(const message&, const client_info*)>;
  /// Makes the exchange for one CONNECT (or re-authentication) naming the method.
  using enhanced_auth_fn = std::function<std::unique_ptr<auth_exchange>(const client_info&)>;

  explicit broker(broker_options options = {});
  ~broker() override;

  /// Decides CONNECTs (default: accept all); return success or the refusal reason.
  void on_authenticate(authenticate_fn fn);
  /// Decides publish/subscribe/receive/retain (default: allow all).
  void on_authorize(authorize_fn fn);
  /// Sees every accepted message after routing (rules, shadows, bridges).
  void on_accepted(publish_hook fn);
  /// Enables an MQTT 5 Authentication Method (e.g. "SCRAM-SHA-256"). A CONNECT
  /// naming a method with no exchange is refused with 0x8C Bad authentication
  /// method. A client authenticated so may re-authenticate (AUTH 0x19, same
  /// method): success ends with AUTH 0x00, failure with DISCONNECT 0x87.
  /// Call before the server starts.
  void on_enhanced_auth(std::string method, enhanced_auth_fn fn);

  /// Opens (or creates) the SQLite file at `path`, loads the sessions,
  /// subscriptions, retained and queued messages it holds, and persists them
  /// from then on. Call before the server starts; later calls do nothing.
  result<void> open_store(const std::string& path);

  /// Routes a message from the gateway itself (rules republish, HTTP, shadows).
  void publish(const message& m);

  /// Drops expired sessions and messages, publishes due wills (will delay) and
  /// the `$SYS` statistics; call about once a second.
  void tick(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  const broker_stats& stats() const noexcept;
  std::size_t retained_count() const;
  std::size_t session_count() const;

  // net::handler
  void on_packet(const net::connection_ptr& c, const mqtt::packet_view& p) override;
  void on_protocol_error(const net::connection_ptr& c, mqtt::reason_code reason,
                         const failure& why) override;
  void on_close(const net::connection_ptr& c, std::error_code ec) override;

  struct impl;  ///< implementation detail

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::gateway
