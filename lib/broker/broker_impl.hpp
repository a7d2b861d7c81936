// Private: the broker's state and the operations its files share (connect.cpp,
// delivery.cpp, wills_expiry.cpp, restore.cpp, broker.cpp).
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/mqtt/encoder.hpp>
#include <iotblocks/topic/index.hpp>
#include <iotblocks/topic/retained.hpp>

#include "broker/session.hpp"

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace iotblocks::broker {

using mqtt::protocol_version;
using mqtt::reason_code;
using namespace detail;

inline constexpr std::size_t shard_count = 16;

inline bool is_v5(const session& s) noexcept { return s.version == protocol_version::v5; }

inline void send_packet(const connection_ptr& c, const mqtt::packet& p, protocol_version v) {
  if (!c) return;
  byte_buffer out;
  if (!mqtt::encode(p, v, out)) c->send(bytes_view{out}, nullptr);
}

// U+0001..U+001F and U+007F..U+009F (MQTT 5 section 1.5.4); `s` is valid UTF-8
// (the decoder checked it), so U+0080..U+009F is 0xC2 followed by 0x80..0x9F.
inline bool has_control_character(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x20 || b == 0x7F) return true;
    if (b == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0) return true;
  }
  return false;
}

// Hidden: broker.hpp declares it in the exported API (broker's pimpl).
struct IOTBLOCKS_HIDDEN broker::impl {
  impl(broker_options o, clock::time_point start) : options(o), started(start), last_sys(start) {
    now_.store(start.time_since_epoch().count(), std::memory_order_relaxed);
  }

  broker_options options;
  broker_stats stats;
  topic::subscription_index index;
  std::atomic<topic::subscriber_id> next_id{1};
  authenticate_fn authenticate;
  authorize_fn authorize;
  publish_hook accepted;
  publish_gate_fn publish_gate;
  subscribe_gate_fn subscribe_gate;
  client_error_fn client_error;
  std::map<std::string, enhanced_auth_fn, std::less<>> auth_methods;  // set before start

  // CONNECTs in an enhanced authentication exchange, by connection id.
  struct pending_auth {
    mqtt::connect connect;
    std::string method;
    std::unique_ptr<auth_exchange> exchange;
  };
  std::mutex auth_mutex;
  std::unordered_map<std::uint64_t, pending_auth> authenticating;
  struct auth_done {
    std::string method;
    byte_buffer data;
    std::string identity;
  };
  // CONNECTs a deferred authenticate hook took, by connection id (under auth_mutex).
  deferred_authenticate_fn authenticate_deferred;
  struct pending_connect {
    connection_ptr connection;
    mqtt::connect connect;
    std::optional<auth_done> done;
  };
  std::unordered_map<std::uint64_t, pending_connect> deferred;
  // The deferred hook's answer, on the connection's thread.
  void resume_connect(const connection_ptr& c, reason_code why,
                      std::shared_ptr<const void> credentials);

  std::mutex clients_mutex;  // CONNECT/close only, never on the publish path
  std::unordered_map<std::string, session_ptr> clients;

  // Subscriber id -> session, read on the publish path: sharded, shared locks.
  struct shard {
    std::shared_mutex mutex;
    std::unordered_map<topic::subscriber_id, session_ptr> sessions;
  };
  std::array<shard, shard_count> shards;

  mutable std::mutex retained_mutex;
  topic::retained_store<message_ptr> retained;

  // Wills waiting for their delay (MQTT 5 will delay interval).
  struct pending_will {
    clock::time_point due;
    session_ptr owner;
    std::uint64_t generation = 0;  // owner->connects when it went offline
    message will;
    bool checked = false;  // from the store: authorized when its CONNECT came
  };
  std::mutex wills_mutex;  // after a session's mutex when both are held
  std::vector<pending_will> wills;
  std::unordered_set<std::string> will_rows;  // clients with a will in the store

  std::mutex tick_mutex;
  const clock::time_point started;
  clock::time_point last_sys;
  std::atomic<clock::rep> now_{0};  // the last tick()

  // Expires with the broker: a store that outlives it (memory_store) skips the
  // after_commit callbacks the broker queued.
  std::shared_ptr<void> alive = std::make_shared<char>(0);
  std::shared_ptr<store> db;  // last: flushed first on destruction

  // The broker's clock: the time of the last tick().
  clock::time_point now() const noexcept {
    return clock::time_point(clock::duration(now_.load(std::memory_order_relaxed)));
  }

  // The store for a write. The writes queued by the calling thread are counted:
  // a PUBLISH compares the count around its routing to learn whether it made
  // the broker owe something durable.
  static thread_local std::uint64_t queued_writes;
  store& write() noexcept {
    ++queued_writes;
    return *db;
  }

  session_ptr find(topic::subscriber_id id) {
    auto& sh = shards[id % shard_count];
    std::shared_lock lock(sh.mutex);
    auto it = sh.sessions.find(id);
    return it == sh.sessions.end() ? nullptr : it->second;
  }
  void add(const session_ptr& s) {
    auto& sh = shards[s->id % shard_count];
    std::unique_lock lock(sh.mutex);
    sh.sessions.emplace(s->id, s);
  }
  void remove(const session& s) {
    auto& sh = shards[s.id % shard_count];
    std::unique_lock lock(sh.mutex);
    sh.sessions.erase(s.id);
  }

  bool allowed(const session& s, action a, std::string_view topic) const {
    return !authorize || authorize(s.info, a, topic);
  }

  // A client id or topic refused for its control characters (options.control_characters).
  bool refused_characters(std::string_view s) const noexcept {
    return options.control_characters == control_character_rule::refuse && has_control_character(s);
  }

  // A packet refused as malformed for its control characters (caller holds s.mutex).
  void malformed(session& s);

  // --- delivery -----------------------------------------------------------

  // Encodes the PUBLISH of `o` for this subscriber (caller holds s.mutex and
  // s.connection is set): only the head (topic or alias, packet id, properties)
  // is encoded here; a small packet goes out as one copy from the stack, a
  // large payload is shared with every other subscriber, never copied.
  void transmit(session& s, outgoing& o, bool dup = false);

  static bool expired(const outgoing& o, clock::time_point now) {
    auto expiry = o.msg->properties.message_expiry_interval();
    return expiry && now - o.received >= std::chrono::seconds(*expiry);
  }

  std::size_t window(const session& s) const {
    return std::min<std::size_t>(s.client_receive_maximum, options.max_inflight_out);
  }

  std::uint16_t next_packet_id(session& s);

  // Sends queued messages while the window allows (caller holds s.mutex).
  void pump(session& s);

  // Sends the QoS 2 PUBLISH (or its PUBREL) in flight under `id` once the store
  // has committed its state, if the connection is still the same (a new one
  // gets it resent on CONNECT). Caller holds s.mutex.
  void after_commit(session& s, std::uint16_t id, std::uint64_t seq, bool pubrel);

  // A QoS 1/2 message owed to a durable session gets a row (caller holds s.mutex).
  void persist(session& s, outgoing& o);
  void forget(outgoing& o);

  void deliver(session& s, outgoing o);

  void route(const message_ptr& m, const session* from);

  // `own`: the broker's $SYS and presence messages (not counted as received).
  void accept_message(message m, session* from, bool own = false);
  void consume_message(message m, session* from);
  // A will, through the publish gate as its owner's PUBLISH would go (refused: dropped).
  void accept_will(message will, const session& owner);

  // --- packets ------------------------------------------------------------

  // Sends DISCONNECT `why` (MQTT 5) and closes; a protocol error goes to
  // client_error with `text` (empty: the reason's name).
  void disconnect(session& s, reason_code why, std::string_view text = {});
  // Tells client_error of a protocol error (a no-op for other reasons).
  void report_client_error(const client_info& info, reason_code why, std::string_view text) const;

  void refuse(const connection_ptr& c, protocol_version v, reason_code why);

  // The presence event of `s` (caller holds s.mutex); publish it without locks.
  std::optional<message> presence(const session& s, std::string_view event,
                                  std::string_view reason) const;
  void publish_own(std::optional<message> m);

  // Ends a session for good (caller holds clients_mutex and s.mutex).
  void kill_session(session& s);

  // The will of a connection that ended: now, or after its delay while the
  // session lives on (MQTT-3.1.3-9). Call without locks.
  void will_or_delay(const session_ptr& s, message will, std::uint32_t delay, std::uint32_t expiry,
                     std::uint64_t generation);

  // The store's will row of a connection that ended, unless a new connection
  // of the session replaced it meanwhile. Call without locks.
  void drop_will_row(session& s, std::uint64_t generation);

  // --- enhanced authentication (MQTT 5 AUTH) ---------------------------------

  // A CONNECT naming an Authentication Method: its exchange begins.
  void begin_auth(const connection_ptr& c, const mqtt::connect_view& p, std::string_view method);

  // AUTH from a client in a CONNECT exchange (re-authentication is not supported).
  void on_auth(const connection_ptr& c, const mqtt::auth_view& a);

  // Re-authentication (MQTT-4.12.1): AUTH 0x19 with the CONNECT's method starts
  // a new exchange; AUTH 0x18 continues it; success ends with AUTH 0x00, failure
  // with DISCONNECT. Caller holds s.mutex.
  void reauthenticate(session& s, const mqtt::auth_view& a);

  void auth_step(const connection_ptr& c, pending_auth pa, auth_exchange::step st);

  void end_auth(const connection_ptr& c);

  // `resumed`: the deferred hook's credentials (the CONNECT was taken and resumed).
  void on_connect(const connection_ptr& c, const mqtt::connect_view& p,
                  const auth_done* done = nullptr,
                  const std::shared_ptr<const void>* resumed = nullptr);

  void drop_subscriptions(session& s);

  // Caller holds s->mutex (released while routing).
  void on_publish(const connection_ptr& c, const session_ptr& sp, const mqtt::publish_view& p);

  // PUBACK/PUBREC (caller holds sp->mutex): at once when the PUBLISH queued no
  // store write (nothing durable is owed: no persistent session gets it, no
  // retained change) and no earlier ack waits; otherwise after the commit of
  // everything the PUBLISH caused, in order with the earlier acks.
  void send_ack(const connection_ptr& c, const session_ptr& sp, const mqtt::packet& ack,
                bool counted, bool owed);

  void on_subscribe(session& s, const mqtt::subscribe_view& p);

  void on_unsubscribe(session& s, const mqtt::unsubscribe_view& p);

  void on_ack(session& s, std::uint16_t id, mqtt::packet_type type);

  void end_session(const connection_ptr& c, bool send_will);

  void expire(const session_ptr& s);

  // Wills whose delay is over (or whose session ends); called from tick().
  void fire_wills(clock::time_point now);

  void load(stored_state state);
};

}  // namespace iotblocks::broker
