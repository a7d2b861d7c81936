// The broker's state rebuilt from its store after a restart.
#include "broker/broker_impl.hpp"

namespace iotblocks::broker {

void broker::impl::load(stored_state state) {
  const auto now = this->now();
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
      write().remove_delivery(d.seq);
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
      write().put_will(w.client_id, w.msg, w.delay,
                       wall + std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    }
    will_rows.insert(w.client_id);
    wills.push_back({due, owner, owner->connects, std::move(w.msg), true});
  }
}

}  // namespace iotblocks::broker
