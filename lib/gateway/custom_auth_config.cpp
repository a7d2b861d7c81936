// "custom_authorizers" and "default_authorizer" in the gateway's config.
#include "gateway/config_json.hpp"
#include "gateway/custom_auth.hpp"

#include <iotblocks/net/http_client.hpp>

#include <openssl/pem.h>

#include <memory>

namespace iotblocks::gateway::custom_auth {
namespace {

using detail::bad;

bool valid_name(std::string_view s) noexcept {  // AWS: [\w=,@-]+, 1..128
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '=' || c == ',' || c == '@' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool public_key_pem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return false;
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return false;
  EVP_PKEY_free(key);
  return true;
}

result<custom_authorizer> read_one(const rapidjson::Value& v, const std::string& path,
                                   std::string name) {
  if (!v.IsObject()) return bad(path, "expected an object");
  if (auto f = detail::only(v, path,
                            {"function", "token_key_name", "token_signing_public_keys",
                             "signing_disabled", "status", "timeout_ms"})) {
    return *f;
  }
  custom_authorizer a;
  a.name = std::move(name);
  if (auto f = read_function(v, path, a); !f) return std::move(f).take_failure();
  if (const auto* t = json::find(v, "token_key_name")) {
    if (!t->IsString() || t->GetStringLength() == 0 || t->GetStringLength() > 128) {
      return bad(path + ".token_key_name", "expected a string of 1 to 128 characters");
    }
    a.token_key_name = std::string(json::view(*t));
  }
  if (const auto* s = json::find(v, "signing_disabled")) {
    if (!s->IsBool()) return bad(path + ".signing_disabled", "expected a boolean");
    a.signing_disabled = s->GetBool();
  }
  if (const auto* s = json::find(v, "status")) {
    const auto text = s->IsString() ? json::view(*s) : std::string_view{};
    if (text != "ACTIVE" && text != "INACTIVE") {
      return bad(path + ".status", "expected ACTIVE or INACTIVE");
    }
    a.active = text == "ACTIVE";
  }
  if (const auto* keys = json::find(v, "token_signing_public_keys")) {
    if (!keys->IsObject()) return bad(path + ".token_signing_public_keys", "expected an object");
    for (auto it = keys->MemberBegin(); it != keys->MemberEnd(); ++it) {
      const std::string kp =
          path + ".token_signing_public_keys." + std::string(json::view(it->name));
      if (!it->value.IsString() || !public_key_pem(json::view(it->value))) {
        return bad(kp, "expected a PEM public key (-----BEGIN PUBLIC KEY-----)");
      }
      a.token_signing_public_keys.emplace_back(std::string(json::view(it->name)),
                                               std::string(json::view(it->value)));
    }
  }
  if (!a.signing_disabled && (a.token_key_name.empty() || a.token_signing_public_keys.empty())) {
    return bad(path,
               "signing is on (signing_disabled false): token_key_name and "
               "token_signing_public_keys are required");
  }
  return a;
}

}  // namespace

result<void> read_function(const rapidjson::Value& v, const std::string& path,
                           custom_authorizer& a) {
  const auto* fn = json::find(v, "function");
  if (fn == nullptr || !fn->IsObject()) {
    return bad(path + ".function", "expected {\"url\": ...} or {\"command\": [...]}");
  }
  if (auto f = detail::only(*fn, path + ".function", {"url", "command"})) return *f;
  if (const auto* url = json::find(*fn, "url")) {
    if (!url->IsString() || !net::parse_url(json::view(*url))) {
      return bad(path + ".function.url", "expected an http:// or https:// URL");
    }
    a.url = std::string(json::view(*url));
  }
  if (const auto* cmd = json::find(*fn, "command")) {
    if (!cmd->IsArray() || cmd->Empty()) {
      return bad(path + ".function.command", "expected a non-empty array of strings");
    }
    for (const auto& s : cmd->GetArray()) {
      if (!s.IsString() || s.GetStringLength() == 0) {
        return bad(path + ".function.command", "expected a non-empty array of strings");
      }
      a.command.emplace_back(json::view(s));
    }
  }
  if (a.url.empty() == a.command.empty()) {
    return bad(path + ".function", "expected exactly one of url and command");
  }
  if (const auto* t = json::find(v, "timeout_ms")) {
    if (!t->IsUint() || t->GetUint() < 1 || t->GetUint() > 60000) {
      return bad(path + ".timeout_ms", "expected an integer in 1..60000");
    }
    a.timeout_ms = t->GetUint();
  }
  return {};
}

result<void> read_config(const rapidjson::Value& root, config& c) {
  if (const auto* all = json::find(root, "custom_authorizers")) {
    if (!all->IsObject())
      return bad("custom_authorizers", "expected an object (name -> authorizer)");
    for (auto it = all->MemberBegin(); it != all->MemberEnd(); ++it) {
      std::string name(json::view(it->name));
      const std::string path = "custom_authorizers." + name;
      if (!valid_name(name)) return bad(path, "name: expected 1 to 128 of [A-Za-z0-9_=,@-]");
      auto a = read_one(it->value, path, std::move(name));
      if (!a) return std::move(a).take_failure();
      c.custom_authorizers.push_back(std::move(*a));
    }
  }
  if (const auto* d = json::find(root, "default_authorizer")) {
    if (!d->IsString()) return bad("default_authorizer", "expected an authorizer name");
    c.default_authorizer = std::string(json::view(*d));
    bool found = false;
    for (const auto& a : c.custom_authorizers) found |= a.name == c.default_authorizer;
    if (!found) {
      return bad("default_authorizer",
                 "no custom authorizer named \"" + c.default_authorizer + "\"");
    }
  }
  return {};
}

}  // namespace iotblocks::gateway::custom_auth
