// PUBLISH in and out: routing, QoS 1/2 flows, acknowledgements after commits,
// subscriptions and retained messages.
#include "broker/broker_impl.hpp"

#include <cstring>

namespace iotblocks::broker {

// A packet refused as malformed for its control characters (caller holds s.mutex).
void broker::impl::malformed(session& s) {
  stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  s.disconnect_reason = "CLIENT_ERROR";
  disconnect(s, reason_code::malformed_packet, "control character in a client id or topic");
}

void broker::impl::report_client_error(const client_info& info, reason_code why,
                                       std::string_view text) const {
  switch (why) {
    case reason_code::malformed_packet:
    case reason_code::protocol_error:
    case reason_code::receive_maximum_exceeded:
    case reason_code::topic_alias_invalid:
    case reason_code::packet_too_large:
    case reason_code::payload_format_invalid:
    case reason_code::unsupported_protocol_version:
    case reason_code::client_identifier_not_valid: break;
    default: return;
  }
  if (client_error) client_error(info, why, text.empty() ? mqtt::name(why) : text);
}

void broker::impl::disconnect(session& s, reason_code why, std::string_view text) {
  report_client_error(s.info, why, text);
  if (s.disconnect_reason.empty()) s.disconnect_reason = "SERVER_INITIATED_DISCONNECT";
  if (s.connection && is_v5(s)) {
    mqtt::disconnect d;
    d.reason = why;
    send_packet(s.connection, mqtt::packet{d}, s.version);
  }
  if (s.connection) s.connection->close();
}

// Encodes the PUBLISH of `o` for this subscriber (caller holds s.mutex and
// s.connection is set): only the head (topic or alias, packet id, properties)
// is encoded here; a small packet goes out as one copy from the stack, a
// large payload is shared with every other subscriber, never copied.
void broker::impl::transmit(session& s, outgoing& o, bool dup) {
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
      const auto age = std::chrono::duration_cast<std::chrono::seconds>(now() - o.received);
      const auto left = static_cast<std::int64_t>(*expiry) - age.count();
      props.remove(mqtt::property_id::message_expiry_interval);
      props.set_message_expiry_interval(
          static_cast<std::uint32_t>(std::max<std::int64_t>(left, 0)));
    }
    for (auto id : o.identifiers) props.add_subscription_identifier(id);
    // Outgoing topic aliases, within the client's Topic Alias Maximum: the
    // first topics get one, later ones go out in full.
    if (s.client_alias_maximum > 0) {
      if (!s.aliases) s.aliases = std::make_unique<topic_aliases>();
      auto& out = s.aliases->out;
      if (auto it = out.find(m.topic); it != out.end()) {
        props.set_topic_alias(it->second);
        p.topic = {};
      } else if (out.size() < s.client_alias_maximum) {
        new_alias = static_cast<std::uint16_t>(out.size() + 1);
        out.emplace(m.topic, new_alias);
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
    if (new_alias != 0) s.aliases->out.erase(m.topic);      // the client never saw it
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
    s.connection->send(bytes_view{buf}, shared_bytes(o.msg, &m.payload));
  }
}

std::uint16_t broker::impl::next_packet_id(session& s) {
  for (;;) {
    const auto id = s.next_packet_id++;
    if (s.next_packet_id == 0) s.next_packet_id = 1;
    if (id != 0 && !s.inflight.count(id)) return id;
  }
}

// Sends queued messages while the window allows (caller holds s.mutex).
void broker::impl::pump(session& s) {
  if (!s.connection) return;
  const auto now = this->now();
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
        write().set_delivery_state(it->second.seq, it->first, false);
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
void broker::impl::after_commit(session& s, std::uint16_t id, std::uint64_t seq, bool pubrel) {
  std::weak_ptr<connection> weak = s.connection;
  db->after_commit([this, life = std::weak_ptr<void>(alive), weak, sp = s.shared_from_this(), id,
                    seq, pubrel](bool ok) {
    auto conn = weak.lock();
    if (!conn || life.expired()) return;
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
void broker::impl::persist(session& s, outgoing& o) {
  if (db && s.durable && o.qos > 0) {
    o.seq = write().add_delivery(s.client_id, o.msg, o.qos, o.retain, o.identifiers, wall_ms());
  }
}

void broker::impl::forget(outgoing& o) {
  if (db && o.seq != 0) write().remove_delivery(o.seq);
  o.seq = 0;
}

void broker::impl::deliver(session& s, outgoing o) {
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

void broker::impl::route(const message_ptr& m, const session* from) {
  static thread_local topic::match_result found;
  topic::match_context ctx;
  if (from != nullptr) {
    ctx.publisher = from->id;
    ctx.publisher_client_id = from->client_id;
  }
  index.match(m->topic, found, ctx);
  const auto now = this->now();
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
void broker::impl::accept_message(message m, session* from, bool own) {
  if (!own) stats.messages_in.fetch_add(1, std::memory_order_relaxed);
  m.received_ms = wall_ms();
  auto ptr = std::make_shared<const message>(std::move(m));
  if (ptr->retain) {
    std::lock_guard lock(retained_mutex);
    const bool durable = db && !ptr->topic.starts_with("$SYS/");
    if (ptr->payload.empty()) {
      if (retained.erase(ptr->topic) && durable) write().drop_retained(ptr->topic);
    } else {
      (void)retained.set(ptr->topic, ptr);
      if (durable) write().put_retained(ptr);
    }
  }
  route(ptr, from);
  if (accepted) accepted(*ptr, from != nullptr ? &from->info : nullptr);
}

// A message a publish gate consumed: counted and seen by on_accepted, never
// routed nor retained.
void broker::impl::consume_message(message m, session* from) {
  stats.messages_in.fetch_add(1, std::memory_order_relaxed);
  if (accepted) accepted(m, from != nullptr ? &from->info : nullptr);
}

void broker::impl::accept_will(message will, const session& owner) {
  const publish_verdict v = publish_gate ? publish_gate(owner.info, will.topic) : publish_verdict{};
  if (v.what == publish_verdict::kind::refuse) return;
  if (v.what == publish_verdict::kind::consume) return consume_message(std::move(will), nullptr);
  accept_message(std::move(will), nullptr);
}

// Caller holds s->mutex (released while routing).
void broker::impl::on_publish(const connection_ptr& c, const session_ptr& sp,
                              const mqtt::publish_view& p) {
  auto& s = *sp;
  if (refused_characters(p.topic)) return malformed(s);
  std::string topic_name(p.topic);
  if (is_v5(s)) {
    if (auto alias = p.properties.topic_alias()) {
      if (*alias == 0 || *alias > options.topic_alias_maximum) {
        return disconnect(s, reason_code::topic_alias_invalid,
                          "topic alias 0 or above the Topic Alias Maximum");
      }
      if (topic_name.empty()) {
        const std::string* aliased = nullptr;
        if (s.aliases) {
          if (auto it = s.aliases->in.find(*alias); it != s.aliases->in.end()) {
            aliased = &it->second;
          }
        }
        if (aliased == nullptr) {
          return disconnect(s, reason_code::protocol_error, "empty topic with an unknown alias");
        }
        topic_name = *aliased;
      } else {
        if (!s.aliases) s.aliases = std::make_unique<topic_aliases>();
        s.aliases->in[*alias] = topic_name;
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
    return disconnect(s, reason_code::receive_maximum_exceeded,
                      "more unacknowledged QoS 1 and 2 PUBLISHes than Receive Maximum");
  }
  const publish_verdict verdict =
      publish_gate ? publish_gate(s.info, topic_name) : publish_verdict{};
  const bool gated = verdict.what == publish_verdict::kind::refuse;
  bool ok = !gated && allowed(s, action::publish, topic_name) &&
            (!p.retain || allowed(s, action::retain_publish, topic_name));
  if (!ok && !is_v5(s)) {  // 3.1.1 has no way to say no: close (as AWS IoT does)
    return disconnect(s, gated ? verdict.reason : reason_code::not_authorized);
  }
  const auto writes = queued_writes;
  if (ok && p.qos == 2) {
    s.incoming_qos2.insert(p.packet_id);
    if (db && s.durable) write().put_incoming_qos2(s.client_id, p.packet_id);
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
    if (verdict.what == publish_verdict::kind::consume) {
      consume_message(std::move(m), &s);
    } else {
      accept_message(std::move(m), &s);
    }
    s.mutex.lock();
    if (s.connection != c) return;  // taken over meanwhile: the client resends
  }
  // Something durable was queued (a row for a persistent session, a retained
  // change, a QoS 2 packet id): acknowledge only once it is committed.
  const bool owed = queued_writes != writes;
  const auto refused = ok      ? reason_code::success
                       : gated ? verdict.reason
                               : reason_code::not_authorized;
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
void broker::impl::send_ack(const connection_ptr& c, const session_ptr& sp, const mqtt::packet& ack,
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
  std::weak_ptr<connection> weak = c;
  db->after_commit([this, life = std::weak_ptr<void>(alive), weak, sp, counted,
                    bytes = byte_buffer(bytes.begin(), bytes.end())](bool ok) mutable {
    auto conn = weak.lock();
    if (!conn || life.expired()) return;
    std::lock_guard lock(sp->mutex);
    if (sp->connection != conn) return;
    if (sp->pending_acks > 0) --sp->pending_acks;
    if (counted && sp->unacked_in > 0) --sp->unacked_in;
    if (!ok) return disconnect(*sp, reason_code::unspecified_error);  // not durable: no ack
    conn->send(bytes_view{bytes}, nullptr);
  });
}

void broker::impl::on_subscribe(session& s, const mqtt::subscribe_view& p) {
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
    if (auto refused = subscribe_gate ? subscribe_gate(s.info, filter) : std::nullopt) {
      ack.reason_codes.push_back(is_v5(s) ? *refused : reason_code::unspecified_error);
      continue;
    }
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
    if (db && s.durable) write().put_subscription(s.client_id, filter, sub.options, identifier);
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
      o.received = now();
      persist(s, o);
      s.queue.push_back(std::move(o));
    }
    matches.clear();
  }
  pump(s);
}

void broker::impl::on_unsubscribe(session& s, const mqtt::unsubscribe_view& p) {
  for (auto filter : p.filters) {
    if (refused_characters(filter)) return malformed(s);
  }
  mqtt::unsuback ack;
  ack.packet_id = p.packet_id;
  for (auto filter : p.filters) {
    const bool had = index.unsubscribe(filter, s.id);
    s.subscriptions.erase(std::string(filter));
    if (db && s.durable && had) write().drop_subscription(s.client_id, std::string(filter));
    ack.reason_codes.push_back(had ? reason_code::success : reason_code::no_subscription_existed);
  }
  send_packet(s.connection, mqtt::packet{std::move(ack)}, s.version);
}

void broker::impl::on_ack(session& s, std::uint16_t id, mqtt::packet_type type) {
  auto it = s.inflight.find(id);
  if (type == mqtt::packet_type::pubrec) {
    if (it != s.inflight.end() && !it->second.released) {
      it->second.released = true;
      if (db && it->second.seq != 0) {  // PUBREL once "released" is committed
        write().set_delivery_state(it->second.seq, id, true);
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

void broker::impl::drop_subscriptions(session& s) {
  for (const auto& [filter, opts] : s.subscriptions) index.unsubscribe(filter, s.id);
  s.subscriptions.clear();
}

}  // namespace iotblocks::broker
