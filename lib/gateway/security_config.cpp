// The "security" section of the gateway configuration.
#include <iotblocks/core/error.hpp>

#include "gateway/security_config.hpp"

namespace iotblocks::gateway::detail {
namespace {

failure bad(const std::string& path, const std::string& what) {
  return failure{core::error::invalid_argument, path + ": " + what, {}};
}

}  // namespace

result<void> read_security_config(const rapidjson::Value& root, security_config& out) {
  const rapidjson::Value* s = json::find(root, "security");
  if (s == nullptr) return {};
  if (!s->IsObject()) return bad("security", "expected an object");
  for (auto it = s->MemberBegin(); it != s->MemberEnd(); ++it) {
    const auto key = json::view(it->name);
    const std::string path = "security." + std::string(key);
    const auto& v = it->value;
    if (key == "registry") {
      if (!v.IsBool()) return bad(path, "expected true or false");
      out.registry = v.GetBool();
    } else if (key == "passwords") {
      if (!v.IsBool()) return bad(path, "expected true or false");
      out.passwords = v.GetBool();
    } else if (key == "password_iterations") {
      if (!v.IsUint() || v.GetUint() < 100'000 || v.GetUint() > 10'000'000) {
        return bad(path, "expected an integer in 100000..10000000");
      }
      out.password_iterations = v.GetUint();
    } else if (key == "users") {
      if (!v.IsObject()) return bad(path, "expected an object of name: password");
      for (auto u = v.MemberBegin(); u != v.MemberEnd(); ++u) {
        const std::string name(json::view(u->name));
        if (!u->value.IsString() || u->value.GetStringLength() == 0 || name.empty()) {
          return bad(path + "." + name, "expected a non-empty password string");
        }
        out.users.emplace_back(name, std::string(json::view(u->value)));
      }
    } else {
      return bad(path, "unknown key");
    }
  }
  return {};
}

}  // namespace iotblocks::gateway::detail
