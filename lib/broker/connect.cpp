// CONNECT and its refusals, MQTT 5 enhanced authentication (AUTH) and re-authentication.
#include "broker/broker_impl.hpp"

#include <random>

namespace iotblocks::broker {

namespace {

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

std::string random_client_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return "iotblocks-" + std::to_string(rng());
}

}  // namespace

void broker::impl::refuse(const connection_ptr& c, protocol_version v, reason_code why) {
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
      case reason_code::bad_user_name_or_password: ack.reason = static_cast<reason_code>(4); break;
      case reason_code::not_authorized: ack.reason = static_cast<reason_code>(5); break;
      default: ack.reason = static_cast<reason_code>(3); break;
    }
  }
  send_packet(c, mqtt::packet{ack}, v);
  c->close();
}

// A CONNECT naming an Authentication Method: its exchange begins.
void broker::impl::begin_auth(const connection_ptr& c, const mqtt::connect_view& p,
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
void broker::impl::on_auth(const connection_ptr& c, const mqtt::auth_view& a) {
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
void broker::impl::reauthenticate(session& s, const mqtt::auth_view& a) {
  const auto method = a.properties.authentication_method();
  if (s.info.auth_method.empty() || method != std::optional<std::string_view>(s.info.auth_method)) {
    return disconnect(s, reason_code::protocol_error, "AUTH with another method");
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
    more.properties.set_authentication_method(s.info.auth_method).set_authentication_data(st.data);
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

void broker::impl::auth_step(const connection_ptr& c, pending_auth pa, auth_exchange::step st) {
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

void broker::impl::end_auth(const connection_ptr& c) {
  std::lock_guard lock(auth_mutex);
  authenticating.erase(c->id());
  if (auto it = deferred.find(c->id()); it != deferred.end() && it->second.connection == c) {
    deferred.erase(it);
  }
}

void connect_resumer::operator()(reason_code why, std::shared_ptr<const void> credentials) const {
  auto c = connection_.lock();
  if (!c || alive_.expired()) return;
  c->post([alive = alive_, impl = static_cast<broker::impl*>(impl_), c, why,
           credentials = std::move(credentials)]() mutable {
    if (alive.expired()) return;
    impl->resume_connect(c, why, std::move(credentials));
  });
}

void broker::impl::resume_connect(const connection_ptr& c, reason_code why,
                                  std::shared_ptr<const void> credentials) {
  pending_connect pc;
  {
    std::lock_guard lock(auth_mutex);
    auto it = deferred.find(c->id());
    if (it == deferred.end() || it->second.connection != c) return;  // closed, or answered
    pc = std::move(it->second);
    deferred.erase(it);
  }
  if (why != reason_code::success) return refuse(c, pc.connect.version, why);
  if (!credentials) credentials = std::make_shared<const char>(0);  // "resumed", nothing to add
  on_connect(c, view_of(pc.connect), pc.done ? &*pc.done : nullptr, &credentials);
}

void broker::impl::on_connect(const connection_ptr& c, const mqtt::connect_view& p,
                              const auth_done* done, const std::shared_ptr<const void>* resumed) {
  if (resumed == nullptr && authenticate_deferred) {
    std::lock_guard lock(auth_mutex);
    if (deferred.contains(c->id())) {  // a second CONNECT while the first is pending
      deferred.erase(c->id());
      stats.rejected_connects.fetch_add(1, std::memory_order_relaxed);
      return c->close();
    }
  }
  if (c->user) {  // a second CONNECT: protocol error (MQTT-3.1.0-2)
    auto s = std::static_pointer_cast<session>(c->user);
    std::lock_guard lock(s->mutex);
    disconnect(*s, reason_code::protocol_error, "a second CONNECT");
    return;
  }
  if (refused_characters(p.client_id) || (p.will && refused_characters(p.will->topic))) {
    stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
    client_info who;
    who.client_id = std::string(p.client_id);
    who.version = p.version;
    who.peer = &c->peer();
    report_client_error(who, reason_code::malformed_packet,
                        "control character in the client id or will topic");
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
  if (resumed != nullptr) {
    info.credentials = *resumed;
  } else if (authenticate_deferred) {
    // Registered before the hook runs: a hook that answers at once finds it.
    {
      std::lock_guard lock(auth_mutex);
      pending_connect pc{c, mqtt::to_owning(p), {}};
      if (done != nullptr) pc.done = *done;
      deferred.insert_or_assign(c->id(), std::move(pc));
    }
    connect_resumer r;
    r.alive_ = alive;
    r.impl_ = this;
    r.connection_ = c;
    if (authenticate_deferred(p, info, std::move(r))) return;
    std::lock_guard lock(auth_mutex);
    if (auto it = deferred.find(c->id()); it != deferred.end() && it->second.connection == c) {
      deferred.erase(it);
    }
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
  std::unique_ptr<message> old_will;
  std::optional<message> old_presence;
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
        accept_will(std::move(*old_will), *taken);
    }
  }

  std::unique_lock lock(s->mutex);
  s->connection = c;
  s->info = std::move(info);
  s->version = v;
  s->expiry_seconds = expiry;
  s->clean_start = p.clean_start;
  s->aliases.reset();
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
      write().put_session(s->client_id, expiry, v);
      s->durable = true;
    } else if (s->durable) {  // was persistent, now ends with the connection
      write().drop_session(s->client_id);
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
    s->will = std::make_unique<message>(std::move(w));
  }
  if (db) {  // the will survives a restart (authorized now: after one, nobody can ask)
    const bool keep = s->will && allowed(*s, action::publish, s->will->topic);
    std::lock_guard wlock(wills_mutex);
    if (keep) {
      write().put_will(s->client_id, *s->will, s->will_delay, 0);
      will_rows.insert(s->client_id);
    } else if (will_rows.erase(s->client_id)) {
      write().drop_will(s->client_id);
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

}  // namespace iotblocks::broker
