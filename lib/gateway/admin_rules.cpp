// The admin REST API: policies (persistent store, attach/detach), rules
// (SQL errors with positions, enable/disable, metrics) and /admin/stats.
#include <iotblocks/policy/error.hpp>
#include <iotblocks/sql/rule.hpp>

#include "gateway/security.hpp"
#include "gateway/security_admin.hpp"

namespace iotblocks::gateway {
namespace {

using namespace admin;

net::http_reply policies_route(gateway::impl& g, const net::incoming_request& r) {
  auto& store = g.sec->policies();
  const auto seg = segments(r.path, "/admin/policies");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (seg.empty()) {
    if (r.method != "GET") return error_reply(405, "GET /admin/policies");
    member(d, "policies", strings(store.list_policies(), a), a);
    return ok_reply(d);
  }
  const std::string& name = seg[0];
  if (seg.size() == 2 && r.method == "POST" && (seg[1] == "attach" || seg[1] == "detach")) {
    auto body = body_object(r, false);
    if (!body) return fail_reply(body.fail());
    const auto principal = json::get_string(*body, "principal");
    if (!principal || principal->empty()) return error_reply(400, "principal: expected a string");
    if (!store.get_policy(name)) return error_reply(404, "no such policy");
    auto ok = seg[1] == "attach" ? store.attach_policy(name, *principal)
                                 : store.detach_policy(name, *principal);
    if (!ok) return fail_reply(ok.fail());
    return ok_message();
  }
  if (seg.size() != 1) return error_reply(404, "unknown admin path");
  if (r.method == "GET") {
    auto info = store.get_policy(name);
    if (!info) return fail_reply(info.fail());
    for (const auto& v : info->versions) {
      if (v.is_default) return {200, v.document};
    }
    return error_reply(404, "no default version");
  }
  if (r.method == "PUT") {
    auto info = store.get_policy(name);
    if (!info) {
      auto made = store.create_policy(name, r.body);
      if (!made) return fail_reply(made.fail());
      return ok_message();
    }
    if (info->versions.size() >= 5) {  // keep at most five: drop the oldest non-default
      for (const auto& v : info->versions) {
        if (!v.is_default) {
          (void)store.delete_policy_version(name, v.version);
          break;
        }
      }
    }
    auto made = store.create_policy_version(name, r.body, true);
    if (!made) return fail_reply(made.fail());
    return ok_message();
  }
  if (r.method == "DELETE") {
    auto info = store.get_policy(name);
    if (!info) return fail_reply(info.fail());
    if (!store.targets_for_policy(name).empty()) {
      return error_reply(409, "the policy is attached; detach it first");
    }
    for (const auto& v : info->versions) {
      if (!v.is_default) (void)store.delete_policy_version(name, v.version);
    }
    if (auto ok = store.delete_policy(name); !ok) return fail_reply(ok.fail());
    return ok_message();
  }
  return error_reply(405, "method not allowed");
}

/// Stores the rule's document as the engine now holds it, so the change survives a restart.
net::http_reply remember(gateway::impl& g, const std::string& name) {
  const auto info = g.rules->rule(name);
  if (!info) return error_reply(404, "no such rule");
  if (auto ok = g.rule_changes->save(name, info->document.to_json()); !ok) {
    return fail_reply(ok.fail());
  }
  return ok_message();
}

net::http_reply rules_route(gateway::impl& g, const net::incoming_request& r) {
  auto& engine = *g.rules;
  const auto seg = segments(r.path, "/admin/rules");
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (seg.empty()) {
    if (r.method != "GET") return error_reply(405, "GET /admin/rules");
    member(d, "rules", strings(engine.rule_names(), a), a);
    return ok_reply(d);
  }
  const std::string& name = seg[0];
  if (seg.size() == 2 && r.method == "POST" && (seg[1] == "enable" || seg[1] == "disable")) {
    if (auto ok = engine.set_rule_enabled(name, seg[1] == "enable"); !ok) {
      return fail_reply(ok.fail());
    }
    return remember(g, name);
  }
  if (seg.size() != 1) return error_reply(404, "unknown admin path");
  if (r.method == "GET") {
    auto info = engine.rule(name);
    if (!info) return error_reply(404, "no such rule");
    member(d, "ruleName", name, a);
    member(d, "sql", info->document.sql, a);
    d.AddMember("enabled", !info->document.disabled, a);
    if (!info->document.description.empty()) {
      member(d, "description", info->document.description, a);
    }
    std::vector<std::string> actions;
    for (const auto& s : info->document.actions) actions.push_back(s.type);
    member(d, "actions", strings(actions, a), a);
    if (info->document.error_action) member(d, "errorAction", info->document.error_action->type, a);
    auto document = json::parse(info->document.to_json());
    rapidjson::Value full(rapidjson::kObjectType);
    if (document) full.CopyFrom(*document, a);
    member(d, "document", std::move(full), a);
    const auto m = engine.metrics(name);
    auto parsed = json::parse(m ? m->to_json() : "{}");
    rapidjson::Value metrics(rapidjson::kObjectType);
    if (parsed) metrics.CopyFrom(*parsed, a);
    member(d, "metrics", std::move(metrics), a);
    return ok_reply(d);
  }
  if (r.method == "PUT") {
    // SQL errors are reported with their position inside the SQL text.
    if (auto doc = json::parse(r.body); doc && doc->IsObject()) {
      if (auto sql_text = json::get_string(*doc, "sql")) {
        auto q =
            sql::compile(*sql_text, sql::compile_options{}.functions(g.sec->sql_functions().get()));
        if (!q) {
          auto f = q.fail();
          f.message = "sql: " + std::string{f.message.view()};
          return error_reply(400, f);
        }
      }
    }
    auto ok = engine.put_rule(name, r.body);
    if (!ok) return error_reply(400, ok.fail());
    return remember(g, name);
  }
  if (r.method == "DELETE") {
    if (!engine.remove_rule(name)) return error_reply(404, "no such rule");
    if (auto saved = g.rule_changes->erase(name); !saved) return fail_reply(saved.fail());
    return ok_message();
  }
  return error_reply(405, "method not allowed");
}

net::http_reply stats_route(gateway::impl& g, const net::incoming_request&) {
  const auto& s = g.mqtt.stats();
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  auto add = [&](const char* key, std::uint64_t v) {
    d.AddMember(rapidjson::StringRef(key), v, a);
  };
  add("connected", s.connected.load());
  add("connects", s.connects.load());
  add("disconnects", s.disconnects.load());
  add("messages_in", s.messages_in.load());
  add("messages_out", s.messages_out.load());
  add("dropped", s.dropped.load());
  add("retained", g.mqtt.retained_count());
  add("sessions", g.mqtt.session_count());
  const auto t = g.rules->totals();
  add("rules_matched", t.matched);
  add("rules_failed", t.actions_failed);
  add("shadow_updates", g.shadow_updates.load());
  add("basic_ingest_unknown_rule", g.basic_ingest_unknown.load());
  add("rejected_connects", s.rejected_connects.load());
  add("handshake_failures", g.server.stats().handshake_failures);
  return ok_reply(d);
}

}  // namespace

void add_admin_policy_routes(gateway::impl& g) {
  g.http.route("*", "/admin/policies", guarded(g, policies_route));
  g.http.route("*", "/admin/rules", guarded(g, rules_route));
  g.http.route("GET", "/admin/stats", guarded(g, stats_route));
}

}  // namespace iotblocks::gateway
