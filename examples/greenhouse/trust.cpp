// The greenhouse's certificates, registry, policy and the guard in front of the broker.
#include "trust.hpp"

#include <iotblocks/policy/context.hpp>
#include <iotblocks/x509/issue.hpp>

#include <rapidjson/document.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace example {

using namespace iotblocks;

namespace {

// The policy of the walk-through: connect as any client id, publish only on
// Greenhouse/<that client id>. Nothing else (no subscribe, no receive).
constexpr const char* greenhouse_policy = R"({
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["iot:Connect"],
     "Resource": ["arn:aws:iot:us-east-1:000000000000:client/${iot:ClientId}"]},
    {"Effect": "Allow", "Action": ["iot:Publish"],
     "Resource": ["arn:aws:iot:us-east-1:000000000000:topic/Greenhouse/${iot:ClientId}"]}]})";

result<void> write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) return failure{core::error::io_error, "cannot write " + p.string(), {}};
  return {};
}

/// Per connection: the policy session of the certificate that connected.
struct session_state {
  std::mutex mutex;
  policy::session session;
  session_state(const policy::store& s, std::string principal, policy::context ctx)
      : session(s, std::move(principal), std::move(ctx)) {}
};

}  // namespace

void say(const std::string& line) {
  static std::mutex m;
  std::lock_guard lock(m);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string hh_mm(time_point t) {
  const auto minutes = to_unix_ms(t) / 60'000;
  char out[8];
  std::snprintf(out, sizeof out, "%02d:%02d", static_cast<int>(minutes / 60 % 24),
                static_cast<int>(minutes % 60));
  return out;
}

std::string alarm_summary(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  const auto get = [&d](const char* k) -> std::string {
    return d.IsObject() && d.HasMember(k) && d[k].IsString() ? d[k].GetString() : "?";
  };
  return get("AlarmName") + " " + get("OldStateValue") + " -> " + get("NewStateValue") + " at " +
         get("StateChangeTime");
}

result<trust> trust::make(const std::filesystem::path& dir, const std::string& thing) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (auto f : {"registry.db", "policies.db", "telemetry.db"}) {  // a fresh start each run
    for (auto suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(dir / (f + std::string(suffix)), ec);
  }
  using namespace x509;
  // A device CA; it also signs the server's certificate here.
  auto ca_key = private_key::generate(key_algorithm::p256);
  if (!ca_key) return std::move(ca_key).take_failure();
  auto ca = issue({.subject = {{{"CN", "Greenhouse Device CA"}}}, .ca = true}, *ca_key);
  if (!ca) return std::move(ca).take_failure();
  auto server_key = private_key::generate(key_algorithm::p256);
  if (!server_key) return std::move(server_key).take_failure();
  auto server = issue({.subject = {{{"CN", "greenhouse gateway"}}},
                       .server_auth = true,
                       .dns_names = {"localhost"},
                       .ip_addresses = {"127.0.0.1"}},
                      *server_key, &*ca, &*ca_key);
  if (!server) return std::move(server).take_failure();
  auto probe_key = private_key::generate(key_algorithm::p256);
  if (!probe_key) return std::move(probe_key).take_failure();
  auto probe =
      issue({.subject = {{{"CN", thing}}}, .client_auth = true}, *probe_key, &*ca, &*ca_key);
  if (!probe) return std::move(probe).take_failure();
  using file = std::pair<const char*, std::string>;
  for (const auto& [name, text] :
       {file{"ca.pem", ca->pem()}, file{"server.pem", server->pem()},
        file{"server.key", server_key->pem()}, file{"probe.pem", probe->pem()},
        file{"probe.key", probe_key->pem()}}) {
    if (auto w = write(dir / name, text); !w) return std::move(w).take_failure();
  }

  // The registry: the CA (with proof of possession of its key), then the probe.
  trust t;
  auto reg = registry::registry::open((dir / "registry.db").string());
  if (!reg) return std::move(reg).take_failure();
  t.registry.emplace(std::move(*reg));
  auto code = t.registry->registration_code();
  if (!code) return std::move(code).take_failure();
  auto vkey = private_key::generate(key_algorithm::p256);
  if (!vkey) return std::move(vkey).take_failure();
  auto verification = issue({.subject = {{{"CN", *code}}}, .days = 1}, *vkey, &*ca, &*ca_key);
  if (!verification) return std::move(verification).take_failure();
  if (auto r = t.registry->register_ca(ca->pem(), verification->pem(), {.active = true}); !r) {
    return std::move(r).take_failure();
  }
  auto id = t.registry->register_certificate(probe->pem(), registry::certificate_status::active);
  if (!id) return std::move(id).take_failure();
  if (auto r = t.registry->create_thing({.name = thing}); !r) return std::move(r).take_failure();
  if (auto r = t.registry->attach_thing(thing, *id); !r) return std::move(r).take_failure();

  // The policy, attached to the probe's certificate.
  auto store = policy::store::open((dir / "policies.db").string());
  if (!store) return std::move(store).take_failure();
  t.policies.emplace(std::move(*store));
  if (auto r = t.policies->create_policy("greenhouse_lux_policy", greenhouse_policy); !r) {
    return std::move(r).take_failure();
  }
  if (auto r = t.policies->attach_policy("greenhouse_lux_policy", *id); !r) {
    return std::move(r).take_failure();
  }
  return t;
}

guard::guard(broker::broker& b, trust& t) : broker_(b), trust_(t) {
  binding_.tls_peer = [this](const net::peer_info& p) { return on_tls_peer(p); };
  // CONNECT: a policy session for the certificate (the TLS handshake checked it).
  broker_.on_authenticate([this](const mqtt::connect_view&, broker::client_info& info) {
    if (info.peer == nullptr || info.peer->chain.empty()) return mqtt::reason_code::not_authorized;
    auto leaf = x509::certificate::from_der(info.peer->chain.front());
    if (!leaf) return mqtt::reason_code::not_authorized;
    policy::context ctx;
    ctx.region = "us-east-1";
    ctx.account = "000000000000";
    ctx.client_id = info.client_id;
    ctx.certificate_id = leaf->id();
    ctx.thing_is_attached = false;
    if (auto rec = trust_.registry->find_certificate(leaf->id())) {
      for (const auto& th : rec->things) {
        if (th.name == info.client_id) ctx.thing_name = th.name, ctx.thing_is_attached = true;
      }
    }
    const auto arn = policy::make_arn(ctx, "client", info.client_id);
    auto st = std::make_shared<session_state>(*trust_.policies, leaf->id(), std::move(ctx));
    if (!st->session.authorize({policy::actions::connect, arn}).allowed()) {
      ++denied_;
      say("denied: connect " + info.client_id);
      return mqtt::reason_code::not_authorized;
    }
    info.principal = std::move(st);
    return mqtt::reason_code::success;
  });
  // PUBLISH, SUBSCRIBE, delivery: the same session decides.
  broker_.on_authorize(
      [this](const broker::client_info& info, broker::action a, std::string_view topic) {
        auto* st = static_cast<session_state*>(info.principal.get());
        if (st == nullptr) return false;
        policy::action_id id = policy::actions::publish;
        const char* type = "topic";
        const char* verb = "publish";
        switch (a) {
          case broker::action::publish: break;
          case broker::action::subscribe:
            id = policy::actions::subscribe, type = "topicfilter", verb = "subscribe";
            break;
          case broker::action::receive: id = policy::actions::receive, verb = "receive"; break;
          case broker::action::retain_publish:
            id = policy::actions::retain_publish, verb = "retain";
            break;
        }
        std::lock_guard lock(st->mutex);
        const auto arn = policy::make_arn(st->session.ctx(), type, topic);
        if (st->session.authorize({id, arn}).allowed()) return true;
        ++denied_;
        say(std::string("denied: ") + verb + " " + info.client_id + " " + std::string(topic));
        return false;
      });
}

bool guard::on_tls_peer(const net::peer_info& peer) {
  std::vector<bytes_view> chain(peer.chain.begin(), peer.chain.end());
  auto a = trust_.registry->authenticate(chain);
  if (!a.accepted()) say("denied: TLS client certificate (" + a.message + ")");
  return a.accepted();
}

}  // namespace example
