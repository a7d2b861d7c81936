// Private: error helpers shared by the configuration readers (config.cpp, bridges_config.cpp).
#pragma once

#include <iotblocks/core/error.hpp>
#include <iotblocks/core/result.hpp>

#include "core/json.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::gateway::detail {

/// An invalid_argument failure whose message starts with the JSON path.
inline failure bad(const std::string& path, std::string_view what) {
  return failure{core::error::invalid_argument, path + ": " + std::string{what}, {}};
}

/// Checks that every member of `obj` is one of `keys`.
inline std::optional<failure> only(const rapidjson::Value& obj, const std::string& path,
                                   std::initializer_list<std::string_view> keys) {
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    const auto k = json::view(it->name);
    bool known = false;
    for (auto key : keys) known |= key == k;
    if (!known)
      return bad(path.empty() ? std::string(k) : path + "." + std::string(k), "unknown key");
  }
  return std::nullopt;
}

}  // namespace iotblocks::gateway::detail
