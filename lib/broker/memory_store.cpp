#include <iotblocks/broker/memory_store.hpp>

namespace iotblocks::broker {

void memory_store::queue(write w) {
  std::lock_guard lock(mutex_);
  writes_.push_back(std::move(w));
}

std::size_t memory_store::commit(bool ok) {
  std::vector<write> writes;
  std::vector<std::function<void(bool)>> callbacks;
  {
    std::lock_guard lock(mutex_);
    writes.swap(writes_);
    callbacks.swap(callbacks_);
    if (ok) {
      for (auto& w : writes) w(state_);
      if (!writes.empty()) {
        stats_.commits.fetch_add(1, std::memory_order_relaxed);
        stats_.writes.fetch_add(writes.size(), std::memory_order_relaxed);
      }
    } else if (!writes.empty()) {
      stats_.failures.fetch_add(1, std::memory_order_relaxed);
    }
  }
  for (auto& fn : callbacks) fn(ok);  // outside the lock: they call back into the broker
  return ok ? writes.size() : 0;
}

std::size_t memory_store::pending() const {
  std::lock_guard lock(mutex_);
  return writes_.size();
}

void memory_store::discard() {
  std::lock_guard lock(mutex_);
  writes_.clear();
  callbacks_.clear();
}

result<stored_state> memory_store::load() {
  std::lock_guard lock(mutex_);
  stored_state out;
  for (const auto& [id, s] : state_.sessions) out.sessions.push_back(s);
  for (const auto& [key, s] : state_.subscriptions) out.subscriptions.push_back(s);
  for (const auto& [topic, m] : state_.retained) out.retained.push_back(m);
  for (const auto& [seq, d] : state_.deliveries) out.deliveries.push_back(d);
  for (const auto& [id, w] : state_.wills) out.wills.push_back(w);
  out.incoming_qos2.assign(state_.incoming_qos2.begin(), state_.incoming_qos2.end());
  if (!state_.deliveries.empty())
    next_seq_ = std::max(next_seq_, state_.deliveries.rbegin()->first + 1);
  return out;
}

void memory_store::put_session(const std::string& client_id, std::uint32_t expiry,
                               mqtt::protocol_version v) {
  queue([=](committed& c) { c.sessions[client_id] = {client_id, expiry, v}; });
}

void memory_store::drop_session(const std::string& client_id) {
  queue([=](committed& c) {
    c.sessions.erase(client_id);
    std::erase_if(c.subscriptions, [&](const auto& e) { return e.first.first == client_id; });
    std::erase_if(c.deliveries, [&](const auto& e) { return e.second.client_id == client_id; });
    std::erase_if(c.incoming_qos2, [&](const auto& e) { return e.first == client_id; });
  });
}

void memory_store::put_subscription(const std::string& client_id, const std::string& filter,
                                    mqtt::subscribe_options o, std::uint32_t identifier) {
  queue([=](committed& c) {
    c.subscriptions[{client_id, filter}] = {client_id, filter, o, identifier};
  });
}

void memory_store::drop_subscription(const std::string& client_id, const std::string& filter) {
  queue([=](committed& c) { c.subscriptions.erase({client_id, filter}); });
}

void memory_store::put_retained(const message_ptr& m) {
  queue([=](committed& c) { c.retained[m->topic] = m; });
}

void memory_store::drop_retained(const std::string& topic) {
  queue([=](committed& c) { c.retained.erase(topic); });
}

std::uint64_t memory_store::add_delivery(const std::string& client_id, const message_ptr& m,
                                         std::uint8_t qos, bool retain,
                                         const std::vector<std::uint32_t>& identifiers,
                                         std::int64_t received_ms) {
  std::lock_guard lock(mutex_);
  const auto seq = next_seq_++;
  writes_.push_back([=](committed& c) {
    stored_delivery d;
    d.seq = seq;
    d.client_id = client_id;
    d.msg = m;
    d.qos = qos;
    d.retain = retain;
    d.identifiers = identifiers;
    d.received_ms = received_ms;
    c.deliveries[seq] = std::move(d);
  });
  return seq;
}

void memory_store::remove_delivery(std::uint64_t seq) {
  queue([=](committed& c) { c.deliveries.erase(seq); });
}

void memory_store::set_delivery_state(std::uint64_t seq, std::uint16_t packet_id, bool released) {
  queue([=](committed& c) {
    if (auto it = c.deliveries.find(seq); it != c.deliveries.end()) {
      it->second.packet_id = packet_id;
      it->second.released = released;
    }
  });
}

void memory_store::put_will(const std::string& client_id, const message& will, std::uint32_t delay,
                            std::int64_t due_ms) {
  queue([=](committed& c) { c.wills[client_id] = {client_id, will, delay, due_ms}; });
}

void memory_store::drop_will(const std::string& client_id) {
  queue([=](committed& c) { c.wills.erase(client_id); });
}

void memory_store::put_incoming_qos2(const std::string& client_id, std::uint16_t packet_id) {
  queue([=](committed& c) { c.incoming_qos2.emplace(client_id, packet_id); });
}

void memory_store::drop_incoming_qos2(const std::string& client_id, std::uint16_t packet_id) {
  queue([=](committed& c) { c.incoming_qos2.erase({client_id, packet_id}); });
}

void memory_store::after_commit(std::function<void(bool)> fn) {
  std::lock_guard lock(mutex_);
  callbacks_.push_back(std::move(fn));
}

}  // namespace iotblocks::broker
