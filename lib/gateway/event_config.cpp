// The event configuration in SQLite: one row per enabled-or-not type and the two dates.
#include <iotblocks/registry/error.hpp>

#include "gateway/event_config.hpp"
#include "sqlite/database.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>

namespace iotblocks::gateway {
namespace {

constexpr std::string_view schema =
    "CREATE TABLE IF NOT EXISTS event_types(name TEXT PRIMARY KEY, enabled INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS event_dates(name TEXT PRIMARY KEY, ms INTEGER NOT NULL)";

failure storage_failure(const failure& f) {
  return failure{registry::error::storage, "event configurations: " + f.describe(), {}};
}

std::size_t index_of(std::string_view type) noexcept {
  return static_cast<std::size_t>(std::find(event_types.begin(), event_types.end(), type) -
                                  event_types.begin());
}

}  // namespace

bool known_event_type(std::string_view type) noexcept {
  return index_of(type) < event_types.size();
}

std::optional<std::string> read_event_configurations(
    const rapidjson::Value& body, std::map<std::string, bool, std::less<>>& out) {
  constexpr std::size_t shown = 64;  // characters of a bad name quoted back
  if (!body.IsObject()) return "the body must be a JSON object";
  for (auto m = body.MemberBegin(); m != body.MemberEnd(); ++m) {
    if (json::view(m->name) != "eventConfigurations") {
      return std::string(json::view(m->name)).substr(0, shown) + ": unknown member";
    }
  }
  const auto* configs = json::find(body, "eventConfigurations");
  if (configs == nullptr || configs->IsNull()) return std::nullopt;
  if (!configs->IsObject()) return "eventConfigurations: expected a map";
  for (auto it = configs->MemberBegin(); it != configs->MemberEnd(); ++it) {
    const std::string type(json::view(it->name));
    const std::string at = "eventConfigurations." + type.substr(0, shown);
    if (!known_event_type(type)) {
      std::string list;
      for (auto t : event_types) list += (list.empty() ? "" : ", ") + std::string(t);
      return at + ": not an event type (" + list + ")";
    }
    if (!it->value.IsObject()) return at + ": expected {\"Enabled\": boolean}";
    for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m) {
      if (json::view(m->name) != "Enabled") {
        return at + "." + std::string(json::view(m->name)).substr(0, shown) + ": unknown member";
      }
    }
    const auto* on = json::find(it->value, "Enabled");
    if (on == nullptr || on->IsNull()) continue;  // nothing to change
    if (!on->IsBool()) return at + ".Enabled: expected a boolean";
    out[type] = on->GetBool();
  }
  return std::nullopt;
}

struct event_config_store::impl {
  explicit impl(sqlite::database d) : db(std::move(d)) {}
  mutable std::mutex mu;
  sqlite::database db;
  event_configurations current;
  std::array<std::atomic<bool>, event_types.size()> on{};  ///< by index in event_types
};

result<std::unique_ptr<event_config_store>> event_config_store::open(const std::string& path,
                                                                     std::int64_t now_ms) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  auto p = std::make_unique<impl>(std::move(*db));
  for (auto t : event_types) p->current.enabled[std::string(t)] = false;
  auto st = p->db.prepare("SELECT name, enabled FROM event_types");
  if (!st) return std::move(st).take_failure();
  while (true) {
    auto row = st->step();
    if (!row) return std::move(row).take_failure();
    if (!*row) break;
    const std::string name(st->column_text(0));
    if (!known_event_type(name)) continue;  // written by a later version: ignored
    const bool on = st->column_int64(1) != 0;
    p->current.enabled[name] = on;
    p->on[index_of(name)].store(on);
  }
  auto dates = p->db.prepare("SELECT name, ms FROM event_dates");
  if (!dates) return std::move(dates).take_failure();
  while (true) {
    auto row = dates->step();
    if (!row) return std::move(row).take_failure();
    if (!*row) break;
    (dates->column_text(0) == "created" ? p->current.created_ms : p->current.modified_ms) =
        dates->column_int64(1);
  }
  if (p->current.created_ms == 0) {
    auto put = p->db.prepare("INSERT OR REPLACE INTO event_dates(name, ms) VALUES(?1, ?2)");
    if (!put) return std::move(put).take_failure();
    for (auto name : {"created", "modified"}) {
      put->bind(1, name).bind(2, now_ms);
      if (auto r = put->run(); !r) return std::move(r).take_failure();
    }
    p->current.created_ms = p->current.modified_ms = now_ms;
  }
  return std::unique_ptr<event_config_store>(new event_config_store(std::move(p)));
}

event_config_store::event_config_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
event_config_store::~event_config_store() = default;

event_configurations event_config_store::get() const {
  std::lock_guard lock(p_->mu);
  return p_->current;
}

bool event_config_store::enabled(std::string_view type) const noexcept {
  const auto i = index_of(type);
  return i < event_types.size() && p_->on[i].load(std::memory_order_acquire);
}

result<void> event_config_store::update(const std::map<std::string, bool, std::less<>>& changes,
                                        std::int64_t now_ms) {
  std::lock_guard lock(p_->mu);
  sqlite::transaction tx{p_->db};
  if (!tx.begun()) return storage_failure(tx.begun().fail());
  auto st = p_->db.prepare("INSERT OR REPLACE INTO event_types(name, enabled) VALUES(?1, ?2)");
  if (!st) return storage_failure(st.fail());
  for (const auto& [name, on] : changes) {
    st->bind(1, std::string_view(name)).bind(2, on ? 1 : 0);
    if (auto r = st->run(); !r) return storage_failure(r.fail());
  }
  auto date = p_->db.prepare("INSERT OR REPLACE INTO event_dates(name, ms) VALUES('modified', ?1)");
  if (!date) return storage_failure(date.fail());
  date->bind(1, now_ms);
  if (auto r = date->run(); !r) return storage_failure(r.fail());
  if (auto r = tx.commit(); !r) return storage_failure(r.fail());
  for (const auto& [name, on] : changes) {
    p_->current.enabled[name] = on;
    if (known_event_type(name)) p_->on[index_of(name)].store(on, std::memory_order_release);
  }
  p_->current.modified_ms = now_ms;
  return {};
}

}  // namespace iotblocks::gateway
