// The config keys about AWS IoT device compatibility (config_device.hpp).
#include "gateway/config_device.hpp"

#include "gateway/config_json.hpp"
#include "gateway/operator_log.hpp"

#include <algorithm>

namespace iotblocks::gateway::detail {
namespace {

bool valid_region(std::string_view r) noexcept {
  return !r.empty() && r.size() <= 32 && std::all_of(r.begin(), r.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
  });
}

bool valid_account(std::string_view a) noexcept {
  return a.size() == 12 &&
         std::all_of(a.begin(), a.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

}  // namespace

result<void> read_device_settings(const rapidjson::Value& root, config& c) {
  if (const auto* aws = json::find(root, "aws")) {
    if (!aws->IsObject()) return bad("aws", "expected an object");
    if (auto f = only(*aws, "aws", {"region", "account_id", "any_account"})) return *f;
    if (const auto* r = json::find(*aws, "region")) {
      if (!r->IsString() || !valid_region(json::view(*r))) {
        return bad("aws.region", "expected a region name such as \"eu-west-1\"");
      }
      c.aws.region = std::string(json::view(*r));
    }
    if (const auto* a = json::find(*aws, "account_id")) {
      if (!a->IsString() || !valid_account(json::view(*a))) {
        return bad("aws.account_id", "expected 12 digits as a string, e.g. \"123456789012\"");
      }
      c.aws.account_id = std::string(json::view(*a));
    }
    if (const auto* any = json::find(*aws, "any_account")) {
      if (!any->IsBool()) return bad("aws.any_account", "expected true or false");
      c.aws.any_account = any->GetBool();
    }
  }
  if (const auto* log = json::find(root, "log")) {
    if (!log->IsObject()) return bad("log", "expected an object");
    if (auto f = only(*log, "log", {"level", "burst", "per_second"})) return *f;
    if (const auto* l = json::find(*log, "level")) {
      const auto level = l->IsString() ? parse_log_level(json::view(*l)) : std::nullopt;
      if (!level) return bad("log.level", "expected debug, info, warn, error or off");
      c.log.level = *level;
    }
    for (auto [key, out] : {std::pair<std::string_view, std::uint32_t*>{"burst", &c.log.burst},
                            {"per_second", &c.log.per_second}}) {
      if (const auto* v = json::find(*log, key)) {
        if (!v->IsUint() || v->GetUint() < 1 || v->GetUint() > 100'000) {
          return bad("log." + std::string(key), "expected an integer in 1..100000");
        }
        *out = v->GetUint();
      }
    }
  }
  if (const auto* p = json::find(root, "certificate_profile")) {
    const auto profile = p->IsString() ? x509::parse_profile(json::view(*p)) : std::nullopt;
    if (!profile) return bad("certificate_profile", "expected \"aws\" or \"strict\"");
    c.certificate_profile = *profile;
  }
  if (const auto* k = json::find(root, "provisioning_key_algorithm")) {
    if (!k->IsString() || !x509::parse_key_algorithm(json::view(*k))) {
      return bad("provisioning_key_algorithm",
                 "expected \"p256\", \"rsa2048\", \"rsa3072\", \"p384\" or \"ed25519\"");
    }
    c.provisioning_key_algorithm = *x509::parse_key_algorithm(json::view(*k));
  }
  return {};
}

}  // namespace iotblocks::gateway::detail
