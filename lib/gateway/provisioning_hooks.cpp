// Pre-provisioning hook functions: their config and one call through custom_auth::invoke.
#include "gateway/provisioning_hooks.hpp"

#include <iotblocks/provisioning/error.hpp>

#include "gateway/config_json.hpp"
#include "gateway/custom_auth.hpp"
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
    if (auto f = custom_auth::read_function(v, path, h); !f) return std::move(f).take_failure();
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
