// An asynchronous MQTT 3.1.1 / 5.0 client over TCP on one Asio io_context, built
// on the iotblocks codec: QoS 0/1/2 publish with packet ids and an in-flight
// window, subscribe/unsubscribe, a message callback, keep-alive pings, clean
// disconnect, opt-in reconnection with exponential backoff and jitter, and TLS
// (server verification, client certificates, SNI, ALPN). The bridge, the rules
// worker and `iotblocks-bench` use it.
//
//   boost::asio::io_context io;
//   net::mqtt_client_options o;
//   o.port = 1883;
//   o.client_id = "greenhouse-1";
//   net::mqtt_client c{io.get_executor(), o};
//   c.on_message([](const mqtt::publish_view& p) { use(p.topic, p.payload); });
//   c.on_connect([&](std::error_code ec, bool) {
//     if (ec) return;
//     c.subscribe({{"Greenhouse/#", {.qos = 1}}}, [](std::error_code, auto) {});
//     c.publish("Greenhouse/lux", iotblocks::to_buffer("36250"), 1, false,
//               [](std::error_code ec) { /* PUBACK received (or ec) */ });
//   });
//   c.connect();
//   io.run();
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/mqtt/error.hpp>
#include <iotblocks/mqtt/packet.hpp>
#include <iotblocks/net/error.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::net {

/// TLS towards the broker (OpenSSL, TLS 1.2 or later). Files are PEM.
struct client_tls_options {
  bool enabled = false;
  std::string ca_file;            ///< CAs that verify the server; empty: OpenSSL's default paths
  std::string cert_file;          ///< client certificate chain for mutual TLS (optional)
  std::string key_file;           ///< its private key
  std::string server_name;        ///< SNI and the name checked in the certificate; empty: host
  std::vector<std::string> alpn;  ///< offered protocols, e.g. {"x-amzn-mqtt-ca"} on port 443
  bool verify = true;  ///< false: accept any server certificate (mosquitto's bridge_insecure)
};

/// How an mqtt_client connects; fields are the documented defaults.
struct mqtt_client_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  mqtt::protocol_version version = mqtt::protocol_version::v3_1_1;
  std::string client_id;  ///< empty: the broker assigns one (requires clean_start)
  bool clean_start = true;
  /// MQTT 5 Session Expiry Interval sent in CONNECT (seconds; 0: the session ends with
  /// the connection). Use with clean_start = false to keep a session across reconnects.
  std::uint32_t session_expiry = 0;
  std::uint16_t keep_alive = 60;  ///< seconds; 0 disables pings
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<mqtt::will> will;
  /// Most unacknowledged QoS 1/2 publishes (also capped by the server's Receive Maximum).
  std::uint16_t max_in_flight = 100;
  /// MQTT 5 Receive Maximum sent in CONNECT: most QoS 1/2 messages the broker may have
  /// unacknowledged towards this client (0: max_in_flight). With on_message_acked() it
  /// bounds what the application holds.
  std::uint16_t receive_maximum = 0;
  /// Publishes waiting for a window slot or for a connection; beyond: error::response_too_large.
  std::size_t max_queued = 100000;
  std::size_t max_packet_size = 1024 * 1024;        ///< largest packet accepted from the broker
  std::chrono::milliseconds connect_timeout{5000};  ///< TCP connect + CONNACK
  /// Reconnect after a lost connection or a failed attempt (off by default).
  bool reconnect = false;
  std::chrono::milliseconds backoff_initial{200};  ///< first delay; doubles per failure
  std::chrono::milliseconds backoff_max{30000};    ///< cap of the delay
  client_tls_options tls;                          ///< off by default
};

/// An MQTT client connection. All callbacks run on the executor. The public
/// functions may be called from any thread (they are dispatched to the executor).
/// Distinct objects: safe. Shared objects: safe.
class mqtt_client {
 public:
  using completion = std::function<void(std::error_code)>;
  using connect_handler = std::function<void(std::error_code, bool session_present)>;
  using message_handler = std::function<void(const mqtt::publish_view&)>;
  using suback_handler = std::function<void(std::error_code, std::vector<mqtt::reason_code>)>;

  mqtt_client(boost::asio::any_io_executor ex, mqtt_client_options options);
  ~mqtt_client();
  mqtt_client(const mqtt_client&) = delete;
  mqtt_client& operator=(const mqtt_client&) = delete;

  /// Called after each CONNACK (or failed attempt). ec: socket errors, TLS errors
  /// (bad files, failed verification), error::timeout, error::unexpected_reply
  /// (refused: see connack_reason()).
  void on_connect(connect_handler h);
  /// Called for every PUBLISH from the broker (QoS 2: once per packet id).
  void on_message(message_handler h);
  /// Acknowledges one message (PUBACK for QoS 1, PUBREC for QoS 2). Callable from any
  /// thread, once; does nothing for QoS 0, nor when the connection the message came
  /// on has ended (the broker sends it again on the next connection of the session).
  using ack_fn = std::function<void()>;
  using acked_message_handler = std::function<void(const mqtt::publish_view&, ack_fn ack)>;
  /// Instead of on_message(): QoS 1/2 messages are acknowledged only when the
  /// application calls `ack`, e.g. once it has processed them (at-least-once).
  void on_message_acked(acked_message_handler h);
  /// Called when an established connection ends (not after disconnect()).
  void on_close(completion h);

  /// Starts connecting (and reconnecting, if enabled).
  void connect();
  /// Publishes; `done` runs when the message is written (QoS 0), on PUBACK (QoS 1)
  /// or PUBCOMP (QoS 2). While disconnected with reconnect on, the message waits.
  void publish(std::string topic, byte_buffer payload, std::uint8_t qos, bool retain,
               completion done = {});
  /// Publishes a prepared packet (MQTT 5 properties kept; packet_id is assigned).
  void publish(mqtt::publish p, completion done = {});
  void subscribe(std::vector<mqtt::subscription> subs, suback_handler done = {});
  void unsubscribe(std::vector<std::string> filters, completion done = {});
  /// Sends DISCONNECT once everything queued is written, then closes; no reconnect.
  void disconnect(completion done = {});

  /// The reason code of the last CONNACK (success before any).
  mqtt::reason_code connack_reason() const noexcept;
  /// True between a successful CONNACK and the end of that connection.
  bool connected() const noexcept;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace iotblocks::net

IOTBLOCKS_API_END
