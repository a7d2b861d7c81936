// A bridge to an upstream MQTT broker with mosquitto's `topic` mapping: each
// topic has a pattern (wildcards allowed), a direction (out: local -> remote,
// in: remote -> local, both), a QoS, and a local and a remote prefix that the
// pattern lives under. One upstream connection (net::mqtt_client: TCP or TLS
// with a client certificate, MQTT 3.1.1 or 5, reconnect with exponential
// backoff and jitter); messages offered while the upstream is down wait in a
// bounded queue. The mapping itself is sans-I/O (map_out / map_in below).
//
//   net::bridge_options o;
//   o.name = "cloud";
//   o.client.host = "broker.example.com";
//   o.client.port = 8883;
//   o.client.tls = {.enabled = true, .ca_file = "ca.pem", .cert_file = "bridge.crt",
//                   .key_file = "bridge.key"};
//   o.topics = {{"#", net::bridge_direction::both, 1, "site/", "sites/berlin/"}};
//   net::bridge b{io.get_executor(), o, [&](net::bridged_message m) { broker_publish(m); }};
//   b.start();
//   b.offer("site/lux", payload, 1, false);   // -> sites/berlin/lux upstream
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/mqtt/properties.hpp>
#include <iotblocks/net/mqtt_client.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::net {

enum class bridge_direction : std::uint8_t { out, in, both };
std::string_view name(bridge_direction d) noexcept;

/// One `topic pattern [[[out|in|both] qos] local-prefix remote-prefix]` line.
struct bridge_topic {
  std::string pattern;  ///< topic filter; "" maps the single topic local_prefix <-> remote_prefix
  bridge_direction direction = bridge_direction::out;
  std::uint8_t qos = 0;       ///< subscription QoS on the side the messages come from
  std::string local_prefix;   ///< prepended to the pattern locally (write the trailing '/')
  std::string remote_prefix;  ///< prepended to the pattern upstream
};

/// Checks a topic as mosquitto does: QoS 0..2, prefixes are valid topic names
/// without wildcards, prefix + pattern is a valid filter, and a "" pattern needs
/// both prefixes. Errors are core::error::invalid_argument with a message.
result<void> validate(const bridge_topic& t);
/// The filter matched against local topics: local_prefix + pattern.
std::string local_filter(const bridge_topic& t);
/// The filter subscribed to upstream: remote_prefix + pattern.
std::string remote_filter(const bridge_topic& t);
/// A local topic name -> its remote name, when `t` exports (out/both) and the name
/// matches local_filter(t) and starts with the local prefix; the result is a
/// valid topic name (else nullopt).
std::optional<std::string> map_out(const bridge_topic& t, std::string_view local_topic);
/// A remote topic name -> its local name, when `t` imports (in/both).
std::optional<std::string> map_in(const bridge_topic& t, std::string_view remote_topic);

/// The first topic of the list that maps (mosquitto's order) and the QoS to use:
/// min(message QoS, topic QoS).
struct mapped_topic {
  std::string topic;
  std::uint8_t qos = 0;
  std::size_t index = 0;  ///< which bridge_topic matched
};
std::optional<mapped_topic> map_out(std::span<const bridge_topic> topics,
                                    std::string_view local_topic, std::uint8_t qos);
std::optional<mapped_topic> map_in(std::span<const bridge_topic> topics,
                                   std::string_view remote_topic, std::uint8_t qos);

/// A message arriving from upstream, already mapped to its local topic (or a
/// local notification of the bridge state).
struct bridged_message {
  std::string topic;
  byte_buffer payload;
  std::uint8_t qos = 0;
  bool retain = false;
  mqtt::properties properties;  ///< MQTT 5 properties (topic alias, subscription ids removed)
};

struct bridge_options {
  std::string name = "bridge";  ///< connection name; default client id: "<name>.<hostname>"
  /// The upstream connection. reconnect is forced on; clean_start false by default
  /// (mosquitto's cleansession false); client_id defaults as above.
  mqtt_client_options client = [] {
    mqtt_client_options o;
    o.clean_start = false;
    o.session_expiry = 3600;  ///< MQTT 5: keep the upstream session an hour
    o.max_queued = 10000;     ///< messages waiting while the upstream is down; more are dropped
    o.backoff_initial = std::chrono::milliseconds(5000);  // mosquitto: restart_timeout 5 30
    o.backoff_max = std::chrono::milliseconds(30000);
    return o;
  }();
  std::vector<bridge_topic> topics;
  /// Publish "1"/"0" (retained) on notification_topic locally and upstream
  /// (upstream "0" is the will). mosquitto's default: on.
  bool notifications = true;
  bool notifications_local_only = false;
  std::string notification_topic;  ///< default $SYS/broker/connection/<client id>/state
  bool outgoing_retain = true;     ///< false clears the retain flag of exported messages
  /// MQTT 3.1.1 has no no-local: an imported message equal (topic, payload) to one
  /// this bridge exported within this window is taken as the upstream's echo and
  /// dropped. 0 disables. (MQTT 5 subscribes with no-local instead.)
  std::chrono::milliseconds echo_window{10000};
  std::size_t max_echo_entries = 10000;
};

/// Counters since construction.
struct bridge_stats {
  std::uint64_t exported = 0;        ///< messages handed to the upstream connection
  std::uint64_t imported = 0;        ///< messages from upstream handed to the local sink
  std::uint64_t pending = 0;         ///< exported, not yet written/acknowledged (queue + window)
  std::uint64_t dropped_full = 0;    ///< exported while the queue was full
  std::uint64_t dropped_failed = 0;  ///< refused by the upstream (PUBACK >= 0x80)
  std::uint64_t dropped_echo = 0;    ///< imported messages taken as echoes (3.1.1)
  std::uint64_t unmapped = 0;        ///< upstream messages no `in` topic maps
  std::uint64_t connects = 0;        ///< successful CONNACKs
  std::uint64_t connect_failures = 0;
  bool connected = false;
};

/// Distinct objects: safe. Shared objects: safe (offer() from any thread; the
/// sink runs on the executor).
class bridge {
 public:
  using sink = std::function<void(bridged_message)>;

  /// The options must validate (see validate_options); throws std::invalid_argument otherwise.
  bridge(boost::asio::any_io_executor ex, bridge_options options, sink local);
  ~bridge();
  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;

  /// Connects (and keeps reconnecting) in the background.
  void start();
  /// Publishes the "0" notification upstream, disconnects cleanly; `done` on the executor.
  void stop(std::function<void()> done = {});

  /// Offers a local message; true when an out/both topic maps it (it is then
  /// queued for upstream, or dropped and counted when the queue is full).
  bool offer(std::string_view local_topic, bytes_view payload, std::uint8_t qos, bool retain,
             const mqtt::properties* properties = nullptr);

  bridge_stats stats() const;
  const bridge_options& options() const noexcept;

  struct impl;  ///< implementation detail

 private:
  std::shared_ptr<impl> impl_;
};

/// Checks every topic and the connection settings; the message names the topic index.
result<void> validate_options(const bridge_options& o);
/// "<name>.<hostname>".
std::string default_bridge_client_id(std::string_view name);

}  // namespace iotblocks::net

IOTBLOCKS_API_END
