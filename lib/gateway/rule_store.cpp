#include "gateway/rule_store.hpp"

namespace iotblocks::gateway {

result<rule_store> rule_store::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return db.fail();
  // seq orders the replay; document NULL is a deletion.
  if (auto ok = db->exec("CREATE TABLE IF NOT EXISTS rule_change("
                         "name TEXT PRIMARY KEY, seq INTEGER NOT NULL, document TEXT)");
      !ok) {
    return ok.fail();
  }
  return rule_store{std::move(*db)};
}

result<void> rule_store::write(std::string_view name,
                               std::optional<std::string_view> document_json) {
  const std::lock_guard lock{*mutex_};
  auto st = db_.prepare(
      "INSERT OR REPLACE INTO rule_change(name, seq, document) "
      "VALUES(?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM rule_change), ?2)");
  if (!st) return st.fail();
  st->bind(1, name);
  if (document_json) {
    st->bind(2, *document_json);
  } else {
    st->bind_null(2);
  }
  return st->run();  // autocommit: durable (WAL, synchronous=FULL) when this returns
}

result<void> rule_store::save(std::string_view name, std::string_view document_json) {
  return write(name, document_json);
}

result<void> rule_store::erase(std::string_view name) { return write(name, std::nullopt); }

result<void> rule_store::replay(rules::engine& engine) {
  const std::lock_guard lock{*mutex_};
  auto st = db_.prepare("SELECT name, document FROM rule_change ORDER BY seq");
  if (!st) return st.fail();
  for (;;) {
    auto row = st->step();
    if (!row) return row.fail();
    if (!*row) return {};
    const std::string name{st->column_text(0)};
    if (st->column_is_null(1)) {
      engine.remove_rule(name);
      continue;
    }
    if (auto ok = engine.put_rule(name, st->column_text(1)); !ok) {
      return failure{ok.fail().code,
                     "rule " + name + " (changed through the admin API): " + ok.describe(),
                     {}};
    }
  }
}

}  // namespace iotblocks::gateway
