#include <iotblocks/broker/sqlite_store.hpp>

#include "core/group_commit.hpp"
#include "core/sqlite.hpp"

#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <variant>

namespace iotblocks::broker {

namespace {

constexpr std::string_view schema = R"(
CREATE TABLE IF NOT EXISTS sessions(
  client_id TEXT PRIMARY KEY, expiry INTEGER NOT NULL, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions(
  client_id TEXT NOT NULL, filter TEXT NOT NULL, options INTEGER NOT NULL,
  identifier INTEGER NOT NULL, PRIMARY KEY(client_id, filter)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS retained(
  topic TEXT PRIMARY KEY, payload BLOB, properties BLOB, qos INTEGER NOT NULL,
  publisher TEXT NOT NULL, modified_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS deliveries(
  seq INTEGER PRIMARY KEY, client_id TEXT NOT NULL, topic TEXT NOT NULL, payload BLOB,
  properties BLOB, qos INTEGER NOT NULL, retain INTEGER NOT NULL, identifiers BLOB,
  received_ms INTEGER NOT NULL, publisher TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_by_client ON deliveries(client_id);
CREATE TABLE IF NOT EXISTS wills(
  client_id TEXT PRIMARY KEY, topic TEXT NOT NULL, payload BLOB, properties BLOB,
  qos INTEGER NOT NULL, retain INTEGER NOT NULL, publisher TEXT NOT NULL,
  delay INTEGER NOT NULL, due_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS incoming_qos2(
  client_id TEXT NOT NULL, packet_id INTEGER NOT NULL,
  PRIMARY KEY(client_id, packet_id)) WITHOUT ROWID;
)";

// Columns added after the first release of the schema (a file from then is upgraded).
constexpr std::string_view delivery_state_columns = R"(
ALTER TABLE deliveries ADD COLUMN packet_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN released INTEGER NOT NULL DEFAULT 0;
)";
constexpr std::string_view retained_time_column = R"(
ALTER TABLE retained ADD COLUMN modified_ms INTEGER NOT NULL DEFAULT 0;
)";

byte_buffer pack_ids(const std::vector<std::uint32_t>& ids) {
  byte_buffer out(ids.size() * 4);
  if (!ids.empty()) std::memcpy(out.data(), ids.data(), out.size());
  return out;
}

std::vector<std::uint32_t> unpack_ids(bytes_view b) {
  std::vector<std::uint32_t> out(b.size() / 4);
  if (!out.empty()) std::memcpy(out.data(), b.data(), out.size() * 4);
  return out;
}

message read_message(const sqlite::statement& q, int topic, int payload, int props, int qos,
                     int publisher) {
  message m;
  m.topic = std::string(q.column_text(topic));
  m.payload = to_buffer(q.column_blob(payload));
  if (!q.column_is_null(props)) {
    m.properties = mqtt::properties(mqtt::properties_view(q.column_blob(props)));
  }
  m.qos = static_cast<std::uint8_t>(q.column_int64(qos));
  m.publisher = std::string(q.column_text(publisher));
  return m;
}

}  // namespace

struct sqlite_store::op {
  enum class kind {
    put_session,
    drop_session,
    put_subscription,
    drop_subscription,
    put_retained,
    drop_retained,
    add_delivery,
    remove_delivery,
    delivery_state,
    put_will,
    drop_will,
    put_incoming,
    drop_incoming,
    callback
  };
  kind k = kind::callback;
  std::string key;   // client id or topic
  std::string key2;  // filter
  message_ptr msg;
  std::uint64_t n = 0;  // seq, received_ms
  std::int64_t t = 0;
  std::uint32_t u = 0;  // expiry, identifier
  std::uint8_t b = 0;   // version, options, qos
  bool flag = false;    // retain
  std::vector<std::uint32_t> ids;
  std::function<void(bool)> done;
};

struct sqlite_store::statements {
  sqlite::database db;
  sqlite::statement put_session, drop_session, drop_session_subs, drop_session_msgs,
      put_subscription, drop_subscription, put_retained, drop_retained, add_delivery,
      remove_delivery, delivery_state, put_will, drop_will, put_incoming, drop_incoming,
      drop_session_incoming;
  void reset_all() noexcept {
    for (auto* st : {&put_session, &drop_session, &drop_session_subs, &drop_session_msgs,
                     &put_subscription, &drop_subscription, &put_retained, &drop_retained,
                     &add_delivery, &remove_delivery, &delivery_state, &put_will, &drop_will,
                     &put_incoming, &drop_incoming, &drop_session_incoming}) {
      st->reset();
    }
  }
};

struct sqlite_store::queue : core::group_commit<op> {
  using core::group_commit<op>::group_commit;
};

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return db.fail();
  if (auto ok = db->exec(schema); !ok) return ok.fail();
  for (const auto& [table, column, upgrade] :
       {std::tuple{"deliveries", "released", delivery_state_columns},
        std::tuple{"retained", "modified_ms", retained_time_column}}) {
    auto has = db->prepare(std::string("SELECT 1 FROM pragma_table_info('") + table +
                           "') WHERE name = '" + column + "'");
    if (!has) return has.fail();
    auto row = has->step();
    if (!row) return row.fail();
    if (!*row) {
      if (auto ok = db->exec(upgrade); !ok) return ok.fail();
    }
  }
  std::unique_ptr<sqlite_store> s(new sqlite_store());
  auto st = std::make_unique<statements>(
      statements{std::move(*db), {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}});
  auto prep = [&](sqlite::statement& out, std::string_view sql) -> result<void> {
    auto p = st->db.prepare(sql);
    if (!p) return p.fail();
    out = std::move(*p);
    return {};
  };
  for (auto r : {
           prep(st->put_session, "INSERT OR REPLACE INTO sessions VALUES(?1, ?2, ?3)"),
           prep(st->drop_session, "DELETE FROM sessions WHERE client_id = ?1"),
           prep(st->drop_session_subs, "DELETE FROM subscriptions WHERE client_id = ?1"),
           prep(st->drop_session_msgs, "DELETE FROM deliveries WHERE client_id = ?1"),
           prep(st->put_subscription,
                "INSERT OR REPLACE INTO subscriptions VALUES(?1, ?2, ?3, ?4)"),
           prep(st->drop_subscription,
                "DELETE FROM subscriptions WHERE client_id = ?1 AND filter = ?2"),
           prep(st->put_retained, "INSERT OR REPLACE INTO retained VALUES(?1, ?2, ?3, ?4, ?5, ?6)"),
           prep(st->drop_retained, "DELETE FROM retained WHERE topic = ?1"),
           prep(st->add_delivery,
                "INSERT INTO deliveries(seq, client_id, topic, payload, properties, qos, retain, "
                "identifiers, received_ms, publisher) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                "?10)"),
           prep(st->remove_delivery, "DELETE FROM deliveries WHERE seq = ?1"),
           prep(st->delivery_state,
                "UPDATE deliveries SET packet_id = ?2, released = ?3 WHERE seq = ?1"),
           prep(st->put_will,
                "INSERT OR REPLACE INTO wills VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
           prep(st->drop_will, "DELETE FROM wills WHERE client_id = ?1"),
           prep(st->put_incoming, "INSERT OR REPLACE INTO incoming_qos2 VALUES(?1, ?2)"),
           prep(st->drop_incoming,
                "DELETE FROM incoming_qos2 WHERE client_id = ?1 AND packet_id = ?2"),
           prep(st->drop_session_incoming, "DELETE FROM incoming_qos2 WHERE client_id = ?1"),
       }) {
    if (!r) return r.fail();
  }
  s->db_ = std::move(st);
  s->queue_ =
      std::make_unique<queue>([raw = s.get()](std::vector<op>& batch) { raw->commit(batch); });
  return s;
}

sqlite_store::~sqlite_store() = default;  // queue_ commits what is queued, then db_ closes

result<stored_state> sqlite_store::load() {
  stored_state out;
  auto& db = db_->db;
  auto q = db.prepare("SELECT client_id, expiry, version FROM sessions");
  if (!q) return q.fail();
  for (;;) {
    auto row = q->step();
    if (!row) return row.fail();
    if (!*row) break;
    out.sessions.push_back({std::string(q->column_text(0)),
                            static_cast<std::uint32_t>(q->column_int64(1)),
                            static_cast<mqtt::protocol_version>(q->column_int64(2))});
  }
  q = db.prepare("SELECT client_id, filter, options, identifier FROM subscriptions");
  if (!q) return q.fail();
  for (;;) {
    auto row = q->step();
    if (!row) return row.fail();
    if (!*row) break;
    out.subscriptions.push_back(
        {std::string(q->column_text(0)), std::string(q->column_text(1)),
         mqtt::subscribe_options::from_byte(static_cast<std::uint8_t>(q->column_int64(2))),
         static_cast<std::uint32_t>(q->column_int64(3))});
  }
  q = db.prepare("SELECT topic, payload, properties, qos, publisher, modified_ms FROM retained");
  if (!q) return q.fail();
  for (;;) {
    auto row = q->step();
    if (!row) return row.fail();
    if (!*row) break;
    auto m = read_message(*q, 0, 1, 2, 3, 4);
    m.retain = true;
    m.received_ms = q->column_int64(5);
    out.retained.push_back(std::make_shared<const message>(std::move(m)));
  }
  q = db.prepare(
      "SELECT seq, client_id, topic, payload, properties, qos, retain, identifiers, received_ms, "
      "publisher, packet_id, released FROM deliveries ORDER BY seq");
  if (!q) return q.fail();
  for (;;) {
    auto row = q->step();
    if (!row) return row.fail();
    if (!*row) break;
    stored_delivery d;
    d.seq = static_cast<std::uint64_t>(q->column_int64(0));
    d.client_id = std::string(q->column_text(1));
    auto m = read_message(*q, 2, 3, 4, 5, 9);
    d.qos = m.qos;
    d.retain = q->column_int64(6) != 0;
    m.retain = d.retain;
    d.msg = std::make_shared<const message>(std::move(m));
    d.identifiers = unpack_ids(q->column_blob(7));
    d.received_ms = q->column_int64(8);
    d.packet_id = static_cast<std::uint16_t>(q->column_int64(10));
    d.released = q->column_int64(11) != 0;
    if (d.seq >= next_seq_) next_seq_ = d.seq + 1;
    out.deliveries.push_back(std::move(d));
  }
  q = db.prepare(
      "SELECT client_id, topic, payload, properties, qos, retain, publisher, delay, due_ms "
      "FROM wills");
  if (!q) return q.fail();
  for (;;) {
    auto row = q->step();
    if (!row) return row.fail();
    if (!*row) break;
    stored_will w;
    w.client_id = std::string(q->column_text(0));
    w.msg = read_message(*q, 1, 2, 3, 4, 6);
    w.msg.retain = q->column_int64(5) != 0;
    w.delay = static_cast<std::uint32_t>(q->column_int64(7));
    w.due_ms = q->column_int64(8);
    out.wills.push_back(std::move(w));
  }
  q = db.prepare("SELECT client_id, packet_id FROM incoming_qos2");
  if (!q) return q.fail();
  for (;;) {
    auto row = q->step();
    if (!row) return row.fail();
    if (!*row) break;
    out.incoming_qos2.emplace_back(std::string(q->column_text(0)),
                                   static_cast<std::uint16_t>(q->column_int64(1)));
  }
  return out;
}

void sqlite_store::start() { queue_->start(); }

void sqlite_store::enqueue(op o) { queue_->push(std::move(o)); }

void sqlite_store::put_session(const std::string& client_id, std::uint32_t expiry,
                               mqtt::protocol_version v) {
  op o;
  o.k = op::kind::put_session;
  o.key = client_id;
  o.u = expiry;
  o.b = static_cast<std::uint8_t>(v);
  enqueue(std::move(o));
}

void sqlite_store::drop_session(const std::string& client_id) {
  op o;
  o.k = op::kind::drop_session;
  o.key = client_id;
  enqueue(std::move(o));
}

void sqlite_store::put_subscription(const std::string& client_id, const std::string& filter,
                                    mqtt::subscribe_options opts, std::uint32_t identifier) {
  op o;
  o.k = op::kind::put_subscription;
  o.key = client_id;
  o.key2 = filter;
  o.b = opts.to_byte();
  o.u = identifier;
  enqueue(std::move(o));
}

void sqlite_store::drop_subscription(const std::string& client_id, const std::string& filter) {
  op o;
  o.k = op::kind::drop_subscription;
  o.key = client_id;
  o.key2 = filter;
  enqueue(std::move(o));
}

void sqlite_store::put_retained(const message_ptr& m) {
  op o;
  o.k = op::kind::put_retained;
  o.msg = m;
  enqueue(std::move(o));
}

void sqlite_store::drop_retained(const std::string& topic) {
  op o;
  o.k = op::kind::drop_retained;
  o.key = topic;
  enqueue(std::move(o));
}

std::uint64_t sqlite_store::add_delivery(const std::string& client_id, const message_ptr& m,
                                         std::uint8_t qos, bool retain,
                                         const std::vector<std::uint32_t>& identifiers,
                                         std::int64_t received_ms) {
  op o;
  o.k = op::kind::add_delivery;
  o.key = client_id;
  o.msg = m;
  o.b = qos;
  o.flag = retain;
  o.ids = identifiers;
  o.t = received_ms;
  // The sequence number is taken under the queue lock so rows go in in order.
  std::uint64_t seq = 0;
  queue_->push_with([&](std::vector<op>& q) {
    seq = o.n = next_seq_++;
    q.push_back(std::move(o));
  });
  return seq;
}

void sqlite_store::remove_delivery(std::uint64_t seq) {
  op o;
  o.k = op::kind::remove_delivery;
  o.n = seq;
  enqueue(std::move(o));
}

void sqlite_store::set_delivery_state(std::uint64_t seq, std::uint16_t packet_id, bool released) {
  op o;
  o.k = op::kind::delivery_state;
  o.n = seq;
  o.u = packet_id;
  o.flag = released;
  enqueue(std::move(o));
}

void sqlite_store::put_will(const std::string& client_id, const message& will, std::uint32_t delay,
                            std::int64_t due_ms) {
  op o;
  o.k = op::kind::put_will;
  o.key = client_id;
  o.msg = std::make_shared<const message>(will);
  o.u = delay;
  o.t = due_ms;
  enqueue(std::move(o));
}

void sqlite_store::drop_will(const std::string& client_id) {
  op o;
  o.k = op::kind::drop_will;
  o.key = client_id;
  enqueue(std::move(o));
}

void sqlite_store::put_incoming_qos2(const std::string& client_id, std::uint16_t packet_id) {
  op o;
  o.k = op::kind::put_incoming;
  o.key = client_id;
  o.u = packet_id;
  enqueue(std::move(o));
}

void sqlite_store::drop_incoming_qos2(const std::string& client_id, std::uint16_t packet_id) {
  op o;
  o.k = op::kind::drop_incoming;
  o.key = client_id;
  o.u = packet_id;
  enqueue(std::move(o));
}

void sqlite_store::after_commit(std::function<void(bool)> fn) {
  op o;
  o.done = std::move(fn);
  enqueue(std::move(o));
}

bool sqlite_store::apply(const op& o) {
  auto& s = *db_;
  auto props = [](const message& m) {
    return m.properties.bytes().empty() ? std::optional<bytes_view>{}
                                        : std::optional<bytes_view>{m.properties.bytes()};
  };
  auto bind_props = [&](sqlite::statement& st, int i, const message& m) {
    if (auto p = props(m)) {
      st.bind(i, *p);
    } else {
      st.bind_null(i);
    }
  };
  switch (o.k) {
    case op::kind::put_session:
      return s.put_session.bind(1, o.key)
          .bind(2, static_cast<std::int64_t>(o.u))
          .bind(3, static_cast<std::int64_t>(o.b))
          .run()
          .ok();
    case op::kind::drop_session:
      return s.drop_session.bind(1, o.key).run().ok() &&
             s.drop_session_subs.bind(1, o.key).run().ok() &&
             s.drop_session_msgs.bind(1, o.key).run().ok() &&
             s.drop_session_incoming.bind(1, o.key).run().ok();
    case op::kind::put_subscription:
      return s.put_subscription.bind(1, o.key)
          .bind(2, o.key2)
          .bind(3, static_cast<std::int64_t>(o.b))
          .bind(4, static_cast<std::int64_t>(o.u))
          .run()
          .ok();
    case op::kind::drop_subscription:
      return s.drop_subscription.bind(1, o.key).bind(2, o.key2).run().ok();
    case op::kind::put_retained: {
      const auto& m = *o.msg;
      s.put_retained.bind(1, m.topic).bind(2, bytes_view{m.payload});
      bind_props(s.put_retained, 3, m);
      return s.put_retained.bind(4, static_cast<std::int64_t>(m.qos))
          .bind(5, m.publisher)
          .bind(6, m.received_ms)
          .run()
          .ok();
    }
    case op::kind::drop_retained: return s.drop_retained.bind(1, o.key).run().ok();
    case op::kind::add_delivery: {
      const auto& m = *o.msg;
      auto& st = s.add_delivery;
      st.bind(1, static_cast<std::int64_t>(o.n))
          .bind(2, o.key)
          .bind(3, m.topic)
          .bind(4, bytes_view{m.payload});
      bind_props(st, 5, m);
      const auto ids = pack_ids(o.ids);
      return st.bind(6, static_cast<std::int64_t>(o.b))
          .bind(7, o.flag ? 1 : 0)
          .bind(8, bytes_view{ids})
          .bind(9, o.t)
          .bind(10, m.publisher)
          .run()
          .ok();
    }
    case op::kind::remove_delivery:
      return s.remove_delivery.bind(1, static_cast<std::int64_t>(o.n)).run().ok();
    case op::kind::delivery_state:
      return s.delivery_state.bind(1, static_cast<std::int64_t>(o.n))
          .bind(2, static_cast<std::int64_t>(o.u))
          .bind(3, o.flag ? 1 : 0)
          .run()
          .ok();
    case op::kind::put_will: {
      const auto& m = *o.msg;
      auto& st = s.put_will;
      st.bind(1, o.key).bind(2, m.topic).bind(3, bytes_view{m.payload});
      bind_props(st, 4, m);
      return st.bind(5, static_cast<std::int64_t>(m.qos))
          .bind(6, m.retain ? 1 : 0)
          .bind(7, m.publisher)
          .bind(8, static_cast<std::int64_t>(o.u))
          .bind(9, o.t)
          .run()
          .ok();
    }
    case op::kind::drop_will: return s.drop_will.bind(1, o.key).run().ok();
    case op::kind::put_incoming:
      return s.put_incoming.bind(1, o.key).bind(2, static_cast<std::int64_t>(o.u)).run().ok();
    case op::kind::drop_incoming:
      return s.drop_incoming.bind(1, o.key).bind(2, static_cast<std::int64_t>(o.u)).run().ok();
    case op::kind::callback: return true;
  }
  return true;
}

void sqlite_store::commit(std::vector<op>& batch) {
  std::size_t writes = 0;
  for (const auto& o : batch) writes += o.k != op::kind::callback ? 1 : 0;
  bool ok = true;
  if (writes > 0) {
    // A failed statement stays mid-step: reset every one before the next batch.
    sqlite::transaction tx{db_->db};
    ok = tx.begun().ok();
    for (const auto& o : batch) {
      if (!ok) break;
      ok = apply(o);
    }
    if (ok) ok = tx.commit().ok();
    if (!ok) db_->reset_all();
    if (ok) {
      stats_.commits.fetch_add(1, std::memory_order_relaxed);
      stats_.writes.fetch_add(writes, std::memory_order_relaxed);
    } else {
      stats_.failures.fetch_add(1, std::memory_order_relaxed);
    }
  }
  for (auto& o : batch) {
    if (o.done) o.done(ok);
  }
}

}  // namespace iotblocks::broker
