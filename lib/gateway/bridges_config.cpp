// The "bridges" array of the gateway configuration -> net::bridge_options.
#include <iotblocks/core/error.hpp>

#include "core/json.hpp"
#include "gateway/bridges.hpp"
#include "gateway/config_json.hpp"

#include <fmt/format.h>

#include <charconv>
#include <initializer_list>

namespace iotblocks::gateway {
namespace {

using value = rapidjson::Value;

using detail::bad;
using detail::only;

std::optional<failure> get(const value& obj, const std::string& path, std::string_view key,
                           std::string& out) {
  const value* v = json::find(obj, key);
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) return bad(path + "." + std::string(key), "expected a string");
  out = std::string(json::view(*v));
  return std::nullopt;
}

std::optional<failure> get(const value& obj, const std::string& path, std::string_view key,
                           bool& out) {
  const value* v = json::find(obj, key);
  if (v == nullptr) return std::nullopt;
  if (!v->IsBool()) return bad(path + "." + std::string(key), "expected true or false");
  out = v->GetBool();
  return std::nullopt;
}

template <class T>
std::optional<failure> get(const value& obj, const std::string& path, std::string_view key, T& out,
                           std::uint64_t lo, std::uint64_t hi) {
  const value* v = json::find(obj, key);
  if (v == nullptr) return std::nullopt;
  if (!v->IsUint64() || v->GetUint64() < lo || v->GetUint64() > hi)
    return bad(path + "." + std::string(key), fmt::format("expected an integer in {}..{}", lo, hi));
  out = static_cast<T>(v->GetUint64());
  return std::nullopt;
}

std::optional<net::bridge_direction> direction_of(std::string_view s) {
  if (s == "out") return net::bridge_direction::out;
  if (s == "in") return net::bridge_direction::in;
  if (s == "both") return net::bridge_direction::both;
  return std::nullopt;
}

result<net::bridge_topic> read_topic(const value& v, const std::string& path) {
  net::bridge_topic t;
  if (v.IsString()) {
    auto r = parse_topic_line(json::view(v));
    if (!r) return bad(path, r.fail().message);
    return r;
  }
  if (!v.IsObject()) return bad(path, "expected a topic line or an object");
  if (auto f = only(v, path, {"pattern", "direction", "qos", "local_prefix", "remote_prefix"}))
    return *f;
  if (json::find(v, "pattern") == nullptr) return bad(path + ".pattern", "required");
  std::string dir = "out";
  if (auto f = get(v, path, "pattern", t.pattern)) return *f;
  if (auto f = get(v, path, "direction", dir)) return *f;
  if (auto f = get(v, path, "qos", t.qos, 0, 2)) return *f;
  if (auto f = get(v, path, "local_prefix", t.local_prefix)) return *f;
  if (auto f = get(v, path, "remote_prefix", t.remote_prefix)) return *f;
  auto d = direction_of(dir);
  if (!d) return bad(path + ".direction", "expected out, in or both, got \"" + dir + "\"");
  t.direction = *d;
  if (auto ok = net::validate(t); !ok) return bad(path, ok.fail().message);
  return t;
}

result<void> read_address(const std::string& text, const std::string& path,
                          net::mqtt_client_options& c) {
  std::string host = text;
  std::uint16_t port = c.tls.enabled ? 8883 : 1883;
  std::string_view port_text;
  if (text.starts_with('[')) {  // [IPv6]:port
    const auto close = text.find(']');
    if (close == std::string::npos) return bad(path, "expected [address]:port");
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return bad(path, "expected [address]:port");
      port_text = std::string_view(text).substr(close + 2);
    }
  } else if (const auto colon = text.find(':');
             colon != std::string::npos && colon == text.rfind(':')) {
    host = text.substr(0, colon);
    port_text = std::string_view(text).substr(colon + 1);
  }
  if (!port_text.empty() || text.ends_with(':')) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || v == 0 || v > 65535)
      return bad(path, "expected host[:port] with a port in 1..65535");
    port = static_cast<std::uint16_t>(v);
  }
  if (host.empty()) return bad(path, "expected host[:port]");
  c.host = host;
  c.port = port;
  return {};
}

result<net::bridge_options> read_bridge(const value& v, const std::string& path) {
  if (!v.IsObject()) return bad(path, "expected an object");
  if (auto f = only(
          v, path,
          {"name", "address", "protocol_version", "client_id", "cleansession", "keepalive_interval",
           "username", "password", "notifications", "notifications_local_only",
           "notification_topic", "outgoing_retain", "restart_timeout", "max_queued",
           "max_in_flight", "echo_window_ms", "tls", "topics"})) {
    return *f;
  }
  net::bridge_options o;
  auto& c = o.client;
  for (const char* key : {"name", "address", "topics"}) {
    if (json::find(v, key) == nullptr) return bad(path + "." + key, "required");
  }
  std::string address, version = "mqttv311", username, password;
  bool clean = false;
  std::optional<failure> f;
  if ((f = get(v, path, "name", o.name)) || (f = get(v, path, "address", address)) ||
      (f = get(v, path, "protocol_version", version)) ||
      (f = get(v, path, "client_id", c.client_id)) || (f = get(v, path, "cleansession", clean)) ||
      (f = get(v, path, "keepalive_interval", c.keep_alive, 5, 65535)) ||
      (f = get(v, path, "username", username)) || (f = get(v, path, "password", password)) ||
      (f = get(v, path, "notifications", o.notifications)) ||
      (f = get(v, path, "notifications_local_only", o.notifications_local_only)) ||
      (f = get(v, path, "notification_topic", o.notification_topic)) ||
      (f = get(v, path, "outgoing_retain", o.outgoing_retain)) ||
      (f = get(v, path, "max_queued", c.max_queued, 0, 100'000'000)) ||
      (f = get(v, path, "max_in_flight", c.max_in_flight, 1, 65535))) {
    return *f;
  }
  std::uint64_t echo_ms = static_cast<std::uint64_t>(o.echo_window.count());
  if ((f = get(v, path, "echo_window_ms", echo_ms, 0, 3'600'000))) return *f;
  o.echo_window = std::chrono::milliseconds(echo_ms);
  if (o.name.empty() || o.name.find_first_of("/+#") != std::string::npos)
    return bad(path + ".name", "expected a non-empty name without '/', '+' or '#'");
  if (version == "mqttv311" || version == "3.1.1") {
    c.version = mqtt::protocol_version::v3_1_1;
  } else if (version == "mqttv50" || version == "5" || version == "5.0") {
    c.version = mqtt::protocol_version::v5;
  } else {
    return bad(path + ".protocol_version", "expected mqttv311 or mqttv50, got \"" + version + "\"");
  }
  c.clean_start = clean;
  if (!username.empty()) c.username = username;
  if (!password.empty()) {
    if (username.empty()) return bad(path + ".password", "needs a username");
    c.password = password;
  }
  if (const value* r = json::find(v, "restart_timeout")) {
    // mosquitto: "restart_timeout base cap" (backoff with jitter) or a constant.
    const auto rp = path + ".restart_timeout";
    auto seconds = [&](const value& x, std::chrono::milliseconds& out) {
      if (!x.IsNumber() || x.GetDouble() < 0.01 || x.GetDouble() > 86400) return false;
      out = std::chrono::milliseconds(static_cast<std::int64_t>(x.GetDouble() * 1000));
      return true;
    };
    if (r->IsArray() && r->Size() == 2) {
      if (!seconds((*r)[0], c.backoff_initial) || !seconds((*r)[1], c.backoff_max) ||
          c.backoff_max < c.backoff_initial) {
        return bad(rp, "expected [base, cap] in seconds with base <= cap");
      }
    } else if (seconds(*r, c.backoff_initial)) {
      c.backoff_max = c.backoff_initial;
    } else {
      return bad(rp, "expected seconds or [base, cap]");
    }
  }
  if (const value* t = json::find(v, "tls")) {
    const auto tp = path + ".tls";
    if (!t->IsObject()) return bad(tp, "expected an object");
    if ((f = only(*t, tp,
                  {"ca_file", "cert_file", "key_file", "server_name", "alpn", "insecure"}))) {
      return *f;
    }
    bool insecure = false;
    auto& tls = c.tls;
    tls.enabled = true;
    if ((f = get(*t, tp, "ca_file", tls.ca_file)) ||
        (f = get(*t, tp, "cert_file", tls.cert_file)) ||
        (f = get(*t, tp, "key_file", tls.key_file)) ||
        (f = get(*t, tp, "server_name", tls.server_name)) ||
        (f = get(*t, tp, "insecure", insecure))) {
      return *f;
    }
    tls.verify = !insecure;
    if (tls.cert_file.empty() != tls.key_file.empty())
      return bad(tp, "cert_file and key_file go together");
    if (const value* a = json::find(*t, "alpn")) {
      if (!a->IsArray()) return bad(tp + ".alpn", "expected an array of strings");
      for (const auto& s : a->GetArray()) {
        if (!s.IsString()) return bad(tp + ".alpn", "expected an array of strings");
        tls.alpn.emplace_back(json::view(s));
      }
    }
  }
  if (auto ok = read_address(address, path + ".address", c); !ok) return ok.fail();
  const value& ts = *json::find(v, "topics");
  if (!ts.IsArray() || ts.Empty()) return bad(path + ".topics", "expected a non-empty array");
  for (rapidjson::SizeType i = 0; i < ts.Size(); ++i) {
    auto t = read_topic(ts[i], path + ".topics[" + std::to_string(i) + "]");
    if (!t) return std::move(t).take_failure();
    o.topics.push_back(std::move(*t));
  }
  if (auto ok = net::validate_options(o); !ok) return bad(path, ok.fail().message);
  return o;
}

}  // namespace

result<net::bridge_topic> parse_topic_line(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    const auto start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    auto w = std::string(line.substr(start, i - start));
    words.push_back(w == "\"\"" ? std::string() : std::move(w));
  }
  auto fail = [](std::string m) {
    return failure{core::error::invalid_argument, std::move(m), {}};
  };
  if (words.empty() || words.size() == 4 || words.size() > 5)
    return fail("expected \"pattern [[[out|in|both] qos] local-prefix remote-prefix]\"");
  net::bridge_topic t;
  t.pattern = words[0];
  if (words.size() > 1) {
    auto d = direction_of(words[1]);
    if (!d) return fail("expected out, in or both, got \"" + words[1] + "\"");
    t.direction = *d;
  }
  if (words.size() > 2) {
    if (words[2] != "0" && words[2] != "1" && words[2] != "2")
      return fail("expected qos 0, 1 or 2, got \"" + words[2] + "\"");
    t.qos = static_cast<std::uint8_t>(words[2][0] - '0');
  }
  if (words.size() == 5) {
    t.local_prefix = words[3];
    t.remote_prefix = words[4];
  }
  if (auto ok = net::validate(t); !ok) return ok.fail();
  return t;
}

result<std::vector<net::bridge_options>> read_bridges(const value& array) {
  if (!array.IsArray()) return bad("bridges", "expected an array");
  std::vector<net::bridge_options> out;
  for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
    const auto path = "bridges[" + std::to_string(i) + "]";
    auto b = read_bridge(array[i], path);
    if (!b) return std::move(b).take_failure();
    for (const auto& other : out) {
      if (other.name == b->name) return bad(path + ".name", "duplicate name \"" + b->name + "\"");
    }
    out.push_back(std::move(*b));
  }
  return out;
}

}  // namespace iotblocks::gateway
