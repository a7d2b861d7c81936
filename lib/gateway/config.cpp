// Gateway configuration: JSON file -> gateway::config, with JSON paths in errors.
#include <iotblocks/core/error.hpp>
#include <iotblocks/gateway/config.hpp>

#include "core/json.hpp"
#include "gateway/aws_api.hpp"
#include "gateway/bridges.hpp"
#include "gateway/config_device.hpp"
#include "gateway/config_json.hpp"
#include "gateway/config_rules.hpp"
#include "gateway/custom_auth.hpp"
#include "gateway/provisioning_hooks.hpp"

#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>

namespace iotblocks::gateway {
namespace {

using value = rapidjson::Value;

using detail::bad;
using detail::only;

struct reader {
  const value& obj;
  std::string path;
  std::optional<failure> error;

  std::string at(std::string_view key) const {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  void str(std::string_view key, std::string& out) {
    const value* v = json::find(obj, key);
    if (v == nullptr || error) return;
    if (!v->IsString())
      error = bad(at(key), "expected a string");
    else
      out = std::string(json::view(*v));
  }
  void boolean(std::string_view key, bool& out) {
    const value* v = json::find(obj, key);
    if (v == nullptr || error) return;
    if (!v->IsBool())
      error = bad(at(key), "expected true or false");
    else
      out = v->GetBool();
  }
  template <class T>
  void integer(std::string_view key, T& out, std::uint64_t lo = 0,
               std::uint64_t hi = std::numeric_limits<T>::max()) {
    const value* v = json::find(obj, key);
    if (v == nullptr || error) return;
    if (!v->IsUint64() || v->GetUint64() < lo || v->GetUint64() > hi) {
      error =
          bad(at(key), "expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    } else {
      out = static_cast<T>(v->GetUint64());
    }
  }
};

result<void> read_listener(const value& v, const std::string& path, listener_config& l) {
  if (!v.IsObject()) return bad(path, "expected an object");
  if (auto f = only(v, path, {"type", "address", "port", "ws_path", "tls"})) return *f;
  reader r{v, path, {}};
  r.str("type", l.type);
  r.str("address", l.address);
  r.integer("port", l.port);
  r.str("ws_path", l.ws_path);
  if (r.error) return *r.error;
  if (l.type != "mqtt" && l.type != "mqtts" && l.type != "ws" && l.type != "wss" &&
      l.type != "http") {
    return bad(path + ".type", "expected mqtt, mqtts, ws, wss or http, got \"" + l.type + "\"");
  }
  if (const value* t = json::find(v, "tls")) {
    const std::string tp = path + ".tls";
    if (!t->IsObject()) return bad(tp, "expected an object");
    if (auto f = only(*t, tp,
                      {"cert_file", "key_file", "ca_file", "request_client_cert",
                       "require_client_cert", "alpn"})) {
      return *f;
    }
    reader tr{*t, tp, {}};
    tr.str("cert_file", l.tls.cert_file);
    tr.str("key_file", l.tls.key_file);
    tr.str("ca_file", l.tls.ca_file);
    tr.boolean("request_client_cert", l.tls.request_client_cert);
    tr.boolean("require_client_cert", l.tls.require_client_cert);
    if (tr.error) return *tr.error;
    if (const value* a = json::find(*t, "alpn")) {
      if (!a->IsArray()) return bad(tp + ".alpn", "expected an array of strings");
      l.tls.alpn.clear();
      for (const auto& s : a->GetArray()) {
        if (!s.IsString()) return bad(tp + ".alpn", "expected an array of strings");
        l.tls.alpn.emplace_back(json::view(s));
      }
    }
  }
  if ((l.type == "mqtts" || l.type == "wss") &&
      (l.tls.cert_file.empty() || l.tls.key_file.empty())) {
    return bad(path + ".tls", "cert_file and key_file are required for " + l.type);
  }
  return {};
}

// "rules"/"policies": an object name -> document (object), kept as JSON text.
result<void> read_documents(const value& root, std::string_view key,
                            std::vector<named_document>& out) {
  const value* v = json::find(root, key);
  if (v == nullptr) return {};
  if (!v->IsObject()) return bad(std::string(key), "expected an object of name: document");
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    const std::string name(json::view(it->name));
    if (!it->value.IsObject()) return bad(std::string(key) + "." + name, "expected an object");
    out.push_back({name, json::write(it->value)});
  }
  return {};
}

}  // namespace

config default_config() {
  config c;
  for (const auto& [type, port] :
       {std::pair<const char*, std::uint16_t>{"mqtt", 1883}, {"ws", 8083}, {"http", 8080}}) {
    listener_config l;
    l.type = type;
    l.port = port;
    c.listeners.push_back(std::move(l));
  }
  return c;
}

result<config> parse_config(std::string_view text) {
  auto doc = json::parse(text);
  if (!doc) return std::move(doc).take_failure();
  const value& root = *doc;
  if (!root.IsObject()) return bad("(root)", "expected an object");
  if (auto f = only(root, "",
                    {"listeners",
                     "data_dir",
                     "threads",
                     "admin_token",
                     "emqx_auth",
                     "limits",
                     "rules",
                     "policies",
                     "authorize",
                     "default_policies",
                     "bridges",
                     "notify",
                     "alarms",
                     "aws_access_keys",
                     "custom_authorizers",
                     "default_authorizer",
                     "aws",
                     "certificate_profile",
                     "log",
                     "stores",
                     "provisioning_templates",
                     "provisioning_hooks",
                     "provisioning_key_algorithm"})) {
    return *f;
  }
  config c;
  reader r{root, "", {}};
  r.str("data_dir", c.data_dir);
  r.integer("threads", c.threads, 0, 256);
  r.str("admin_token", c.admin_token);
  r.boolean("authorize", c.authorize);
  if (r.error) return *r.error;
  if (const value* e = json::find(root, "emqx_auth")) {
    if (!e->IsObject()) return bad("emqx_auth", "expected an object");
    if (auto f = only(*e, "emqx_auth", {"token"})) return *f;
    reader er{*e, "emqx_auth", {}};
    er.str("token", c.emqx_auth.token);
    if (er.error) return *er.error;
    c.emqx_auth.enabled = true;
  }
  if (const value* stores = json::find(root, "stores")) {
    if (!stores->IsObject()) return bad("stores", "expected an object");
    if (auto f = only(*stores, "stores",
                      {"shadows", "registry", "policies", "jobs", "thing_groups", "thing_types",
                       "rule_items"})) {
      return *f;
    }
    reader s{*stores, "stores", {}};
    s.str("shadows", c.shadow_store);
    s.str("registry", c.registry_store);
    s.str("policies", c.policy_store);
    s.str("jobs", c.jobs_store);
    s.str("thing_groups", c.thing_groups_store);
    s.str("thing_types", c.thing_types_store);
    s.str("rule_items", c.rule_items_store);
    if (s.error) return *s.error;
    for (const auto& [key, value] : {std::pair{"shadows", &c.shadow_store},
                                     {"registry", &c.registry_store},
                                     {"policies", &c.policy_store},
                                     {"jobs", &c.jobs_store},
                                     {"thing_groups", &c.thing_groups_store},
                                     {"thing_types", &c.thing_types_store},
                                     {"rule_items", &c.rule_items_store}}) {
      const std::string_view url = *value;
      if (!url.starts_with("sqlite:") && !url.starts_with("postgresql://") &&
          !url.starts_with("postgres://")) {
        return bad(std::string("stores.") + key, "expected sqlite:[PATH] or postgresql://…");
      }
    }
  }
  c.server.threads = c.threads;
  if (const value* ls = json::find(root, "listeners")) {
    if (!ls->IsArray()) return bad("listeners", "expected an array");
    for (rapidjson::SizeType i = 0; i < ls->Size(); ++i) {
      listener_config l;
      auto ok = read_listener((*ls)[i], "listeners[" + std::to_string(i) + "]", l);
      if (!ok) return std::move(ok).take_failure();
      c.listeners.push_back(std::move(l));
    }
  } else {
    c.listeners = default_config().listeners;
  }
  std::size_t http = 0;
  for (const auto& l : c.listeners) http += l.type == "http" ? 1 : 0;
  if (http > 1) return bad("listeners", "at most one http listener");
  if (const value* lim = json::find(root, "limits")) {
    if (!lim->IsObject()) return bad("limits", "expected an object");
    if (auto f = only(*lim, "limits",
                      {"max_connections", "max_accepts_per_second", "connect_timeout_ms",
                       "max_write_queue_bytes", "receive_maximum", "topic_alias_maximum",
                       "maximum_packet_size", "max_offline_messages", "max_session_expiry",
                       "max_inflight_out", "control_characters"})) {
      return *f;
    }
    reader lr{*lim, "limits", {}};
    lr.integer("max_connections", c.server.max_connections, 1, 10'000'000);
    std::uint64_t rate = 0, timeout = static_cast<std::uint64_t>(c.server.connect_timeout.count());
    lr.integer("max_accepts_per_second", rate, 0, 1'000'000);
    lr.integer("connect_timeout_ms", timeout, 100, 3'600'000);
    lr.integer("max_write_queue_bytes", c.server.max_write_queue_bytes, 1024, 1ull << 32);
    lr.integer("receive_maximum", c.broker.receive_maximum, 1, 65535);
    lr.integer("topic_alias_maximum", c.broker.topic_alias_maximum, 0, 65535);
    lr.integer("maximum_packet_size", c.broker.maximum_packet_size, 64, 268'435'455);
    lr.integer("max_offline_messages", c.broker.max_offline_messages, 0, 10'000'000);
    lr.integer("max_session_expiry", c.broker.max_session_expiry);
    lr.integer("max_inflight_out", c.broker.max_inflight_out, 1, 65535);
    std::string control = "allow";
    lr.str("control_characters", control);
    if (lr.error) return *lr.error;
    if (control == "refuse") {
      c.broker.control_characters = broker::control_character_rule::refuse;
    } else if (control != "allow") {
      return bad("limits.control_characters", "expected allow or refuse, got \"" + control + "\"");
    }
    c.server.max_accepts_per_second = static_cast<double>(rate);
    c.server.connect_timeout = std::chrono::milliseconds(timeout);
  }
  if (auto ok = read_documents(root, "rules", c.rules); !ok) return std::move(ok).take_failure();
  if (auto ok = detail::read_notify_alarms(root, c); !ok) return std::move(ok).take_failure();
  if (auto ok = read_documents(root, "policies", c.policies); !ok) {
    return std::move(ok).take_failure();
  }
  if (auto ok = read_documents(root, "provisioning_templates", c.provisioning_templates); !ok) {
    return std::move(ok).take_failure();
  }
  if (auto ok = aws::read_access_keys(root, c); !ok) return std::move(ok).take_failure();
  if (auto ok = detail::read_device_settings(root, c); !ok) return std::move(ok).take_failure();
  if (auto ok = custom_auth::read_config(root, c); !ok) return std::move(ok).take_failure();
  if (auto ok = provisioning_hooks::read_config(root, c); !ok) return std::move(ok).take_failure();
  if (const value* dp = json::find(root, "default_policies")) {
    if (!dp->IsArray()) return bad("default_policies", "expected an array of policy names");
    for (const auto& s : dp->GetArray()) {
      if (!s.IsString()) return bad("default_policies", "expected an array of policy names");
      c.default_policies.emplace_back(json::view(s));
    }
  }
  if (const value* b = json::find(root, "bridges")) {
    if (!b->IsArray()) return bad("bridges", "expected an array");
    c.bridges_json = json::write(*b);
    auto bridges = read_bridges(*b);
    if (!bridges) return std::move(bridges).take_failure();
    c.bridges = std::move(*bridges);
  }
  return c;
}

result<config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return failure{core::error::io_error, "cannot read " + path, {}};
  std::ostringstream ss;
  ss << in.rdbuf();
  auto c = parse_config(ss.str());
  if (!c) {
    auto f = std::move(c).take_failure();
    f.message = path + ": " + std::string{f.message.view()};
    return f;
  }
  return c;
}

}  // namespace iotblocks::gateway
