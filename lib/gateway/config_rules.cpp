// The config's "notify" topics (webhook / tcp / log subscriptions) and "alarms"
// (put-metric-alarm documents), with JSON paths in errors.
#include "gateway/config_rules.hpp"

#include <iotblocks/rules/metrics.hpp>
#include <iotblocks/rules/notify.hpp>

#include "gateway/config_json.hpp"

#include <charconv>
#include <chrono>

namespace iotblocks::gateway::detail {
namespace {

using value = rapidjson::Value;

bool valid_topic_name(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

// "host:port" or "[v6]:port".
result<void> read_host_port(std::string_view s, const std::string& path, notify_subscription& out) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad(path, "expected \"host:port\"");
  std::string_view host = s.substr(0, colon);
  const std::string_view port = s.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc{} || end != port.data() + port.size() || p == 0 || p > 65535) {
    return bad(path, "expected \"host:port\" with a port in 1..65535");
  }
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(p);
  return {};
}

result<void> read_string(const value& obj, std::string_view key, const std::string& path,
                         std::string& out) {
  const value* v = json::find(obj, key);
  if (v == nullptr) return {};
  if (!v->IsString()) return bad(path + "." + std::string(key), "expected a string");
  out = std::string(json::view(*v));
  return {};
}

result<notify_subscription> read_subscription(const value& v, const std::string& path) {
  if (!v.IsObject()) return bad(path, "expected an object with webhook, tcp or log");
  notify_subscription s;
  const value* hook = json::find(v, "webhook");
  const value* tcp = json::find(v, "tcp");
  const value* log = json::find(v, "log");
  if ((hook != nullptr) + (tcp != nullptr) + (log != nullptr) != 1) {
    return bad(path, "expected exactly one of webhook, tcp or log");
  }
  if (const value* t = json::find(v, "timeoutMs")) {
    if (!t->IsUint64() || t->GetUint64() < 1 || t->GetUint64() > 600'000) {
      return bad(path + ".timeoutMs", "expected an integer in 1..600000");
    }
    s.timeout_ms = static_cast<std::uint32_t>(t->GetUint64());
  }
  if (hook != nullptr) {
    if (auto f = only(v, path, {"webhook", "rawMessageDelivery", "headers", "timeoutMs"}))
      return *f;
    s.type = notify_subscription::kind::webhook;
    if (!hook->IsString()) return bad(path + ".webhook", "expected a URL string");
    s.url = std::string(json::view(*hook));
    if (!s.url.starts_with("http://") && !s.url.starts_with("https://")) {
      return bad(path + ".webhook", "expected an http:// or https:// URL");
    }
    if (const value* r = json::find(v, "rawMessageDelivery")) {
      if (!r->IsBool()) return bad(path + ".rawMessageDelivery", "expected true or false");
      s.raw_message_delivery = r->GetBool();
    }
    if (const value* h = json::find(v, "headers")) {
      if (!h->IsObject()) return bad(path + ".headers", "expected an object of name: value");
      for (auto it = h->MemberBegin(); it != h->MemberEnd(); ++it) {
        const std::string name(json::view(it->name));
        if (!it->value.IsString()) return bad(path + ".headers." + name, "expected a string");
        s.headers.emplace_back(name, json::view(it->value));
      }
    }
  } else if (tcp != nullptr) {
    if (auto f = only(v, path, {"tcp", "payload", "expect", "timeoutMs"})) return *f;
    s.type = notify_subscription::kind::tcp;
    if (!tcp->IsString()) return bad(path + ".tcp", "expected \"host:port\"");
    if (auto ok = read_host_port(json::view(*tcp), path + ".tcp", s); !ok) return ok.fail();
    if (auto ok = read_string(v, "payload", path, s.payload); !ok) return ok.fail();
    if (auto ok = read_string(v, "expect", path, s.expect); !ok) return ok.fail();
  } else {
    if (auto f = only(v, path, {"log"})) return *f;
    if (!log->IsBool() || !log->GetBool()) return bad(path + ".log", "expected true");
    s.type = notify_subscription::kind::log;
  }
  return s;
}

// Turns the alarm parser's "\"Period\" must be ..." / "Period is ..." into "<path>.Period: ...".
failure alarm_failure(const std::string& path, const failure& f) {
  static constexpr std::string_view keys[] = {"AlarmName",
                                              "AlarmDescription",
                                              "Namespace",
                                              "MetricName",
                                              "Statistic",
                                              "Period",
                                              "EvaluationPeriods",
                                              "DatapointsToAlarm",
                                              "ComparisonOperator",
                                              "Threshold",
                                              "TreatMissingData",
                                              "ActionsEnabled",
                                              "AlarmActions",
                                              "OKActions",
                                              "InsufficientDataActions",
                                              "Unit"};
  std::string_view m = f.message;
  std::string key;
  if (m.starts_with('"') && m.find('"', 1) != std::string_view::npos) {
    key = std::string(m.substr(1, m.find('"', 1) - 1));
    m.remove_prefix(key.size() + 2);
    if (m.starts_with(' ')) m.remove_prefix(1);
  } else {
    for (auto k : keys) {
      if (m.starts_with(k) && (m.size() == k.size() || m[k.size()] == ' ')) key = std::string(k);
    }
  }
  return bad(key.empty() ? path : path + "." + key, std::string(m));
}

}  // namespace

result<void> read_notify_alarms(const rapidjson::Value& root, config& c) {
  if (const value* n = json::find(root, "notify")) {
    if (!n->IsObject()) return bad("notify", "expected an object of topic name: subscriptions");
    for (auto it = n->MemberBegin(); it != n->MemberEnd(); ++it) {
      notify_topic t;
      t.name = std::string(json::view(it->name));
      const std::string path = "notify." + t.name;
      if (!valid_topic_name(t.name)) {
        return bad(path, "a topic name is 1-256 of A-Z a-z 0-9 _ -");
      }
      if (!it->value.IsArray()) return bad(path, "expected an array of subscriptions");
      for (rapidjson::SizeType i = 0; i < it->value.Size(); ++i) {
        auto s = read_subscription(it->value[i], path + "[" + std::to_string(i) + "]");
        if (!s) return std::move(s).take_failure();
        t.subscriptions.push_back(std::move(*s));
      }
      c.notify.push_back(std::move(t));
    }
  }
  if (const value* a = json::find(root, "alarms")) {
    if (!a->IsObject()) return bad("alarms", "expected an object of alarm name: definition");
    for (auto it = a->MemberBegin(); it != a->MemberEnd(); ++it) {
      const std::string name(json::view(it->name));
      const std::string path = "alarms." + name;
      if (!it->value.IsObject()) return bad(path, "expected an object (put-metric-alarm JSON)");
      rapidjson::Document d;
      d.CopyFrom(it->value, d.GetAllocator());
      if (const value* n = json::find(d, "AlarmName")) {
        if (!n->IsString() || json::view(*n) != name) {
          return bad(path + ".AlarmName", "must be the key \"" + name + "\" (or left out)");
        }
      } else {
        d.AddMember("AlarmName", json::string_value(name, d.GetAllocator()), d.GetAllocator());
      }
      const std::string text = json::write(d);
      auto def = rules::alarm_definition::from_json(text);
      if (!def) return alarm_failure(path, def.fail());
      c.alarms.push_back({name, text});
    }
  }
  return {};
}

result<void> apply_notify_alarms(const config& c, rules::engine& engine) {
  auto& n = engine.notifier();
  for (const auto& t : c.notify) {
    auto arn = n.create_topic(t.name);
    if (!arn) return failure{arn.error(), "notify." + t.name + ": " + arn.describe(), {}};
    for (const auto& s : t.subscriptions) {
      std::shared_ptr<rules::notification_sink> sink;
      const std::chrono::milliseconds timeout{s.timeout_ms};
      switch (s.type) {
        case notify_subscription::kind::webhook: {
          rules::webhook_options o;
          o.headers = s.headers;
          o.raw_message_delivery = s.raw_message_delivery;
          if (s.timeout_ms != 0) o.timeout = timeout;
          sink = rules::webhook_sink(engine.options().http, s.url, std::move(o));
          break;
        }
        case notify_subscription::kind::tcp:
          sink =
              rules::tcp_command_sink(engine.options().command, s.host, s.port, s.payload, s.expect,
                                      s.timeout_ms != 0 ? std::optional{timeout} : std::nullopt);
          break;
        case notify_subscription::kind::log: sink = rules::log_sink(); break;
      }
      if (auto ok = n.subscribe(*arn, std::move(sink)); !ok) {
        return failure{ok.error(), "notify." + t.name + ": " + ok.describe(), {}};
      }
    }
  }
  for (const auto& a : c.alarms) {
    auto def = rules::alarm_definition::from_json(a.json);
    if (!def) return alarm_failure("alarms." + a.name, def.fail());
    for (const auto* list :
         {&def->alarm_actions, &def->ok_actions, &def->insufficient_data_actions}) {
      for (const auto& target : *list) {
        if (target.find(":function:") != std::string::npos) continue;  // application callbacks
        if (!n.find_topic(target)) {
          return bad("alarms." + a.name, "action \"" + target + "\" names no notify topic");
        }
      }
    }
    if (auto ok = engine.metrics_store().put_alarm(std::move(*def)); !ok) {
      return alarm_failure("alarms." + a.name, ok.fail());
    }
  }
  return {};
}

}  // namespace iotblocks::gateway::detail
