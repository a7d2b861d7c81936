// The broker's public face: hooks, store, tick, and the packets a transport hands it.
#include "broker/broker_impl.hpp"

#include <iotblocks/broker/sqlite_store.hpp>

#include <algorithm>

namespace iotblocks::broker {

namespace {

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

}  // namespace

thread_local std::uint64_t broker::impl::queued_writes = 0;

broker::broker(broker_options options, clock::time_point now)
    : impl_(std::make_unique<impl>(options, now)) {}
broker::~broker() = default;

void broker::on_authenticate(authenticate_fn fn) { impl_->authenticate = std::move(fn); }
void broker::on_authenticate_deferred(deferred_authenticate_fn fn) {
  impl_->authenticate_deferred = std::move(fn);
}
void broker::on_authorize(authorize_fn fn) { impl_->authorize = std::move(fn); }
void broker::on_accepted(publish_hook fn) { impl_->accepted = std::move(fn); }
void broker::on_publish_gate(publish_gate_fn fn) { impl_->publish_gate = std::move(fn); }
void broker::on_subscribe_gate(subscribe_gate_fn fn) { impl_->subscribe_gate = std::move(fn); }
void broker::on_client_error(client_error_fn fn) { impl_->client_error = std::move(fn); }
void broker::on_enhanced_auth(std::string method, enhanced_auth_fn fn) {
  impl_->auth_methods.insert_or_assign(std::move(method), std::move(fn));
}

result<void> broker::use_store(std::shared_ptr<store> s) {
  if (impl_->db) return {};  // one store for the broker's life (a gateway started again)
  auto state = s->load();
  if (!state) return state.fail();
  impl_->db = std::move(s);
  impl_->load(std::move(*state));
  impl_->db->start();
  return {};
}

result<void> broker::open_store(const std::string& path) {
  if (impl_->db) return {};
  auto st = sqlite_store::open(path);
  if (!st) return failure{st.fail().code, "broker store " + path + ": " + st.describe(), {}};
  if (auto ok = use_store(std::move(*st)); !ok) {
    return failure{ok.fail().code, "broker store " + path + ": " + ok.describe(), {}};
  }
  return {};
}

void broker::publish(const message& m) { impl_->accept_message(m, nullptr); }

void broker::tick(clock::time_point now) {
  std::lock_guard tick_lock(impl_->tick_mutex);
  if (now > impl_->now())
    impl_->now_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  impl_->fire_wills(now);
  const auto interval = std::chrono::seconds(impl_->options.sys_interval);
  if (interval.count() > 0 && now - impl_->last_sys >= interval) {
    impl_->last_sys = now;
    sys_figures f;
    f.stats = &impl_->stats;
    f.sessions = session_count();
    f.retained = retained_count();
    f.subscriptions = impl_->index.size();
    f.store_commits = store_counters().commits.load(std::memory_order_relaxed);
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
      erase_if(s->queue, [&](outgoing& o) {
        if (!impl::expired(o, now)) return false;
        impl_->forget(o);
        impl_->stats.dropped.fetch_add(1, std::memory_order_relaxed);
        return true;
      });
    }
    if (gone) impl_->expire(s);
  }
}

const broker_stats& broker::stats() const noexcept { return impl_->stats; }

const store_stats& broker::store_counters() const noexcept {
  static const store_stats none;
  return impl_->db ? impl_->db->stats() : none;
}

message_ptr broker::retained(std::string_view topic) const {
  std::lock_guard lock(impl_->retained_mutex);
  const message_ptr* m = impl_->retained.find(topic);
  return m ? *m : nullptr;
}

std::vector<message_ptr> broker::retained_page(std::string_view from, std::size_t limit) const {
  std::vector<message_ptr> all;
  {
    std::lock_guard lock(impl_->retained_mutex);
    (void)impl_->retained.for_each("#", [&](std::string_view topic, const message_ptr& m) {
      if (topic >= from) all.push_back(m);
    });
  }
  const auto by_topic = [](const message_ptr& a, const message_ptr& b) {
    return a->topic < b->topic;
  };
  const std::size_t n = std::min(limit, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), by_topic);
  all.resize(n);
  return all;
}

std::size_t broker::retained_count() const {
  std::lock_guard lock(impl_->retained_mutex);
  return impl_->retained.size();
}

std::size_t broker::session_count() const {
  std::lock_guard lock(impl_->clients_mutex);
  return impl_->clients.size();
}

void broker::on_packet(const connection_ptr& c, const mqtt::packet_view& p) {
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
            impl_->write().drop_incoming_qos2(s->client_id, packet.packet_id);
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
                return impl_->disconnect(*s, reason_code::protocol_error,
                                         "session expiry set on DISCONNECT after 0 on CONNECT");
              }
              s->expiry_seconds = std::min(*e, impl_->options.max_session_expiry);
              if (impl_->db && s->durable && s->expiry_seconds > 0) {
                impl_->write().put_session(s->client_id, s->expiry_seconds, s->version);
              }
            }
          }
          if (packet.reason != reason_code::disconnect_with_will_message) s->will.reset();
          s->disconnect_reason = "CLIENT_INITIATED_DISCONNECT";
          c->close();
        } else {
          impl_->disconnect(*s, reason_code::protocol_error,
                            std::string(mqtt::name(mqtt::type_of(p))) + " from a client");
        }
      },
      p);
}

void broker::on_protocol_error(const connection_ptr& c, mqtt::reason_code reason,
                               std::optional<protocol_version> v, std::string_view why) {
  impl_->stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  if (c->user) {
    auto s = std::static_pointer_cast<session>(c->user);
    std::lock_guard lock(s->mutex);
    s->disconnect_reason = "CLIENT_ERROR";
    impl_->disconnect(*s, reason, why);
    return;
  }
  client_info before;  // no CONNECT accepted yet: the peer is all there is
  before.peer = &c->peer();
  if (v) before.version = *v;
  impl_->report_client_error(before, reason, why);
  // Refused before a session exists: the CONNECT itself (or its will), or a
  // packet of its AUTH exchange. MQTT 5 answers with a CONNACK carrying the
  // reason before the close (3.2.2.2, 4.13.1) whenever the CONNECT got as far as
  // its protocol level; 3.1.1 has return codes only for an unacceptable protocol
  // level (MQTT-3.1.2-2) and a rejected client id (MQTT-3.1.3-9).
  if (v == protocol_version::v5) {
    return impl_->refuse(c, *v, connack_reason(reason));
  }
  if (v && reason == reason_code::client_identifier_not_valid) return impl_->refuse(c, *v, reason);
  if (!v && reason == reason_code::unsupported_protocol_version) {
    return impl_->refuse(c, protocol_version::v3_1_1, reason);  // return code 0x01
  }
  c->close();
}

void broker::on_close(const connection_ptr& c) {
  impl_->end_auth(c);
  impl_->end_session(c, true);
}

}  // namespace iotblocks::broker
