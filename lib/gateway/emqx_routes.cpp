// POST /emqx/authn and /emqx/authz: the gateway as the HTTP service of EMQX 5's HTTP
// authenticator and HTTP authorizer. Passwords are checked against the gateway's users
// (users.db); publishes and subscriptions are decided by the policies attached to the users'
// principal (the config's default_policies) with iot:ClientId and aws:SourceIp of the
// client. Everything but a clear allow is answered 200 {"result":"deny"} (EMQX takes any
// other status as "ignore" and would ask the next source), with one log line saying why.
#include "gateway/emqx_auth.hpp"
#include "gateway/gateway_impl.hpp"
#include "gateway/security.hpp"

#include <iotblocks/policy/evaluate.hpp>

#include <openssl/crypto.h>

#include <string>

namespace iotblocks::gateway {
namespace {

constexpr std::string_view allow_authn = R"({"result":"allow","is_superuser":false})";
constexpr std::string_view deny_authn = R"({"result":"deny","is_superuser":false})";
constexpr std::string_view allow_authz = R"({"result":"allow"})";
constexpr std::string_view deny_authz = R"({"result":"deny"})";

bool loopback(std::string_view address) {
  return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

// Why the caller may not ask ("" when it may): the bearer token, else a loopback peer.
std::string refused_caller(const config& cfg, const net::incoming_request& r) {
  if (cfg.emqx_auth.token.empty()) {
    return loopback(r.remote_address) ? std::string{}
                                      : "not a loopback peer (set emqx_auth.token to serve others)";
  }
  const std::string want = "Bearer " + cfg.emqx_auth.token;
  if (r.authorization.size() != want.size() ||
      CRYPTO_memcmp(r.authorization.data(), want.data(), want.size()) != 0) {
    return r.authorization.empty() ? "no bearer token" : "wrong bearer token";
  }
  return {};
}

net::http_reply deny(gateway::impl& g, std::string_view body, std::string_view route,
                     std::string_view peer, std::string_view client_id, std::string_view why) {
  g.log.write(log_level::warn, "emqx_auth_denied",
              {{"route", route}, {"peer", peer}, {"client_id", client_id}, {"reason", why}});
  return {200, std::string(body)};
}

net::http_reply authn(gateway::impl& g, const net::incoming_request& r) {
  constexpr std::string_view route = "authn";
  if (auto why = refused_caller(g.cfg, r); !why.empty()) {
    return deny(g, deny_authn, route, r.remote_address, "", why);
  }
  auto q = emqx::parse_authn(r.body);
  if (!q) return deny(g, deny_authn, route, r.remote_address, "", "bad request: " + q.describe());
  if (q->password.empty()) {
    // EMQX hands over a certificate's names only, which prove nothing here.
    return deny(g, deny_authn, route, r.remote_address, q->clientid,
                q->cert_common_name.empty() && q->cert_subject.empty()
                    ? "no password"
                    : "no password, and a certificate cannot be checked from its names "
                      "(let EMQX verify certificates)");
  }
  if (q->username.empty()) {
    return deny(g, deny_authn, route, r.remote_address, q->clientid, "no username");
  }
  if (!g.sec->users().check(q->username, q->password)) {
    return deny(g, deny_authn, route, r.remote_address, q->clientid,
                "wrong username or password for \"" + q->username + "\"");
  }
  return {200, std::string(allow_authn)};
}

net::http_reply authz(gateway::impl& g, const net::incoming_request& r) {
  constexpr std::string_view route = "authz";
  if (auto why = refused_caller(g.cfg, r); !why.empty()) {
    return deny(g, deny_authz, route, r.remote_address, "", why);
  }
  auto q = emqx::parse_authz(r.body);
  if (!q) return deny(g, deny_authz, route, r.remote_address, "", "bad request: " + q.describe());
  policy::context ctx;
  ctx.region = g.cfg.aws.region;
  ctx.account = g.cfg.aws.account_id;
  ctx.any_account = g.cfg.aws.any_account;
  ctx.client_id = q->clientid;
  if (!q->peerhost.empty()) ctx.source_ip = q->peerhost;
  ctx.thing_is_attached = false;
  const auto policies = g.sec->policies().effective_policies(default_principal);
  auto decide = [&](policy::action_id id, std::string_view type) -> std::string {
    const auto resource = policy::make_arn(ctx, type, q->topic);
    const auto d = policy::evaluate(*policies, {id, resource}, ctx);
    if (d.allowed()) return {};
    return std::string(policy::to_string(d.result)) + " " + std::string(policy::action_name(id)) +
           " " + resource;
  };
  std::string why;
  if (q->act == emqx::action::subscribe) {
    why = decide(policy::actions::subscribe, "topicfilter");
  } else {
    why = decide(policy::actions::publish, "topic");
    if (why.empty() && q->retain) why = decide(policy::actions::retain_publish, "topic");
  }
  if (!why.empty()) return deny(g, deny_authz, route, r.remote_address, q->clientid, why);
  return {200, std::string(allow_authz)};
}

}  // namespace

void add_emqx_routes(gateway::impl& g) {
  if (!g.cfg.emqx_auth.enabled) return;
  g.http.route("POST", "/emqx/authn", [&g](const net::incoming_request& r) { return authn(g, r); });
  g.http.route("POST", "/emqx/authz", [&g](const net::incoming_request& r) { return authz(g, r); });
}

}  // namespace iotblocks::gateway
