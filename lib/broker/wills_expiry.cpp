// The end of connections and sessions: wills (and their delay), session
// expiry, presence events.
#include "broker/broker_impl.hpp"

namespace iotblocks::broker {

// The presence event of `s` (caller holds s.mutex); publish it without locks.
std::optional<message> broker::impl::presence(const session& s, std::string_view event,
                                              std::string_view reason) const {
  if (!options.presence_events) return std::nullopt;
  message m;
  m.topic = "$aws/events/presence/" + std::string(event) + "/" + s.client_id;
  const auto& principal = s.info.username.empty() ? s.client_id : s.info.username;
  const std::string ip = s.info.peer != nullptr ? s.info.peer->address : std::string{};
  m.payload =
      to_buffer(presence_payload(s.client_id, event, {s.session_uuid.data(), s.session_uuid.size()},
                                 principal, ip, s.connects, reason));
  return m;
}

void broker::impl::publish_own(std::optional<message> m) {
  if (m) accept_message(std::move(*m), nullptr, true);
}

// Ends a session for good (caller holds clients_mutex and s.mutex).
void broker::impl::kill_session(session& s) {
  s.dead = true;
  if (db && s.durable) write().drop_session(s.client_id);
  s.durable = false;
  drop_subscriptions(s);
  remove(s);
}

// The will of a connection that ended: now, or after its delay while the
// session lives on (MQTT-3.1.3-9). Call without locks.
void broker::impl::will_or_delay(const session_ptr& s, message will, std::uint32_t delay,
                                 std::uint32_t expiry, std::uint64_t generation) {
  if (delay == 0 || expiry == 0) {
    if (allowed(*s, action::publish, will.topic)) accept_will(std::move(will), *s);
    drop_will_row(*s, generation);
    return;
  }
  const auto wait = std::chrono::seconds(std::min(delay, expiry));
  std::lock_guard slock(s->mutex);
  if (s->connects != generation || s->connection) return;  // a new connection came first
  std::lock_guard lock(wills_mutex);
  if (db && will_rows.count(s->client_id)) {  // the row now says when it is due
    write().put_will(
        s->client_id, will, delay,
        wall_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
  }
  wills.push_back({now() + wait, s, generation, std::move(will)});
}

// The store's will row of a connection that ended, unless a new connection
// of the session replaced it meanwhile. Call without locks.
void broker::impl::drop_will_row(session& s, std::uint64_t generation) {
  if (!db) return;
  std::lock_guard slock(s.mutex);
  if (s.connects != generation) return;
  std::lock_guard lock(wills_mutex);
  if (will_rows.erase(s.client_id)) write().drop_will(s.client_id);
}

void broker::impl::end_session(const connection_ptr& c, bool send_will) {
  if (!c->user) return;
  auto s = std::static_pointer_cast<session>(c->user);
  c->user.reset();
  std::unique_ptr<message> will;
  std::optional<message> event;
  std::uint32_t delay = 0, expiry = 0;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(s->mutex);
    if (s->connection != c) return;  // taken over already
    s->connection = nullptr;
    s->offline_since = now();
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

void broker::impl::expire(const session_ptr& s) {
  std::lock_guard lock(clients_mutex);
  auto it = clients.find(s->client_id);
  if (it == clients.end() || it->second != s) return;
  std::lock_guard slock(s->mutex);
  if (s->connection) return;  // reconnected meanwhile
  kill_session(*s);           // its rows go with it
  clients.erase(it);
}

// Wills whose delay is over (or whose session ends); called from tick().
void broker::impl::fire_wills(clock::time_point now) {
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
      accept_will(std::move(w.will), *w.owner);
    if (live) drop_will_row(*w.owner, w.generation);  // published: the row goes
  }
}

}  // namespace iotblocks::broker
