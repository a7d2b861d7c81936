// The broker's store in memory, committed when its owner says so: for tests
// (a restart is a new broker on the same store; a crash is one that never
// commits what it queued) and for devices that keep sessions only while powered.
//
//   auto st = std::make_shared<broker::memory_store>();
//   b.use_store(st).value();
//   ... st->commit();   // applies the queued writes, then runs the after_commit callbacks
//
// Callbacks queued by a broker destroyed since are skipped (a restart): do not
// destroy a broker while commit() runs on another thread.
#pragma once

#include <iotblocks/broker/store.hpp>
#include <iotblocks/core/export.hpp>

#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::broker {

/// Distinct objects: safe. Shared objects: safe.
class memory_store final : public store {
 public:
  /// Applies every queued write (one "transaction"), then runs the callbacks
  /// queued before this call with `ok`; false leaves the state as it was (a
  /// failed commit). Returns the number of writes applied.
  std::size_t commit(bool ok = true);
  /// Writes queued and not yet committed.
  std::size_t pending() const;
  /// Drops the queued writes and callbacks, as a crash would.
  void discard();

  result<stored_state> load() override;
  void put_session(const std::string& client_id, std::uint32_t expiry,
                   mqtt::protocol_version v) override;
  void drop_session(const std::string& client_id) override;
  void put_subscription(const std::string& client_id, const std::string& filter,
                        mqtt::subscribe_options o, std::uint32_t identifier) override;
  void drop_subscription(const std::string& client_id, const std::string& filter) override;
  void put_retained(const message_ptr& m) override;
  void drop_retained(const std::string& topic) override;
  std::uint64_t add_delivery(const std::string& client_id, const message_ptr& m, std::uint8_t qos,
                             bool retain, const std::vector<std::uint32_t>& identifiers,
                             std::int64_t received_ms) override;
  void remove_delivery(std::uint64_t seq) override;
  void set_delivery_state(std::uint64_t seq, std::uint16_t packet_id, bool released) override;
  void put_will(const std::string& client_id, const message& will, std::uint32_t delay,
                std::int64_t due_ms) override;
  void drop_will(const std::string& client_id) override;
  void put_incoming_qos2(const std::string& client_id, std::uint16_t packet_id) override;
  void drop_incoming_qos2(const std::string& client_id, std::uint16_t packet_id) override;
  void after_commit(std::function<void(bool)> fn) override;

 private:
  struct committed {
    std::map<std::string, stored_session> sessions;
    std::map<std::pair<std::string, std::string>, stored_subscription> subscriptions;
    std::map<std::string, message_ptr> retained;
    std::map<std::uint64_t, stored_delivery> deliveries;
    std::map<std::string, stored_will> wills;
    std::set<std::pair<std::string, std::uint16_t>> incoming_qos2;
  };
  using write = std::function<void(committed&)>;
  void queue(write w);

  mutable std::mutex mutex_;
  committed state_;
  std::vector<write> writes_;
  std::vector<std::function<void(bool)>> callbacks_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace iotblocks::broker

IOTBLOCKS_API_END
