#include "gateway/persist.hpp"
#include "gateway/session.hpp"

#include <iotblocks/mqtt/encoder.hpp>
#include <iotblocks/topic/retained.hpp>

#include <array>
#include <cstring>
#include <map>
#include <random>
#include <shared_mutex>
#include <unordered_set>

namespace iotblocks::gateway {

using namespace detail;
using mqtt::protocol_version;
using mqtt::reason_code;

namespace {

constexpr std::size_t shard_count = 16;

bool is_v5(const session& s) noexcept { return s.version == protocol_version::v5; }

void send_packet(const net::connection_ptr& c, const mqtt::packet& p, protocol_version v) {
  if (!c) return;
  byte_buffer out;
  if (!mqtt::encode(p, v, out)) c->send(std::move(out));
}

// A view of an owning CONNECT (valid while `c` is unchanged).
mqtt::connect_view view_of(const mqtt::connect& c) {
  mqtt::connect_view v;
  v.version = c.version;
  v.clean_start = c.clean_start;
  v.keep_alive = c.keep_alive;
  v.client_id = c.client_id;
  if (c.will) {
    v.will = mqtt::basic_will<mqtt::view_storage>{c.will->topic, bytes_view{c.will->payload},
                                                  c.will->properties.view(), c.will->qos,
                                                  c.will->retain};
  }
  if (c.username) v.username = std::string_view(*c.username);
  if (c.password) v.password = bytes_view{*c.password};
  v.properties = c.properties.view();
  return v;
}

// U+0001..U+001F and U+007F..U+009F (MQTT 5 section 1.5.4); `s` is valid UTF-8
// (the decoder checked it), so U+0080..U+009F is 0xC2 followed by 0x80..0x9F.
bool has_control_character(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x20 || b == 0x7F) return true;
    if (b == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0) return true;
  }
  return false;
}

// The reason for a CONNACK refusing a CONNECT (or its AUTH exchange) the decoder
// refused: the decoder's code when CONNACK may carry it (3.2.2.2), else 0x81.
reason_code connack_reason(reason_code why) noexcept {
  switch (why) {
    case reason_code::unspecified_error:
    case reason_code::malformed_packet:
    case reason_code::protocol_error:
    case reason_code::implementation_specific_error:
    case reason_code::unsupported_protocol_version:
    case reason_code::client_identifier_not_valid:
    case reason_code::topic_name_invalid:
    case reason_code::packet_too_large:
    case reason_code::quota_exceeded:
    case reason_code::payload_format_invalid: return why;
    default: return reason_code::malformed_packet;
  }
}

std::string random_client_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return "iotblocks-" + std::to_string(rng());
}

}  // namespace

struct broker::impl {
  explicit impl(broker_options o) : options(o) {}

  broker_options options;
  broker_stats stats;
  topic::subscription_index index;
  std::atomic<topic::subscriber_id> next_id{1};
  authenticate_fn authenticate;
  authorize_fn authorize;
  publish_hook accepted;
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
  const clock::time_point started = clock::now();
  clock::time_point last_sys = started;

  std::unique_ptr<store> db;  // last: joined (and flushed) first on destruction

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
  void malformed(session& s) {
    stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
    s.disconnect_reason = "CLIENT_ERROR";
    disconnect(s, reason_code::malformed_packet);
  }

  // --- delivery -----------------------------------------------------------

  // Encodes the PUBLISH of `o` for this subscriber (caller holds s.mutex and
  // s.connection is set): only the head (topic or alias, packet id, properties)
  // is encoded here; a small packet goes out as one copy from the stack, a
  // large payload is shared with every other subscriber, never copied.
  void transmit(session& s, outgoing& o, bool dup = false) {
    const message& m = *o.msg;
    mqtt::publish_view p;
    p.topic = m.topic;
    p.payload = bytes_view{m.payload};
    p.qos = o.qos;
    p.retain = o.retain;
    p.dup = dup;
    p.packet_id = o.packet_id;
    mqtt::properties props;
    std::uint16_t new_alias = 0;
    if (is_v5(s) &&
        (!m.properties.bytes().empty() || !o.identifiers.empty() || s.client_alias_maximum > 0)) {
      props = m.properties;
      props.remove(mqtt::property_id::subscription_identifier);
      props.remove(mqtt::property_id::topic_alias);
      if (auto expiry = m.properties.message_expiry_interval()) {
        const auto age =
            std::chrono::duration_cast<std::chrono::seconds>(clock::now() - o.received);
        const auto left = static_cast<std::int64_t>(*expiry) - age.count();
        props.remove(mqtt::property_id::message_expiry_interval);
        props.set_message_expiry_interval(
            static_cast<std::uint32_t>(std::max<std::int64_t>(left, 0)));
      }
      for (auto id : o.identifiers) props.add_subscription_identifier(id);
      // Outgoing topic aliases, within the client's Topic Alias Maximum: the
      // first topics get one, later ones go out in full.
      if (s.client_alias_maximum > 0) {
        if (auto it = s.out_aliases.find(m.topic); it != s.out_aliases.end()) {
          props.set_topic_alias(it->second);
          p.topic = {};
        } else if (s.out_aliases.size() < s.client_alias_maximum) {
          new_alias = static_cast<std::uint16_t>(s.out_aliases.size() + 1);
          s.out_aliases.emplace(m.topic, new_alias);
          props.set_topic_alias(new_alias);
        }
      }
      p.properties = props.view();
    }
    std::error_code ec;
    const auto head_size = mqtt::publish_head_size(p, s.version, ec);
    if (ec) return;
    const auto total = head_size + m.payload.size();
    if (s.client_maximum_packet_size != 0 && total > s.client_maximum_packet_size) {
      if (new_alias != 0) s.out_aliases.erase(m.topic);       // the client never saw it
      stats.dropped.fetch_add(1, std::memory_order_relaxed);  // MQTT-3.1.2-25: discard
      return;
    }
    constexpr std::size_t small = 1024;
    std::array<std::byte, small> stack;  // NOLINT: filled below
    byte_buffer heap;
    mutable_bytes_view buf;
    if (total <= small) {
      buf = {stack.data(), total};
    } else {
      heap.resize(head_size);
      buf = {heap.data(), head_size};
    }
    if (mqtt::encode_publish_head(p, s.version, buf.first(head_size), ec) != head_size) return;
    stats.messages_out.fetch_add(1, std::memory_order_relaxed);
    if (total <= small) {
      if (!m.payload.empty()) {
        std::memcpy(buf.data() + head_size, m.payload.data(), m.payload.size());
      }
      s.connection->send(bytes_view{buf}, nullptr);
    } else {
      s.connection->send(bytes_view{buf}, net::shared_bytes(o.msg, &m.payload));
    }
  }

  static bool expired(const outgoing& o, clock::time_point now) {
    auto expiry = o.msg->properties.message_expiry_interval();
    return expiry && now - o.received >= std::chrono::seconds(*expiry);
  }

  std::size_t window(const session& s) const {
    return std::min<std::size_t>(s.client_receive_maximum, options.max_inflight_out);
  }

  std::uint16_t next_packet_id(session& s) {
    for (;;) {
      const auto id = s.next_packet_id++;
      if (s.next_packet_id == 0) s.next_packet_id = 1;
      if (id != 0 && !s.inflight.count(id)) return id;
    }
  }

  // Sends queued messages while the window allows (caller holds s.mutex).
  void pump(session& s) {
    if (!s.connection) return;
    const auto now = clock::now();
    while (!s.queue.empty()) {
      auto& o = s.queue.front();
      if (expired(o, now)) {
        forget(o);
        s.queue.pop_front();
        stats.dropped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (o.qos > 0) {
        if (s.inflight.size() >= window(s)) break;
        o.packet_id = next_packet_id(s);
        auto [it, added] = s.inflight.emplace(o.packet_id, std::move(o));
        s.queue.pop_front();
        if (db && it->second.qos == 2 && it->second.seq != 0) {
          // Exactly once across a restart: the client sees this packet id only
          // once it is committed, so a restarted broker resends under the same id.
          db->set_delivery_state(it->second.seq, it->first, false);
          after_commit(s, it->first, it->second.seq, false);
        } else {
          transmit(s, it->second);
        }
      } else {
        transmit(s, o);
        s.queue.pop_front();
      }
    }
  }

  // Sends the QoS 2 PUBLISH (or its PUBREL) in flight under `id` once the store
  // has committed its state, if the connection is still the same (a new one
  // gets it resent on CONNECT). Caller holds s.mutex.
  void after_commit(session& s, std::uint16_t id, std::uint64_t seq, bool pubrel) {
    std::weak_ptr<net::connection> weak = s.connection;
    db->after_commit([this, weak, sp = s.shared_from_this(), id, seq, pubrel](bool ok) {
      auto conn = weak.lock();
      if (!conn) return;
      std::lock_guard lock(sp->mutex);
      if (sp->connection != conn) return;
      if (!ok) return disconnect(*sp, reason_code::unspecified_error);
      auto it = sp->inflight.find(id);
      if (it == sp->inflight.end() || it->second.seq != seq || it->second.released != pubrel) {
        return;
      }
      if (pubrel) {
        mqtt::pubrel rel;
        rel.packet_id = id;
        send_packet(conn, mqtt::packet{rel}, sp->version);
      } else {
        transmit(*sp, it->second);
      }
    });
  }

  // A QoS 1/2 message owed to a durable session gets a row (caller holds s.mutex).
  void persist(session& s, outgoing& o) {
    if (db && s.durable && o.qos > 0) {
      o.seq = db->add_delivery(s.client_id, o.msg, o.qos, o.retain, o.identifiers, wall_ms());
    }
  }
  void forget(outgoing& o) {
    if (db && o.seq != 0) db->remove_delivery(o.seq);
    o.seq = 0;
  }

  void deliver(session& s, outgoing o) {
    std::lock_guard lock(s.mutex);
    if (s.dead) return;
    if (!s.connection) {
      if (o.qos == 0 || s.queue.size() >= options.max_offline_messages) {
        stats.dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      persist(s, o);
      s.queue.push_back(std::move(o));
      return;
    }
    if (!allowed(s, action::receive, o.msg->topic)) return;
    if (o.qos == 0 && s.queue.empty()) {
      transmit(s, o);
      return;
    }
    persist(s, o);
    s.queue.push_back(std::move(o));
    pump(s);
  }

  void route(const message_ptr& m, const session* from) {
    static thread_local topic::match_result found;
    topic::match_context ctx;
    if (from != nullptr) {
      ctx.publisher = from->id;
      ctx.publisher_client_id = from->client_id;
    }
    index.match(m->topic, found, ctx);
    const auto now = clock::now();
    for (const auto& d : found.deliveries()) {
      auto target = find(d.subscriber);
      if (!target) continue;
      outgoing o;
      o.msg = m;
      o.qos = std::min(m->qos, d.qos);
      o.retain = d.retain_as_published && m->retain;
      auto ids = found.identifiers(d);
      o.identifiers.assign(ids.begin(), ids.end());
      o.received = now;
      deliver(*target, std::move(o));
    }
  }

  // `own`: the broker's $SYS and presence messages (not counted as received).
  void accept_message(message m, session* from, bool own = false) {
    if (!own) stats.messages_in.fetch_add(1, std::memory_order_relaxed);
    auto ptr = std::make_shared<const message>(std::move(m));
    if (ptr->retain) {
      std::lock_guard lock(retained_mutex);
      const bool durable = db && !ptr->topic.starts_with("$SYS/");
      if (ptr->payload.empty()) {
        if (retained.erase(ptr->topic) && durable) db->drop_retained(ptr->topic);
      } else {
        (void)retained.set(ptr->topic, ptr);
        if (durable) db->put_retained(ptr);
      }
    }
    route(ptr, from);
    if (accepted) accepted(*ptr, from != nullptr ? &from->info : nullptr);
  }

  // --- packets ------------------------------------------------------------

  void disconnect(session& s, reason_code why) {
    if (s.disconnect_reason.empty()) s.disconnect_reason = "SERVER_INITIATED_DISCONNECT";
    if (s.connection && is_v5(s)) {
      mqtt::disconnect d;
      d.reason = why;
      send_packet(s.connection, mqtt::packet{d}, s.version);
    }
    if (s.connection) s.connection->close();
  }

  void refuse(const net::connection_ptr& c, protocol_version v, reason_code why) {
    stats.rejected_connects.fetch_add(1, std::memory_order_relaxed);
    mqtt::connack ack;
    ack.reason = why;
    if (v != protocol_version::v5) {
      // 3.1.1 return codes: 1 version, 2 identifier, 3 unavailable, 4 credentials, 5 not
      // authorized.
      switch (why) {
        case reason_code::unsupported_protocol_version:
          ack.reason = static_cast<reason_code>(1);
          break;
        case reason_code::client_identifier_not_valid:
          ack.reason = static_cast<reason_code>(2);
          break;
        case reason_code::bad_user_name_or_password:
          ack.reason = static_cast<reason_code>(4);
          break;
        case reason_code::not_authorized: ack.reason = static_cast<reason_code>(5); break;
        default: ack.reason = static_cast<reason_code>(3); break;
      }
    }
    send_packet(c, mqtt::packet{ack}, v);
    c->close();
  }

  // The presence event of `s` (caller holds s.mutex); publish it without locks.
  std::optional<message> presence(const session& s, std::string_view event,
                                  std::string_view reason) const {
    if (!options.presence_events) return std::nullopt;
    message m;
    m.topic = "$aws/events/presence/" + std::string(event) + "/" + s.client_id;
    const auto& principal = s.info.username.empty() ? s.client_id : s.info.username;
    const std::string ip = s.info.peer != nullptr ? s.info.peer->address : std::string{};
    m.payload = to_buffer(
        presence_payload(s.client_id, event, s.session_uuid, principal, ip, s.connects, reason));
    return m;
  }
  void publish_own(std::optional<message> m) {
    if (m) accept_message(std::move(*m), nullptr, true);
  }

  // Ends a session for good (caller holds clients_mutex and s.mutex).
  void kill_session(session& s) {
    s.dead = true;
    if (db && s.durable) db->drop_session(s.client_id);
    s.durable = false;
    drop_subscriptions(s);
    remove(s);
  }

  // The will of a connection that ended: now, or after its delay while the
  // session lives on (MQTT-3.1.3-9). Call without locks.
  void will_or_delay(const session_ptr& s, message will, std::uint32_t delay, std::uint32_t expiry,
                     std::uint64_t generation) {
    if (delay == 0 || expiry == 0) {
      if (allowed(*s, action::publish, will.topic)) accept_message(std::move(will), nullptr);
      drop_will_row(*s, generation);
      return;
    }
    const auto wait = std::chrono::seconds(std::min(delay, expiry));
    std::lock_guard slock(s->mutex);
    if (s->connects != generation || s->connection) return;  // a new connection came first
    std::lock_guard lock(wills_mutex);
    if (db && will_rows.count(s->client_id)) {  // the row now says when it is due
      db->put_will(s->client_id, will, delay,
                   wall_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    }
    wills.push_back({clock::now() + wait, s, generation, std::move(will)});
  }

  // The store's will row of a connection that ended, unless a new connection
  // of the session replaced it meanwhile. Call without locks.
  void drop_will_row(session& s, std::uint64_t generation) {
    if (!db) return;
    std::lock_guard slock(s.mutex);
    if (s.connects != generation) return;
    std::lock_guard lock(wills_mutex);
    if (will_rows.erase(s.client_id)) db->drop_will(s.client_id);
  }

  // --- enhanced authentication (MQTT 5 AUTH) ---------------------------------

  // A CONNECT naming an Authentication Method: its exchange begins.
  void begin_auth(const net::connection_ptr& c, const mqtt::connect_view& p,
                  std::string_view method) {
    auto it = auth_methods.find(method);
    if (it == auth_methods.end()) {
      return refuse(c, protocol_version::v5, reason_code::bad_authentication_method);
    }
    client_info probe;
    probe.client_id = std::string(p.client_id);
    probe.username = p.username ? std::string(*p.username) : std::string{};
    probe.version = p.version;
    probe.peer = &c->peer();
    auto exchange = it->second(probe);
    if (!exchange) return refuse(c, protocol_version::v5, reason_code::bad_authentication_method);
    auto st = exchange->next(p.properties.authentication_data().value_or(bytes_view{}));
    auth_step(c, {mqtt::to_owning(p), std::string(method), std::move(exchange)}, std::move(st));
  }

  // AUTH from a client in a CONNECT exchange (re-authentication is not supported).
  void on_auth(const net::connection_ptr& c, const mqtt::auth_view& a) {
    pending_auth pa;
    std::unique_lock lock(auth_mutex);
    auto it = authenticating.find(c->id());
    if (it == authenticating.end()) {
      lock.unlock();
      if (!c->user) return c->close();  // AUTH before CONNECT
      auto s = std::static_pointer_cast<session>(c->user);
      std::lock_guard slock(s->mutex);
      if (s->connection != c) return;
      return reauthenticate(*s, a);
    }
    pa = std::move(it->second);
    authenticating.erase(it);
    lock.unlock();
    if (a.reason != reason_code::continue_authentication ||
        a.properties.authentication_method() != std::optional<std::string_view>(pa.method)) {
      return refuse(c, protocol_version::v5, reason_code::protocol_error);
    }
    auto st = pa.exchange->next(a.properties.authentication_data().value_or(bytes_view{}));
    auth_step(c, std::move(pa), std::move(st));
  }

  // Re-authentication (MQTT-4.12.1): AUTH 0x19 with the CONNECT's method starts
  // a new exchange; AUTH 0x18 continues it; success ends with AUTH 0x00, failure
  // with DISCONNECT. Caller holds s.mutex.
  void reauthenticate(session& s, const mqtt::auth_view& a) {
    const auto method = a.properties.authentication_method();
    if (s.info.auth_method.empty() ||
        method != std::optional<std::string_view>(s.info.auth_method)) {
      return disconnect(s, reason_code::protocol_error);
    }
    if (a.reason == reason_code::re_authenticate) {
      auto it = auth_methods.find(s.info.auth_method);
      if (s.reauth || it == auth_methods.end()) return disconnect(s, reason_code::protocol_error);
      s.reauth = it->second(s.info);
      if (!s.reauth) return disconnect(s, reason_code::not_authorized);
    } else if (a.reason != reason_code::continue_authentication || !s.reauth) {
      return disconnect(s, reason_code::protocol_error);
    }
    auto st = s.reauth->next(a.properties.authentication_data().value_or(bytes_view{}));
    using outcome = auth_exchange::step::outcome;
    if (st.result == outcome::more) {
      mqtt::auth more;
      more.reason = reason_code::continue_authentication;
      more.properties.set_authentication_method(s.info.auth_method)
          .set_authentication_data(st.data);
      return send_packet(s.connection, mqtt::packet{std::move(more)}, s.version);
    }
    s.reauth.reset();
    if (st.result == outcome::failure || (!st.identity.empty() && st.identity != s.info.username)) {
      // Failed, or succeeded as somebody else: the connection ends (0x86 is no
      // DISCONNECT reason code: 0x87 then).
      const auto why =
          st.result == outcome::failure && st.reason == reason_code::bad_authentication_method
              ? st.reason
              : reason_code::not_authorized;
      return disconnect(s, why);
    }
    mqtt::auth done;
    done.reason = reason_code::success;
    done.properties.set_authentication_method(s.info.auth_method);
    if (!st.data.empty()) done.properties.set_authentication_data(st.data);
    send_packet(s.connection, mqtt::packet{std::move(done)}, s.version);
  }

  void auth_step(const net::connection_ptr& c, pending_auth pa, auth_exchange::step st) {
    using outcome = auth_exchange::step::outcome;
    if (st.result == outcome::failure) {
      return refuse(c, protocol_version::v5,
                    st.reason == reason_code::success ? reason_code::not_authorized : st.reason);
    }
    if (st.result == outcome::more) {
      mqtt::auth a;
      a.reason = reason_code::continue_authentication;
      a.properties.set_authentication_method(pa.method).set_authentication_data(st.data);
      send_packet(c, mqtt::packet{std::move(a)}, protocol_version::v5);
      std::lock_guard lock(auth_mutex);
      authenticating.insert_or_assign(c->id(), std::move(pa));
      return;
    }
    auth_done done{pa.method, std::move(st.data), std::move(st.identity)};
    on_connect(c, view_of(pa.connect), &done);
  }

  void end_auth(const net::connection_ptr& c) {
    std::lock_guard lock(auth_mutex);
    authenticating.erase(c->id());
  }

  void on_connect(const net::connection_ptr& c, const mqtt::connect_view& p,
                  const auth_done* done = nullptr) {
    if (c->user) {  // a second CONNECT: protocol error (MQTT-3.1.0-2)
      auto s = std::static_pointer_cast<session>(c->user);
      std::lock_guard lock(s->mutex);
      disconnect(*s, reason_code::protocol_error);
      return;
    }
    if (refused_characters(p.client_id) || (p.will && refused_characters(p.will->topic))) {
      stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
      if (p.version == protocol_version::v5) {
        return refuse(c, p.version, reason_code::malformed_packet);
      }
      stats.rejected_connects.fetch_add(1, std::memory_order_relaxed);
      return c->close();  // 3.1.1 has no return code for it (1.5.3: close)
    }
    if (done == nullptr && p.version == protocol_version::v5) {
      if (auto method = p.properties.authentication_method()) return begin_auth(c, p, *method);
    }
    const auto v = p.version;
    client_info info;
    info.client_id = std::string(p.client_id);
    info.username = p.username ? std::string(*p.username) : std::string{};
    info.version = v;
    info.peer = &c->peer();
    if (done != nullptr) {
      info.auth_method = done->method;
      if (!done->identity.empty()) info.username = done->identity;
    }
    bool assigned = false;
    if (info.client_id.empty()) {
      if (v != protocol_version::v5 && !p.clean_start) {
        return refuse(c, v, reason_code::client_identifier_not_valid);  // MQTT-3.1.3-8
      }
      info.client_id = random_client_id();
      assigned = true;
    }
    if (authenticate) {
      if (auto why = authenticate(p, info); why != reason_code::success) return refuse(c, v, why);
    }

    std::uint32_t expiry = 0;
    if (v == protocol_version::v5) {
      expiry =
          std::min(p.properties.session_expiry_interval().value_or(0), options.max_session_expiry);
    } else if (!p.clean_start) {
      expiry = options.max_session_expiry;  // 3.1.1 persistent sessions
    }

    session_ptr s;
    bool present = false;
    session_ptr taken;  // the session whose connection was taken over
    std::optional<message> old_will, old_presence;
    std::uint32_t old_delay = 0;
    {
      std::lock_guard lock(clients_mutex);
      auto it = clients.find(info.client_id);
      if (it != clients.end()) {
        auto old = it->second;
        std::lock_guard old_lock(old->mutex);
        if (old->connection) {  // session taken over (MQTT-3.1.4-3): DISCONNECT 0x8E
          old_presence = presence(*old, "disconnected", "DUPLICATE_CLIENT_ID");
          disconnect(*old, reason_code::session_taken_over);
          old->connection->user.reset();
          old->connection = nullptr;
          old_will = std::move(old->will);
          old_delay = old->will_delay;
          old->will.reset();
          taken = old;
          stats.connected.fetch_sub(1, std::memory_order_relaxed);
          stats.disconnects.fetch_add(1, std::memory_order_relaxed);
        }
        if (p.clean_start) {
          kill_session(*old);
          clients.erase(it);
        } else {
          s = old;
          present = true;
        }
      }
      if (!s) {
        s = std::make_shared<session>();
        s->id = next_id.fetch_add(1);
        s->client_id = info.client_id;
        clients.emplace(info.client_id, s);
        add(s);
      }
    }
    if (taken) {
      publish_own(std::move(old_presence));
      // The old connection's will: suppressed when the session goes on and the
      // will had a delay (a new connection came first), published otherwise.
      if (old_will && (p.clean_start || old_delay == 0)) {
        if (allowed(*taken, action::publish, old_will->topic))
          accept_message(std::move(*old_will), nullptr);
      }
    }

    std::unique_lock lock(s->mutex);
    s->connection = c;
    s->info = std::move(info);
    s->version = v;
    s->expiry_seconds = expiry;
    s->clean_start = p.clean_start;
    s->aliases.clear();
    s->out_aliases.clear();
    s->unacked_in = 0;
    s->pending_acks = 0;
    s->disconnect_reason.clear();
    s->session_uuid = random_session_id();
    ++s->connects;  // also cancels a will waiting for its delay
    s->client_receive_maximum = p.properties.receive_maximum().value_or(65535);
    s->client_maximum_packet_size = p.properties.maximum_packet_size().value_or(0);
    s->client_alias_maximum =
        v == protocol_version::v5 ? p.properties.topic_alias_maximum().value_or(0) : 0;
    if (db) {
      if (expiry > 0) {
        db->put_session(s->client_id, expiry, v);
        s->durable = true;
      } else if (s->durable) {  // was persistent, now ends with the connection
        db->drop_session(s->client_id);
        s->durable = false;
      }
    }
    s->will.reset();
    s->will_delay = 0;
    if (p.will) {
      message w;
      w.topic = std::string(p.will->topic);
      w.payload = to_buffer(p.will->payload);
      w.qos = p.will->qos;
      w.retain = p.will->retain;
      if (v == protocol_version::v5) {
        w.properties = mqtt::properties(p.will->properties);
        s->will_delay = w.properties.will_delay_interval().value_or(0);
      }
      w.properties.remove(mqtt::property_id::will_delay_interval);
      w.publisher = s->client_id;
      s->will = std::move(w);
    }
    if (db) {  // the will survives a restart (authorized now: after one, nobody can ask)
      const bool keep = s->will && allowed(*s, action::publish, s->will->topic);
      std::lock_guard wlock(wills_mutex);
      if (keep) {
        db->put_will(s->client_id, *s->will, s->will_delay, 0);
        will_rows.insert(s->client_id);
      } else if (will_rows.erase(s->client_id)) {
        db->drop_will(s->client_id);
      }
    }
    c->user = s;
    c->set_protocol(v);
    if (p.keep_alive > 0)
      c->set_idle_timeout(std::chrono::milliseconds(p.keep_alive * 1500));
    else
      c->set_idle_timeout(std::chrono::milliseconds(0));

    mqtt::connack ack;
    ack.session_present = present;
    if (v == protocol_version::v5) {
      ack.properties.set_receive_maximum(options.receive_maximum)
          .set_topic_alias_maximum(options.topic_alias_maximum)
          .set_maximum_packet_size(options.maximum_packet_size);
      if (assigned) ack.properties.set_assigned_client_identifier(s->client_id);
      if (done != nullptr) {
        ack.properties.set_authentication_method(done->method);
        if (!done->data.empty()) ack.properties.set_authentication_data(done->data);
      }
      if (p.properties.session_expiry_interval().value_or(0) != expiry) {
        ack.properties.set_session_expiry_interval(expiry);
      }
    }
    send_packet(c, mqtt::packet{ack}, v);
    stats.connects.fetch_add(1, std::memory_order_relaxed);
    stats.connected.fetch_add(1, std::memory_order_relaxed);

    // Resend what was in flight (DUP), then the queue (MQTT-4.4.0-1).
    for (auto& [id, o] : s->inflight) {
      if (o.released) {
        mqtt::pubrel rel;
        rel.packet_id = id;
        send_packet(c, mqtt::packet{rel}, v);
      } else {
        transmit(*s, o, true);
      }
    }
    pump(*s);
    auto event = presence(*s, "connected", {});
    lock.unlock();
    publish_own(std::move(event));
  }

  void drop_subscriptions(session& s) {
    for (const auto& [filter, opts] : s.subscriptions) index.unsubscribe(filter, s.id);
    s.subscriptions.clear();
  }

  // Caller holds s->mutex (released while routing).
  void on_publish(const net::connection_ptr& c, const session_ptr& sp,
                  const mqtt::publish_view& p) {
    auto& s = *sp;
    if (refused_characters(p.topic)) return malformed(s);
    std::string topic_name(p.topic);
    if (is_v5(s)) {
      if (auto alias = p.properties.topic_alias()) {
        if (*alias == 0 || *alias > options.topic_alias_maximum) {
          return disconnect(s, reason_code::topic_alias_invalid);
        }
        if (topic_name.empty()) {
          auto it = s.aliases.find(*alias);
          if (it == s.aliases.end()) return disconnect(s, reason_code::protocol_error);
          topic_name = it->second;
        } else {
          s.aliases[*alias] = topic_name;
        }
      }
    }
    if (p.qos == 2 && s.incoming_qos2.count(p.packet_id)) {  // a retransmission: already routed
      mqtt::pubrec rec;
      rec.packet_id = p.packet_id;
      return send_ack(c, sp, mqtt::packet{rec}, false, false);
    }
    // Receive Maximum: QoS 1 not yet acknowledged plus QoS 2 not yet released.
    if (p.qos > 0 && s.unacked_in + s.incoming_qos2.size() >= options.receive_maximum) {
      return disconnect(s, reason_code::receive_maximum_exceeded);
    }
    bool ok = allowed(s, action::publish, topic_name) &&
              (!p.retain || allowed(s, action::retain_publish, topic_name));
    if (!ok && !is_v5(s)) {  // 3.1.1 has no way to say no: close (as AWS IoT does)
      return disconnect(s, reason_code::not_authorized);
    }
    const auto writes = store::queued_by_this_thread();
    if (ok && p.qos == 2) {
      s.incoming_qos2.insert(p.packet_id);
      if (db && s.durable) db->put_incoming_qos2(s.client_id, p.packet_id);
    }
    if (ok) {
      message m;
      m.topic = std::move(topic_name);
      m.payload = to_buffer(p.payload);
      m.qos = p.qos;
      m.retain = p.retain;
      if (is_v5(s)) m.properties = mqtt::properties(p.properties);
      m.publisher = s.client_id;
      // Route outside this session's lock: deliveries may come back to it (no-local aside).
      s.mutex.unlock();
      accept_message(std::move(m), &s);
      s.mutex.lock();
      if (s.connection != c) return;  // taken over meanwhile: the client resends
    }
    // Something durable was queued (a row for a persistent session, a retained
    // change, a QoS 2 packet id): acknowledge only once it is committed.
    const bool owed = store::queued_by_this_thread() != writes;
    const auto refused = ok ? reason_code::success : reason_code::not_authorized;
    if (p.qos == 1) {
      mqtt::puback ack;
      ack.packet_id = p.packet_id;
      ack.reason = refused;
      send_ack(c, sp, mqtt::packet{ack}, ok, owed);
    } else if (p.qos == 2) {
      mqtt::pubrec rec;
      rec.packet_id = p.packet_id;
      rec.reason = refused;
      send_ack(c, sp, mqtt::packet{rec}, false, owed);
    }
  }

  // PUBACK/PUBREC (caller holds sp->mutex): at once when the PUBLISH queued no
  // store write (nothing durable is owed: no persistent session gets it, no
  // retained change) and no earlier ack waits; otherwise after the commit of
  // everything the PUBLISH caused, in order with the earlier acks.
  void send_ack(const net::connection_ptr& c, const session_ptr& sp, const mqtt::packet& ack,
                bool counted, bool owed) {
    std::array<std::byte, 8> small;  // PUBACK/PUBREC: at most 2 + 2 + 1 + 1 bytes here
    std::error_code ec;
    const auto n = mqtt::encode(ack, sp->version, mutable_bytes_view{small}, ec);
    if (ec) return;
    const bytes_view bytes{small.data(), n};
    if (!db || (!owed && sp->pending_acks == 0)) {
      c->send(bytes, nullptr);
      return;
    }
    ++sp->pending_acks;
    if (counted) ++sp->unacked_in;
    std::weak_ptr<net::connection> weak = c;
    db->after_commit([this, weak, sp, counted,
                      bytes = byte_buffer(bytes.begin(), bytes.end())](bool ok) mutable {
      auto conn = weak.lock();
      if (!conn) return;
      std::lock_guard lock(sp->mutex);
      if (sp->connection != conn) return;
      if (sp->pending_acks > 0) --sp->pending_acks;
      if (counted && sp->unacked_in > 0) --sp->unacked_in;
      if (!ok) return disconnect(*sp, reason_code::unspecified_error);  // not durable: no ack
      conn->send(std::move(bytes));
    });
  }

  void on_subscribe(session& s, const mqtt::subscribe_view& p) {
    mqtt::suback ack;
    ack.packet_id = p.packet_id;
    const std::uint32_t identifier =
        is_v5(s) ? p.properties.subscription_identifier().value_or(0) : 0;
    std::vector<std::pair<std::string, mqtt::subscribe_options>> fresh;
    for (const auto& sub : p.subscriptions) {
      if (refused_characters(sub.filter)) return malformed(s);
    }
    for (const auto& sub : p.subscriptions) {
      std::string filter(sub.filter);
      if (!allowed(s, action::subscribe, filter)) {
        ack.reason_codes.push_back(is_v5(s) ? reason_code::not_authorized
                                            : reason_code::unspecified_error);
        continue;
      }
      topic::subscription_options o;
      o.qos = sub.options.qos;
      o.no_local = sub.options.no_local;
      o.retain_as_published = sub.options.retain_as_published;
      o.retain_handling = sub.options.retain_handling;
      o.identifier = identifier;
      auto added = index.subscribe(filter, s.id, o);
      if (!added) {
        ack.reason_codes.push_back(is_v5(s) ? reason_code::topic_filter_invalid
                                            : reason_code::unspecified_error);
        continue;
      }
      s.subscriptions[filter] = sub.options;
      if (db && s.durable) db->put_subscription(s.client_id, filter, sub.options, identifier);
      ack.reason_codes.push_back(static_cast<reason_code>(sub.options.qos));
      const bool send_retained =
          !topic::is_shared(filter) &&
          (sub.options.retain_handling == 0 || (sub.options.retain_handling == 1 && *added));
      if (send_retained) fresh.emplace_back(filter, sub.options);
    }
    send_packet(s.connection, mqtt::packet{std::move(ack)}, s.version);
    // Retained messages after the SUBACK (MQTT-3.3.1-9).
    std::vector<message_ptr> matches;
    for (const auto& [filter, opts] : fresh) {
      {
        std::lock_guard lock(retained_mutex);
        (void)retained.for_each(
            filter, [&](std::string_view, const message_ptr& m) { matches.push_back(m); });
      }
      for (auto& m : matches) {
        if (!allowed(s, action::receive, m->topic)) continue;
        outgoing o;
        o.msg = m;
        o.qos = std::min(m->qos, opts.qos);
        o.retain = true;
        if (identifier != 0) o.identifiers.push_back(identifier);
        o.received = clock::now();
        persist(s, o);
        s.queue.push_back(std::move(o));
      }
      matches.clear();
    }
    pump(s);
  }

  void on_unsubscribe(session& s, const mqtt::unsubscribe_view& p) {
    for (auto filter : p.filters) {
      if (refused_characters(filter)) return malformed(s);
    }
    mqtt::unsuback ack;
    ack.packet_id = p.packet_id;
    for (auto filter : p.filters) {
      const bool had = index.unsubscribe(filter, s.id);
      s.subscriptions.erase(std::string(filter));
      if (db && s.durable && had) db->drop_subscription(s.client_id, std::string(filter));
      ack.reason_codes.push_back(had ? reason_code::success : reason_code::no_subscription_existed);
    }
    send_packet(s.connection, mqtt::packet{std::move(ack)}, s.version);
  }

  void on_ack(session& s, std::uint16_t id, mqtt::packet_type type) {
    auto it = s.inflight.find(id);
    if (type == mqtt::packet_type::pubrec) {
      if (it != s.inflight.end() && !it->second.released) {
        it->second.released = true;
        if (db && it->second.seq != 0) {  // PUBREL once "released" is committed
          db->set_delivery_state(it->second.seq, id, true);
          return after_commit(s, id, it->second.seq, true);
        }
      }
      mqtt::pubrel rel;
      rel.packet_id = id;
      if (it == s.inflight.end()) rel.reason = reason_code::packet_identifier_not_found;
      send_packet(s.connection, mqtt::packet{rel}, s.version);
      return;
    }
    if (it != s.inflight.end()) {
      forget(it->second);
      s.inflight.erase(it);
    }
    pump(s);
  }

  void end_session(const net::connection_ptr& c, bool send_will) {
    if (!c->user) return;
    auto s = std::static_pointer_cast<session>(c->user);
    c->user.reset();
    std::optional<message> will, event;
    std::uint32_t delay = 0, expiry = 0;
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(s->mutex);
      if (s->connection != c) return;  // taken over already
      s->connection = nullptr;
      s->offline_since = clock::now();
      if (send_will) will = std::move(s->will);
      s->will.reset();
      delay = s->will_delay;
      expiry = s->expiry_seconds;
      generation = s->connects;
      event = presence(*s, "disconnected",
                       s->disconnect_reason.empty() ? "CONNECTION_LOST" : s->disconnect_reason);
      // A message in flight stays for the next connection; QoS 0 is gone.
    }
    publish_own(std::move(event));
    if (will) {
      will_or_delay(s, std::move(*will), delay, expiry, generation);
    } else {
      drop_will_row(*s, generation);
    }
    // Counted last: once `connected` drops, the will is published or scheduled.
    stats.connected.fetch_sub(1, std::memory_order_relaxed);
    stats.disconnects.fetch_add(1, std::memory_order_relaxed);
    if (expiry == 0) expire(s);
  }

  void expire(const session_ptr& s) {
    std::lock_guard lock(clients_mutex);
    auto it = clients.find(s->client_id);
    if (it == clients.end() || it->second != s) return;
    std::lock_guard slock(s->mutex);
    if (s->connection) return;  // reconnected meanwhile
    kill_session(*s);           // its rows go with it
    clients.erase(it);
  }

  // Wills whose delay is over (or whose session ends); called from tick().
  void fire_wills(clock::time_point now) {
    std::vector<pending_will> due;
    {
      std::lock_guard lock(wills_mutex);
      std::erase_if(wills, [&](pending_will& w) {
        if (w.due > now) return false;
        due.push_back(std::move(w));
        return true;
      });
    }
    for (auto& w : due) {
      bool live = false;
      {
        std::lock_guard lock(w.owner->mutex);
        live = w.owner->connects == w.generation && !w.owner->connection;
      }
      if (live && (w.checked || allowed(*w.owner, action::publish, w.will.topic)))
        accept_message(std::move(w.will), nullptr);
      if (live) drop_will_row(*w.owner, w.generation);  // published: the row goes
    }
  }

  void load(stored_state state) {
    const auto now = clock::now();
    const auto wall = wall_ms();
    std::lock_guard lock(clients_mutex);
    for (auto& st : state.sessions) {
      auto s = std::make_shared<session>();
      s->id = next_id.fetch_add(1);
      s->client_id = st.client_id;
      s->info.client_id = st.client_id;
      s->info.version = st.version;
      s->version = st.version;
      s->expiry_seconds = st.expiry;
      s->offline_since = now;  // the downtime does not count against the expiry
      s->durable = true;
      s->clean_start = false;
      clients.emplace(st.client_id, s);
      add(s);
    }
    for (auto& sub : state.subscriptions) {
      auto it = clients.find(sub.client_id);
      if (it == clients.end()) continue;
      topic::subscription_options o;
      o.qos = sub.options.qos;
      o.no_local = sub.options.no_local;
      o.retain_as_published = sub.options.retain_as_published;
      o.retain_handling = sub.options.retain_handling;
      o.identifier = sub.identifier;
      if (index.subscribe(sub.filter, it->second->id, o)) {
        it->second->subscriptions[sub.filter] = sub.options;
      }
    }
    {
      std::lock_guard rlock(retained_mutex);
      for (auto& m : state.retained) (void)retained.set(m->topic, m);
    }
    for (auto& d : state.deliveries) {
      auto it = clients.find(d.client_id);
      if (it == clients.end()) {
        db->remove_delivery(d.seq);
        continue;
      }
      outgoing o;
      o.msg = std::move(d.msg);
      o.qos = d.qos;
      o.retain = d.retain;
      o.identifiers = std::move(d.identifiers);
      o.received = now - std::chrono::milliseconds(std::max<std::int64_t>(wall - d.received_ms, 0));
      o.seq = d.seq;
      if (d.packet_id != 0) {  // QoS 2 the client has seen: same id (PUBLISH DUP or PUBREL)
        o.packet_id = d.packet_id;
        o.released = d.released;
        it->second->inflight.emplace(d.packet_id, std::move(o));
      } else {
        it->second->queue.push_back(std::move(o));
      }
    }
    for (auto& [client_id, id] : state.incoming_qos2) {
      if (auto it = clients.find(client_id); it != clients.end()) {
        it->second->incoming_qos2.insert(id);
      }
    }
    // Wills: of connections open when the process stopped (lost now: due at
    // once, or after the delay for a session that lives on), or already waiting.
    std::lock_guard wlock(wills_mutex);
    for (auto& w : state.wills) {
      session_ptr owner;
      if (auto it = clients.find(w.client_id); it != clients.end()) {
        owner = it->second;
      } else {  // the session ended with its connection: only the will is left
        owner = std::make_shared<session>();
        owner->client_id = w.client_id;
        owner->info.client_id = w.client_id;
      }
      auto due = now;
      if (w.due_ms != 0) {
        due = now + std::chrono::milliseconds(std::max<std::int64_t>(w.due_ms - wall, 0));
      } else if (owner->durable && w.delay > 0) {
        const auto wait = std::chrono::seconds(std::min(w.delay, owner->expiry_seconds));
        due = now + wait;
        db->put_will(w.client_id, w.msg, w.delay,
                     wall + std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
      }
      will_rows.insert(w.client_id);
      wills.push_back({due, owner, owner->connects, std::move(w.msg), true});
    }
  }
};

broker::broker(broker_options options) : impl_(std::make_unique<impl>(options)) {}
broker::~broker() = default;

void broker::on_authenticate(authenticate_fn fn) { impl_->authenticate = std::move(fn); }
void broker::on_authorize(authorize_fn fn) { impl_->authorize = std::move(fn); }
void broker::on_accepted(publish_hook fn) { impl_->accepted = std::move(fn); }
void broker::on_enhanced_auth(std::string method, enhanced_auth_fn fn) {
  impl_->auth_methods.insert_or_assign(std::move(method), std::move(fn));
}

result<void> broker::open_store(const std::string& path) {
  if (impl_->db) return {};  // open already (a gateway started again)
  auto st = store::open(path, impl_->stats);
  if (!st) return failure{st.fail().code, "broker store " + path + ": " + st.describe(), {}};
  auto state = (*st)->load();
  if (!state)
    return failure{state.fail().code, "broker store " + path + ": " + state.describe(), {}};
  impl_->db = std::move(*st);
  impl_->load(std::move(*state));
  impl_->db->start();
  return {};
}

void broker::publish(const message& m) { impl_->accept_message(m, nullptr); }

void broker::tick(std::chrono::steady_clock::time_point now) {
  std::lock_guard tick_lock(impl_->tick_mutex);
  impl_->fire_wills(now);
  const auto interval = std::chrono::seconds(impl_->options.sys_interval);
  if (interval.count() > 0 && now - impl_->last_sys >= interval) {
    impl_->last_sys = now;
    sys_figures f;
    f.stats = &impl_->stats;
    f.sessions = session_count();
    f.retained = retained_count();
    f.subscriptions = impl_->index.size();
    f.uptime = std::chrono::duration_cast<std::chrono::seconds>(now - impl_->started);
    for (auto& m : sys_messages(f)) impl_->accept_message(std::move(m), nullptr, true);
  }
  std::vector<session_ptr> candidates;
  {
    std::lock_guard lock(impl_->clients_mutex);
    for (auto& [id, s] : impl_->clients) candidates.push_back(s);
  }
  for (auto& s : candidates) {
    bool gone = false;
    {
      std::lock_guard lock(s->mutex);
      if (s->connection || s->expiry_seconds == 0xFFFFFFFF) continue;
      gone = now - s->offline_since >= std::chrono::seconds(s->expiry_seconds);
      std::erase_if(s->queue, [&](outgoing& o) {
        if (!impl::expired(o, now)) return false;
        impl_->forget(o);
        return true;
      });
    }
    if (gone) impl_->expire(s);
  }
}

const broker_stats& broker::stats() const noexcept { return impl_->stats; }

std::size_t broker::retained_count() const {
  std::lock_guard lock(impl_->retained_mutex);
  return impl_->retained.size();
}

std::size_t broker::session_count() const {
  std::lock_guard lock(impl_->clients_mutex);
  return impl_->clients.size();
}

void broker::on_packet(const net::connection_ptr& c, const mqtt::packet_view& p) {
  if (const auto* connect = std::get_if<mqtt::connect_view>(&p)) {
    return impl_->on_connect(c, *connect);
  }
  if (const auto* auth = std::get_if<mqtt::auth_view>(&p)) return impl_->on_auth(c, *auth);
  if (!c->user) {  // anything before CONNECT (MQTT-3.1.0-1)
    c->close();
    return;
  }
  auto s = std::static_pointer_cast<session>(c->user);
  std::unique_lock lock(s->mutex);
  if (s->connection != c) return;
  std::visit(
      [&](const auto& packet) {
        using T = std::decay_t<decltype(packet)>;
        if constexpr (std::is_same_v<T, mqtt::publish_view>) {
          impl_->on_publish(c, s, packet);
        } else if constexpr (std::is_same_v<T, mqtt::subscribe_view>) {
          impl_->on_subscribe(*s, packet);
        } else if constexpr (std::is_same_v<T, mqtt::unsubscribe_view>) {
          impl_->on_unsubscribe(*s, packet);
        } else if constexpr (std::is_same_v<T, mqtt::puback_view> ||
                             std::is_same_v<T, mqtt::pubrec_view> ||
                             std::is_same_v<T, mqtt::pubcomp_view>) {
          impl_->on_ack(*s, packet.packet_id, T::type);
        } else if constexpr (std::is_same_v<T, mqtt::pubrel_view>) {
          const bool known = s->incoming_qos2.erase(packet.packet_id) > 0;
          if (known && impl_->db && s->durable) {
            impl_->db->drop_incoming_qos2(s->client_id, packet.packet_id);
          }
          mqtt::pubcomp comp;
          comp.packet_id = packet.packet_id;
          if (!known) comp.reason = reason_code::packet_identifier_not_found;
          send_packet(c, mqtt::packet{comp}, s->version);
        } else if constexpr (std::is_same_v<T, mqtt::pingreq_view>) {
          send_packet(c, mqtt::packet{mqtt::pingresp{}}, s->version);
        } else if constexpr (std::is_same_v<T, mqtt::disconnect_view>) {
          if (is_v5(*s)) {
            if (auto e = packet.properties.session_expiry_interval()) {
              if (s->expiry_seconds == 0 && *e != 0) {  // MQTT-3.14.2-2
                return impl_->disconnect(*s, reason_code::protocol_error);
              }
              s->expiry_seconds = std::min(*e, impl_->options.max_session_expiry);
              if (impl_->db && s->durable && s->expiry_seconds > 0) {
                impl_->db->put_session(s->client_id, s->expiry_seconds, s->version);
              }
            }
          }
          if (packet.reason != reason_code::disconnect_with_will_message) s->will.reset();
          s->disconnect_reason = "CLIENT_INITIATED_DISCONNECT";
          c->close();
        } else {
          impl_->disconnect(*s, reason_code::protocol_error);
        }
      },
      p);
}

void broker::on_protocol_error(const net::connection_ptr& c, mqtt::reason_code reason,
                               const failure&) {
  impl_->stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  if (c->user) {
    auto s = std::static_pointer_cast<session>(c->user);
    std::lock_guard lock(s->mutex);
    s->disconnect_reason = "CLIENT_ERROR";
    impl_->disconnect(*s, reason);
    return;
  }
  // Refused before a session exists: the CONNECT itself (or its will), or a
  // packet of its AUTH exchange. MQTT 5 answers with a CONNACK carrying the
  // reason before the close (3.2.2.2, 4.13.1) whenever the CONNECT got as far as
  // its protocol level; 3.1.1 has return codes only for an unacceptable protocol
  // level (MQTT-3.1.2-2) and a rejected client id (MQTT-3.1.3-9).
  const auto v = c->protocol();
  if (v == protocol_version::v5) {
    return impl_->refuse(c, *v, connack_reason(reason));
  }
  if (v && reason == reason_code::client_identifier_not_valid) return impl_->refuse(c, *v, reason);
  if (!v && reason == reason_code::unsupported_protocol_version) {
    return impl_->refuse(c, protocol_version::v3_1_1, reason);  // return code 0x01
  }
  c->close();
}

void broker::on_close(const net::connection_ptr& c, std::error_code) {
  impl_->end_auth(c);
  impl_->end_session(c, true);
}

}  // namespace iotblocks::gateway
