// A blocking raw MQTT client for the broker tests: writes owning packets with
// the encoder, reads and decodes packets with a deadline. Lets a test see
// exactly what the broker sends (reason codes, aliases, DISCONNECT).
#pragma once

#include <iotblocks/mqtt.hpp>
#include <iotblocks/net/server.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <poll.h>

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace iotblocks::gateway::testing {

using namespace std::chrono_literals;

/// Distinct objects: safe. Shared objects: unsafe.
class raw_client {
 public:
  explicit raw_client(std::uint16_t port, mqtt::protocol_version v = mqtt::protocol_version::v5)
      : socket_(io_), version_(v), decoder_(mqtt::role::client) {
    decoder_.protocol(v);
    boost::system::error_code ec;
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    eof_ = static_cast<bool>(ec);
  }

  bool eof() const noexcept { return eof_; }
  /// The error of the first read or write that failed: `eof` when the broker
  /// ended the stream in order, `connection_reset` / `broken_pipe` for a reset.
  boost::system::error_code error() const noexcept { return error_; }
  mqtt::protocol_version version() const noexcept { return version_; }

  void send(const mqtt::packet& p) {
    byte_buffer out;
    if (mqtt::encode(p, version_, out)) return;
    send_bytes(out);
  }
  /// Writes bytes as they are (e.g. a packet the encoder cannot produce).
  void send_bytes(bytes_view b) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(b.data(), b.size()), ec);
    if (ec) fail(ec);
  }

  /// The next packet, or nothing after `timeout` or at the end of the stream.
  std::optional<mqtt::packet> next(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (packets_.empty() && !eof_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd fd{socket_.native_handle(), POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
      std::byte buf[16384];
      boost::system::error_code ec;
      const auto n = socket_.read_some(boost::asio::buffer(buf, sizeof buf), ec);
      if (ec) {
        fail(ec);
        break;
      }
      std::error_code dec;
      decoder_.put_all(
          bytes_view{buf, n},
          [&](const mqtt::packet_view& p) { packets_.push_back(mqtt::to_owning(p)); }, dec);
      if (dec) eof_ = true;
    }
    if (packets_.empty()) return std::nullopt;
    auto p = std::move(packets_.front());
    packets_.pop_front();
    return p;
  }

  /// The next packet of type T, skipping others; nothing on timeout or end.
  template <class T>
  std::optional<T> next_of(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto p = next(std::max(left, 0ms));
      if (!p) return std::nullopt;
      if (auto* t = std::get_if<T>(&*p)) return std::move(*t);
    }
  }

  mqtt::connack connect(const std::string& id, bool clean_start, std::uint32_t expiry = 0,
                        mqtt::connect c = {}) {
    c.version = version_;
    c.client_id = id;
    c.clean_start = clean_start;
    if (version_ == mqtt::protocol_version::v5 && expiry != 0) {
      c.properties.set_session_expiry_interval(expiry);
    }
    send(mqtt::packet{std::move(c)});
    auto ack = next_of<mqtt::connack>();
    if (ack) return *ack;
    mqtt::connack none;
    none.reason = mqtt::reason_code::unspecified_error;
    return none;
  }

  /// Subscribes and waits for the SUBACK; returns its reason codes.
  std::vector<mqtt::reason_code> subscribe(const std::string& filter, std::uint8_t qos,
                                           std::uint32_t identifier = 0) {
    mqtt::subscribe s;
    s.packet_id = next_id();
    s.subscriptions.push_back({filter, {.qos = qos}});
    if (identifier != 0) s.properties.add_subscription_identifier(identifier);
    send(mqtt::packet{std::move(s)});
    auto ack = next_of<mqtt::suback>();
    return ack ? ack->reason_codes : std::vector<mqtt::reason_code>{};
  }

  /// Sends a PUBLISH; returns its packet id (0 for QoS 0).
  std::uint16_t publish(const std::string& topic, std::string_view payload, std::uint8_t qos,
                        bool retain = false, mqtt::properties props = {}) {
    mqtt::publish p;
    p.topic = topic;
    p.payload = to_buffer(payload);
    p.qos = qos;
    p.retain = retain;
    p.properties = std::move(props);
    if (qos > 0) p.packet_id = next_id();
    const auto id = p.packet_id;
    send(mqtt::packet{std::move(p)});
    return id;
  }

  /// Acknowledges a received QoS 1 PUBLISH.
  void ack(const mqtt::publish& p) {
    if (p.qos == 1) {
      mqtt::puback a;
      a.packet_id = p.packet_id;
      send(mqtt::packet{a});
    } else if (p.qos == 2) {
      mqtt::pubrec r;
      r.packet_id = p.packet_id;
      send(mqtt::packet{r});
    }
  }

  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
    eof_ = true;
  }

  std::uint16_t next_id() {
    if (++id_ == 0) id_ = 1;
    return id_;
  }

 private:
  void fail(boost::system::error_code ec) {
    if (!error_) error_ = ec;
    eof_ = true;
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  mqtt::protocol_version version_;
  mqtt::decoder decoder_;
  std::deque<mqtt::packet> packets_;
  bool eof_ = false;
  boost::system::error_code error_;
  std::uint16_t id_ = 0;
};

/// A listener on 127.0.0.1 with a free port.
inline net::listener_options loopback(net::transport kind = net::transport::tcp) {
  net::listener_options l;
  l.kind = kind;
  l.port = 0;
  return l;
}

inline std::string payload_of(const mqtt::publish& p) {
  return std::string(as_string_view(p.payload));
}

}  // namespace iotblocks::gateway::testing
