// The broker without sockets: in-memory connections, a client that encodes its
// packets and hands the broker what a server decoder makes of them, and a
// harness that plays the transport (on_close after a close) and, optionally,
// the store's commits. Everything runs on the test's thread, in order.
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/broker/memory_store.hpp>
#include <iotblocks/mqtt/decoder.hpp>
#include <iotblocks/mqtt/encoder.hpp>

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iotblocks::broker::testing {

inline constexpr auto v5 = mqtt::protocol_version::v5;
inline constexpr auto v311 = mqtt::protocol_version::v3_1_1;

/// What the broker wrote to one client, and whether it closed the connection.
class memory_connection final : public connection {
 public:
  explicit memory_connection(std::uint64_t id) : id_(id) {
    peer_.address = "192.0.2.1";
    peer_.transport = "memory";
  }
  std::uint64_t id() const noexcept override { return id_; }
  const peer_info& peer() const noexcept override { return peer_; }
  void send(bytes_view head, shared_bytes body) override {
    if (closed_) return;  // a closed transport writes nothing more
    out_.insert(out_.end(), head.begin(), head.end());
    if (body) out_.insert(out_.end(), body->begin(), body->end());
  }
  void close() override { closed_ = true; }
  void set_protocol(mqtt::protocol_version v) override { protocol_ = v; }
  void set_idle_timeout(std::chrono::milliseconds t) override { idle_timeout = t; }

  byte_buffer take() { return std::exchange(out_, {}); }
  bool closed() const noexcept { return closed_; }
  std::optional<mqtt::protocol_version> protocol() const noexcept { return protocol_; }
  std::chrono::milliseconds idle_timeout{0};
  bool reported = false;  ///< on_close was called

 private:
  std::uint64_t id_;
  peer_info peer_;
  byte_buffer out_;
  bool closed_ = false;
  std::optional<mqtt::protocol_version> protocol_;
};

class harness;

/// One MQTT client on an in-memory connection.
class client {
 public:
  client(harness& h, mqtt::protocol_version v);

  /// Encodes `p`, decodes it as the server's decoder would, and hands the
  /// result to the broker (a packet or a protocol error); then settles.
  void send(const mqtt::packet& p);
  /// Sends raw bytes (for packets the encoder will not make).
  void send_bytes(bytes_view b);

  /// CONNECT and its answer.
  mqtt::connack connect(const std::string& id, bool clean = true, std::uint32_t expiry = 0);
  mqtt::connack connect(mqtt::connect c);
  /// SUBSCRIBE one filter; returns the SUBACK's reason code.
  mqtt::reason_code subscribe(const std::string& filter, std::uint8_t qos,
                              std::uint32_t identifier = 0);
  /// PUBLISH; a QoS 2 flow is completed (PUBREL after PUBREC) when `complete`
  /// (packets before the PUBREC are skipped: do not subscribe to what you publish).
  void publish(const std::string& topic, const std::string& payload, std::uint8_t qos = 0,
               bool retain = false, mqtt::properties props = {}, bool complete = true);
  void disconnect(mqtt::reason_code r = mqtt::reason_code::normal_disconnection);
  /// The transport lost the connection (no DISCONNECT).
  void drop();

  /// The next packet the broker sent, if any.
  std::optional<mqtt::packet> next();
  template <class T>
  std::optional<T> next_of() {
    while (auto p = next()) {
      if (auto* t = std::get_if<T>(&*p)) return std::move(*t);
    }
    return std::nullopt;
  }
  /// Every PUBLISH waiting, acknowledged (PUBACK, PUBREC, and PUBCOMP for each
  /// PUBREL) when `ack`; other packets are skipped.
  std::vector<mqtt::publish> publishes(bool ack = true);

  bool closed() const noexcept { return conn_->closed(); }
  memory_connection& connection() noexcept { return *conn_; }
  std::uint16_t next_id() noexcept { return ids_++ == 0 ? ids_++ : ids_ - 1; }

 private:
  void feed();
  harness& h_;
  std::shared_ptr<memory_connection> conn_;
  mqtt::protocol_version version_;
  mqtt::decoder server_decoder_{mqtt::role::server};
  mqtt::decoder client_decoder_{mqtt::role::client};
  byte_buffer in_;
  std::uint16_t ids_ = 1;
};

/// The broker, its clients' connections and (optionally) a memory store.
class harness {
 public:
  explicit harness(broker_options o = {}) : options_(o) { b = std::make_unique<broker>(o, now); }
  /// A session and its connection point at each other until on_close: break
  /// that for the connections still open, as a transport going away would.
  ~harness() { forget_connections(); }

  /// A memory store on the broker; committed after every client step when `auto_commit`.
  void with_store(std::shared_ptr<memory_store> s, bool auto_commit = true) {
    store = std::move(s);
    commit_each_step = auto_commit;
    ASSERT_TRUE(b->use_store(store).ok());
  }
  /// A new broker on the same store, as after a restart; the old connections are gone.
  void restart() {
    forget_connections();  // a crash: the old broker is not told
    b = std::make_unique<broker>(options_, now);
    if (store) {
      ASSERT_TRUE(b->use_store(store).ok());
    }
  }
  /// Advances the broker's clock.
  void advance(std::chrono::seconds d) {
    now += d;
    b->tick(now);
    settle();
  }
  /// Plays the transport and the store: on_close for every closed connection,
  /// the store's commit when auto-committing; until nothing changes.
  void settle() {
    for (bool again = true; again;) {
      again = false;
      if (store && commit_each_step && store->pending() > 0) {
        store->commit();
        again = true;
      }
      for (auto& c : conns) {
        if (c->closed() && !c->reported) {
          c->reported = true;
          b->on_close(c);
          again = true;
        }
      }
    }
  }
  std::shared_ptr<memory_connection> open() {
    conns.push_back(std::make_shared<memory_connection>(next_conn_++));
    return conns.back();
  }

  broker::clock::time_point now = broker::clock::now();
  std::unique_ptr<broker> b;
  std::shared_ptr<memory_store> store;
  bool commit_each_step = false;
  std::vector<std::shared_ptr<memory_connection>> conns;

 private:
  void forget_connections() {
    for (auto& c : conns) c->user.reset();
    conns.clear();
  }

  broker_options options_;
  std::uint64_t next_conn_ = 1;
};

/// PUBACK, PUBREC, PUBREL or PUBCOMP for `id`.
template <class Ack>
mqtt::packet ack_of(std::uint16_t id) {
  Ack a;
  a.packet_id = id;
  return mqtt::packet{std::move(a)};
}

/// A PUBLISH as a client would send it.
inline mqtt::packet publish_of(const std::string& topic, const std::string& payload,
                               std::uint8_t qos, std::uint16_t id, bool dup = false) {
  mqtt::publish p;
  p.topic = topic;
  p.payload = to_buffer(payload);
  p.qos = qos;
  p.packet_id = id;
  p.dup = dup;
  return mqtt::packet{std::move(p)};
}

inline std::string payload_of(const mqtt::publish& p) {
  return {reinterpret_cast<const char*>(p.payload.data()), p.payload.size()};
}

}  // namespace iotblocks::broker::testing
