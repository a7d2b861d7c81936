// Provisioning templates: the whole set in memory, every change written to SQLite first (one
// transaction, committed before the call returns).
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/template_store.hpp>

#include "core/sqlite.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace iotblocks::provisioning {
namespace {

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS templates(
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  role_arn TEXT NOT NULL,
  hook_arn TEXT,
  hook_version TEXT,
  type TEXT NOT NULL,
  default_version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  modified_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS template_versions(
  name TEXT NOT NULL,
  id INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY(name, id));
CREATE TABLE IF NOT EXISTS ca_registrations(
  ca_id TEXT PRIMARY KEY,
  template_body TEXT NOT NULL,
  template_name TEXT NOT NULL,
  role_arn TEXT NOT NULL);
)sql";

failure fail(error e, std::string message) { return failure{e, std::move(message), {}}; }

failure storage(const failure& f) { return fail(error::internal_error, f.describe()); }

result<void> check_settings(const stored_template& t) {
  if (t.description.size() > template_store::max_description) {
    return fail(error::invalid_request, "description: longer than 500 characters");
  }
  if (t.role_arn.size() < 20 || t.role_arn.size() > 2048) {
    return fail(error::invalid_request, "provisioningRoleArn: 20 to 2048 characters");
  }
  if (t.type != fleet_provisioning_type && t.type != jitp_type) {
    return fail(error::invalid_request, "type: FLEET_PROVISIONING or JITP");
  }
  if (t.hook) {
    if (t.type == jitp_type) {
      return fail(error::invalid_request,
                  "preProvisioningHook: only a FLEET_PROVISIONING template has one");
    }
    if (t.hook->target_arn.empty() || t.hook->target_arn.size() > 2048) {
      return fail(error::invalid_request, "preProvisioningHook.targetArn: 1 to 2048 characters");
    }
    const auto& v = t.hook->payload_version;
    if (v.size() < 10 || v.size() > 32 || !std::all_of(v.begin(), v.end(), [](char c) {
          return (c >= '0' && c <= '9') || c == '-';
        })) {
      return fail(error::invalid_request, "preProvisioningHook.payloadVersion: 10 to 32 of [0-9-]");
    }
  }
  return {};
}

// A body as it is stored: a fault names its path with the prefix "templateBody: ".
result<provisioning_template> parse_body(std::string_view body, const limits& l) {
  auto t = parse_template(body, l);
  if (!t) return fail(error::invalid_template, "templateBody: " + t.describe());
  return t;
}

}  // namespace

const std::string& stored_template::body() const {
  static const std::string none;
  for (const auto& v : versions) {
    if (v.id == default_version) return v.body;
  }
  return none;
}

struct template_store::impl {
  sqlite::database db;
  const iotblocks::clock& clock;
  limits lim;
  mutable std::mutex mutex;
  std::map<std::string, stored_template, std::less<>> templates;
  std::map<std::string, provisioning_template, std::less<>> parsed;  ///< default versions
  std::map<std::string, ca_registration, std::less<>> cas;
  std::map<std::string, provisioning_template, std::less<>> ca_parsed;  ///< inline bodies

  impl(sqlite::database d, const iotblocks::clock& c, const limits& l)
      : db(std::move(d)), clock(c), lim(l) {}

  result<void> load() {
    auto q = db.prepare(
        "SELECT name, description, enabled, role_arn, hook_arn, hook_version, type, "
        "default_version, created_ms, modified_ms FROM templates");
    if (!q) return std::move(q).take_failure();
    for (;;) {
      auto row = q->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      stored_template t{.name = std::string(q->column_text(0)),
                        .description = std::string(q->column_text(1)),
                        .enabled = q->column_int64(2) != 0,
                        .role_arn = std::string(q->column_text(3)),
                        .hook = std::nullopt,
                        .type = std::string(q->column_text(6)),
                        .default_version = q->column_int64(7),
                        .created_ms = q->column_int64(8),
                        .modified_ms = q->column_int64(9),
                        .versions = {}};
      if (!q->column_is_null(4)) {
        t.hook = provisioning_hook{std::string(q->column_text(4)), std::string(q->column_text(5))};
      }
      templates.emplace(t.name, std::move(t));
    }
    auto v =
        db.prepare("SELECT name, id, body, created_ms FROM template_versions ORDER BY name, id");
    if (!v) return std::move(v).take_failure();
    for (;;) {
      auto row = v->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      auto it = templates.find(v->column_text(0));
      if (it == templates.end()) continue;
      it->second.versions.push_back(
          {v->column_int64(1), std::string(v->column_text(2)), v->column_int64(3)});
    }
    for (const auto& [name, t] : templates) {
      auto p = parse_body(t.body(), lim);
      if (!p) return fail(error::internal_error, "stored template " + name + ": " + p.describe());
      parsed.insert_or_assign(name, std::move(*p));
    }
    auto c =
        db.prepare("SELECT ca_id, template_body, template_name, role_arn FROM ca_registrations");
    if (!c) return std::move(c).take_failure();
    for (;;) {
      auto row = c->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      const std::string id(c->column_text(0));
      ca_registration r{std::string(c->column_text(1)), std::string(c->column_text(2)),
                        std::string(c->column_text(3))};
      if (!r.template_body.empty()) {
        auto p = parse_body(r.template_body, lim);
        if (!p)
          return fail(error::internal_error, "stored CA template " + id + ": " + p.describe());
        ca_parsed.insert_or_assign(id, std::move(*p));
      }
      cas.insert_or_assign(id, std::move(r));
    }
    return {};
  }

  result<void> write_template(const stored_template& t) {
    auto st = db.prepare("INSERT OR REPLACE INTO templates VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
    if (!st) return storage(st.fail());
    st->bind(1, t.name).bind(2, t.description).bind(3, t.enabled ? 1 : 0).bind(4, t.role_arn);
    if (t.hook) {
      st->bind(5, t.hook->target_arn).bind(6, t.hook->payload_version);
    } else {
      st->bind_null(5).bind_null(6);
    }
    st->bind(7, t.type).bind(8, t.default_version).bind(9, t.created_ms).bind(10, t.modified_ms);
    if (auto r = st->run(); !r) return storage(r.fail());
    return {};
  }

  result<void> write_version(std::string_view name, const template_version& v) {
    auto st = db.prepare("INSERT INTO template_versions VALUES(?1, ?2, ?3, ?4)");
    if (!st) return storage(st.fail());
    st->bind(1, name).bind(2, v.id).bind(3, v.body).bind(4, v.created_ms);
    if (auto r = st->run(); !r) return storage(r.fail());
    return {};
  }

  result<void> exec(std::string_view sql, std::string_view name, std::int64_t id = 0) {
    auto st = db.prepare(sql);
    if (!st) return storage(st.fail());
    st->bind(1, name);
    if (id != 0) st->bind(2, id);
    if (auto r = st->run(); !r) return storage(r.fail());
    return {};
  }

  result<stored_template*> find(std::string_view name) {
    auto it = templates.find(name);
    if (it == templates.end()) {
      return fail(error::template_not_found,
                  "no provisioning template " + std::string(name.substr(0, 64)));
    }
    return &it->second;
  }
};

result<std::unique_ptr<template_store>> template_store::open(const std::string& path,
                                                             const iotblocks::clock& clock,
                                                             const limits& l) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  auto p = std::make_unique<impl>(std::move(*db), clock, l);
  if (auto r = p->load(); !r) return std::move(r).take_failure();
  return std::unique_ptr<template_store>(new template_store(std::move(p)));
}

template_store::template_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
template_store::~template_store() = default;

result<stored_template> template_store::create(stored_template t, std::string_view body) {
  if (!valid_template_name(t.name)) {
    return fail(error::invalid_request, "templateName: 1 to 36 of [0-9A-Za-z_-]");
  }
  if (t.type.empty()) t.type = fleet_provisioning_type;
  if (t.hook && t.hook->payload_version.empty()) t.hook->payload_version = "2020-04-01";
  if (auto ok = check_settings(t); !ok) return ok.fail();
  auto parsed = parse_body(body, p_->lim);
  if (!parsed) return parsed.fail();
  std::lock_guard lock{p_->mutex};
  if (p_->templates.count(t.name)) {
    return fail(error::template_exists, "provisioning template " + t.name + " exists");
  }
  if (p_->templates.size() >= max_templates) {
    return fail(error::limit_exceeded, "at most 256 provisioning templates");
  }
  t.created_ms = t.modified_ms = p_->clock.now_ms();
  t.default_version = 1;
  t.versions = {{1, std::string(body), t.created_ms}};
  sqlite::transaction tx(p_->db);
  if (!tx.begun()) return storage(tx.begun().fail());
  if (auto r = p_->write_template(t); !r) return r.fail();
  if (auto r = p_->write_version(t.name, t.versions.front()); !r) return r.fail();
  if (auto r = tx.commit(); !r) return storage(r.fail());
  p_->parsed.insert_or_assign(t.name, std::move(*parsed));
  p_->templates.emplace(t.name, t);
  return t;
}

result<stored_template> template_store::describe(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  auto t = p_->find(name);
  if (!t) return t.fail();
  return **t;
}

std::vector<stored_template> template_store::list() const {
  std::lock_guard lock{p_->mutex};
  std::vector<stored_template> out;
  out.reserve(p_->templates.size());
  for (const auto& [n, t] : p_->templates) out.push_back(t);
  return out;
}

result<stored_template> template_store::update(std::string_view name, const template_update& u) {
  std::lock_guard lock{p_->mutex};
  auto found = p_->find(name);
  if (!found) return found.fail();
  stored_template next = **found;
  if (u.description) next.description = *u.description;
  if (u.enabled) next.enabled = *u.enabled;
  if (u.role_arn) next.role_arn = *u.role_arn;
  if (u.remove_hook) next.hook.reset();
  if (u.hook) {
    next.hook = *u.hook;
    if (next.hook->payload_version.empty()) next.hook->payload_version = "2020-04-01";
  }
  std::optional<provisioning_template> parsed;
  if (u.default_version && *u.default_version != next.default_version) {
    const auto v = std::find_if(next.versions.begin(), next.versions.end(),
                                [&](const auto& x) { return x.id == *u.default_version; });
    if (v == next.versions.end()) {
      return fail(error::invalid_request,
                  "defaultVersionId: no version " + std::to_string(*u.default_version));
    }
    auto p = parse_body(v->body, p_->lim);
    if (!p) return p.fail();
    parsed = std::move(*p);
    next.default_version = *u.default_version;
  }
  if (auto ok = check_settings(next); !ok) return ok.fail();
  next.modified_ms = p_->clock.now_ms();
  if (auto r = p_->write_template(next); !r) return r.fail();
  if (parsed) p_->parsed.insert_or_assign(next.name, std::move(*parsed));
  **found = next;
  return next;
}

result<void> template_store::remove(std::string_view name) {
  std::lock_guard lock{p_->mutex};
  auto found = p_->find(name);
  if (!found) return found.fail();
  sqlite::transaction tx(p_->db);
  if (!tx.begun()) return storage(tx.begun().fail());
  if (auto r = p_->exec("DELETE FROM template_versions WHERE name = ?1", name); !r) return r;
  if (auto r = p_->exec("DELETE FROM templates WHERE name = ?1", name); !r) return r;
  if (auto r = tx.commit(); !r) return storage(r.fail());
  p_->parsed.erase(p_->parsed.find(name));
  p_->templates.erase(p_->templates.find(name));
  return {};
}

result<template_version> template_store::create_version(std::string_view name,
                                                        std::string_view body, bool set_default) {
  auto parsed = parse_body(body, p_->lim);
  if (!parsed) return parsed.fail();
  std::lock_guard lock{p_->mutex};
  auto found = p_->find(name);
  if (!found) return found.fail();
  stored_template next = **found;
  if (next.versions.size() >= max_versions) {
    return fail(error::version_limit, "provisioning template " + next.name +
                                          " has 5 versions: delete one before creating another");
  }
  template_version v{next.versions.empty() ? 1 : next.versions.back().id + 1, std::string(body),
                     p_->clock.now_ms()};
  next.versions.push_back(v);
  next.modified_ms = v.created_ms;
  if (set_default) next.default_version = v.id;
  sqlite::transaction tx(p_->db);
  if (!tx.begun()) return storage(tx.begun().fail());
  if (auto r = p_->write_version(name, v); !r) return r.fail();
  if (auto r = p_->write_template(next); !r) return r.fail();
  if (auto r = tx.commit(); !r) return storage(r.fail());
  if (set_default) p_->parsed.insert_or_assign(next.name, std::move(*parsed));
  **found = std::move(next);
  return v;
}

result<void> template_store::delete_version(std::string_view name, std::int64_t id) {
  std::lock_guard lock{p_->mutex};
  auto found = p_->find(name);
  if (!found) return found.fail();
  auto& versions = (*found)->versions;
  const auto v =
      std::find_if(versions.begin(), versions.end(), [&](const auto& x) { return x.id == id; });
  if (v == versions.end()) {
    return fail(error::template_not_found, "provisioning template " + std::string(name) +
                                               " has no version " + std::to_string(id));
  }
  if ((*found)->default_version == id) {
    return fail(error::delete_conflict, "version " + std::to_string(id) +
                                            " is the default version of " + std::string(name));
  }
  if (auto r = p_->exec("DELETE FROM template_versions WHERE name = ?1 AND id = ?2", name, id);
      !r) {
    return r;
  }
  versions.erase(v);
  return {};
}

result<void> template_store::set_ca_registration(std::string_view ca_id, const ca_registration& r) {
  const bool remove = r.template_body.empty() && r.template_name.empty();
  if (!r.template_body.empty() && !r.template_name.empty()) {
    return fail(error::invalid_request,
                "registrationConfig: templateBody or templateName, not both");
  }
  if (!r.role_arn.empty() && (r.role_arn.size() < 20 || r.role_arn.size() > 2048)) {
    return fail(error::invalid_request, "registrationConfig.roleArn: 20 to 2048 characters");
  }
  std::optional<provisioning_template> parsed;
  if (!r.template_body.empty()) {
    auto p = parse_body(r.template_body, p_->lim);
    if (!p) return fail(error::invalid_request, "registrationConfig." + p.describe());
    parsed = std::move(*p);
  }
  std::lock_guard lock{p_->mutex};
  if (!r.template_name.empty()) {
    const auto t = p_->templates.find(r.template_name);
    if (t == p_->templates.end() || t->second.type != jitp_type) {
      return fail(error::invalid_request,
                  "registrationConfig.templateName: no JITP template " + r.template_name);
    }
  }
  if (remove) {
    if (auto ok = p_->exec("DELETE FROM ca_registrations WHERE ca_id = ?1", ca_id); !ok) return ok;
    p_->cas.erase(std::string(ca_id));
    p_->ca_parsed.erase(std::string(ca_id));
    return {};
  }
  auto st = p_->db.prepare("INSERT OR REPLACE INTO ca_registrations VALUES(?1, ?2, ?3, ?4)");
  if (!st) return storage(st.fail());
  st->bind(1, ca_id).bind(2, r.template_body).bind(3, r.template_name).bind(4, r.role_arn);
  if (auto ok = st->run(); !ok) return storage(ok.fail());
  p_->cas.insert_or_assign(std::string(ca_id), r);
  if (parsed) {
    p_->ca_parsed.insert_or_assign(std::string(ca_id), std::move(*parsed));
  } else {
    p_->ca_parsed.erase(std::string(ca_id));
  }
  return {};
}

std::optional<ca_registration> template_store::ca_registration_of(std::string_view ca_id) const {
  std::lock_guard lock{p_->mutex};
  const auto it = p_->cas.find(ca_id);
  if (it == p_->cas.end()) return std::nullopt;
  return it->second;
}

result<active_template> template_store::jitp_template(std::string_view ca_id) const {
  std::lock_guard lock{p_->mutex};
  const auto it = p_->cas.find(ca_id);
  if (it == p_->cas.end()) {
    return fail(error::template_not_found, "the CA has no registrationConfig");
  }
  if (const auto body = p_->ca_parsed.find(ca_id); body != p_->ca_parsed.end()) {
    return active_template{std::string(ca_id), body->second, true, std::string(jitp_type),
                           std::nullopt};
  }
  auto t = p_->find(it->second.template_name);
  if (!t) return t.fail();
  return active_template{(*t)->name, p_->parsed.at((*t)->name), (*t)->enabled, (*t)->type,
                         std::nullopt};
}

result<active_template> template_store::active(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  auto found = p_->find(name);
  if (!found) return found.fail();
  const auto& t = **found;
  return active_template{t.name, p_->parsed.at(t.name), t.enabled, t.type, t.hook};
}

}  // namespace iotblocks::provisioning
