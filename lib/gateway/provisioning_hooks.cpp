// Pre-provisioning hook functions: their config and one call through custom_auth::invoke.
#include "gateway/provisioning_hooks.hpp"

#include <iotblocks/net/http_client.hpp>
#include <iotblocks/provisioning/error.hpp>

#include "gateway/config_json.hpp"
#include "gateway/custom_auth_invoke.hpp"

namespace iotblocks::gateway::provisioning_hooks {

using detail::bad;

result<void> read_config(const rapidjson::Value& root, config& c) {
  const auto* all = json::find(root, "provisioning_hooks");
  if (all == nullptr) return {};
  if (!all->IsObject()) return bad("provisioning_hooks", "expected an object (Lambda ARN -> hook)");
  for (auto it = all->MemberBegin(); it != all->MemberEnd(); ++it) {
    custom_authorizer h;
    h.name = std::string(json::view(it->name));
    h.signing_disabled = true;
    const std::string path = "provisioning_hooks." + h.name;
    if (h.name.empty() || h.name.size() > 2048) return bad(path, "expected an ARN (1..2048)");
    const auto& v = it->value;
    if (!v.IsObject()) return bad(path, "expected an object");
    if (auto f = detail::only(v, path, {"function", "timeout_ms"})) return *f;
    const auto* fn = json::find(v, "function");
    if (fn == nullptr || !fn->IsObject()) {
      return bad(path + ".function", "expected {\"url\": ...} or {\"command\": [...]}");
    }
    if (auto f = detail::only(*fn, path + ".function", {"url", "command"})) return *f;
    if (const auto* url = json::find(*fn, "url")) {
      if (!url->IsString() || !net::parse_url(json::view(*url))) {
        return bad(path + ".function.url", "expected an http:// or https:// URL");
      }
      h.url = std::string(json::view(*url));
    }
    if (const auto* cmd = json::find(*fn, "command")) {
      if (!cmd->IsArray() || cmd->Empty()) {
        return bad(path + ".function.command", "expected a non-empty array of strings");
      }
      for (const auto& s : cmd->GetArray()) {
        if (!s.IsString() || s.GetStringLength() == 0) {
          return bad(path + ".function.command", "expected a non-empty array of strings");
        }
        h.command.emplace_back(json::view(s));
      }
    }
    if (h.url.empty() == h.command.empty()) {
      return bad(path + ".function", "expected exactly one of url and command");
    }
    if (const auto* t = json::find(v, "timeout_ms")) {
      if (!t->IsUint() || t->GetUint() < 1 || t->GetUint() > 60000) {
        return bad(path + ".timeout_ms", "expected an integer in 1..60000");
      }
      h.timeout_ms = t->GetUint();
    }
    c.provisioning_hooks.push_back(std::move(h));
  }
  return {};
}

result<provisioning::hook_response> ask(const std::vector<custom_authorizer>& hooks,
                                        std::string_view target_arn,
                                        const provisioning::hook_request& r) {
  using provisioning::error;
  const custom_authorizer* fn = nullptr;
  for (const auto& h : hooks) {
    if (h.name == target_arn) fn = &h;
  }
  if (fn == nullptr) {
    return failure{error::access_denied,
                   "pre-provisioning hook " + std::string(target_arn) +
                       ": no function configured for it (provisioning_hooks)",
                   {}};
  }
  auto body = custom_auth::invoke(*fn, provisioning::hook_event(r));
  if (!body) {
    return failure{error::access_denied, "pre-provisioning hook failed: " + body.describe(), {}};
  }
  auto answer = provisioning::parse_hook_response(*body);
  if (!answer) {
    return failure{error::access_denied, "pre-provisioning hook failed: " + answer.describe(), {}};
  }
  return answer;
}

}  // namespace iotblocks::gateway::provisioning_hooks
