// The broker's store in one SQLite file (WAL, synchronous=FULL). Writes are
// queued and applied by one store thread in batches, one transaction per batch
// (group commit); after_commit() callbacks run on that thread.
#pragma once

#include <iotblocks/broker/store.hpp>
#include <iotblocks/core/export.hpp>

#include <memory>
#include <string>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::broker {

/// Distinct objects: safe. Shared objects: safe (see store).
class sqlite_store final : public store {
 public:
  /// Opens (or creates) the file, upgrading a schema of an earlier release.
  static result<std::unique_ptr<sqlite_store>> open(const std::string& path);
  ~sqlite_store() override;  ///< applies what is queued, then stops the thread
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  result<stored_state> load() override;
  void start() override;

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

  struct op;

 private:
  sqlite_store() = default;
  void enqueue(op o);
  void commit(std::vector<op>& batch);  ///< on the queue's thread: one transaction
  bool apply(const op& o);

  struct statements;
  struct queue;  ///< core::group_commit<op>
  std::unique_ptr<statements> db_;
  std::unique_ptr<queue> queue_;  ///< after db_: commits what is queued before db_ closes
  std::uint64_t next_seq_ = 1;    ///< under the queue's lock
};

}  // namespace iotblocks::broker

IOTBLOCKS_API_END
