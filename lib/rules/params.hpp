// Private: reads an action's parameter object with messages that name the parameter.
#pragma once

#include <iotblocks/rules/error.hpp>

#include "core/json.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::rules::detail {

class params {
 public:
  static result<params> parse(std::string_view type, std::string_view text) {
    auto d = json::parse(text, {.max_depth = 16, .validate_utf8 = true});
    if (!d) return std::move(d).take_failure();
    if (!d->IsObject())
      return {error::invalid_action, fmt::format("{}: parameters must be an object", type)};
    params p;
    p.type_ = type;
    p.doc_ = std::move(*d);
    return p;
  }

  failure bad(std::string_view key, std::string_view what) const {
    return {error::invalid_action, fmt::format("{}: \"{}\" {}", type_, key, what), {}};
  }

  const rapidjson::Value* find(std::string_view key) const { return json::find(doc_, key); }

  result<std::string> required_string(std::string_view key) const {
    const auto* v = find(key);
    if (!v) return bad(key, "is required");
    if (!v->IsString() || v->GetStringLength() == 0) return bad(key, "must be a non-empty string");
    return std::string(json::view(*v));
  }
  result<std::optional<std::string>> optional_string(std::string_view key) const {
    const auto* v = find(key);
    if (!v) return std::optional<std::string>{};
    if (!v->IsString()) return bad(key, "must be a string");
    return std::optional<std::string>(std::string(json::view(*v)));
  }
  result<std::int64_t> integer(std::string_view key, std::int64_t def, std::int64_t lo,
                               std::int64_t hi) const {
    const auto* v = find(key);
    if (!v) return def;
    std::int64_t n = 0;
    if (v->IsInt64()) {
      n = v->GetInt64();
    } else if (v->IsString()) {  // AWS takes some numbers as strings ("qos": "1")
      const auto s = json::view(*v);
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec != std::errc{} || p != s.data() + s.size()) return bad(key, "must be an integer");
    } else {
      return bad(key, "must be an integer");
    }
    if (n < lo || n > hi) return bad(key, fmt::format("must be between {} and {}", lo, hi));
    return n;
  }
  result<bool> boolean(std::string_view key, bool def) const {
    const auto* v = find(key);
    if (!v) return def;
    if (!v->IsBool()) return bad(key, "must be true or false");
    return v->GetBool();
  }
  const std::string& type() const noexcept { return type_; }

 private:
  std::string type_;
  rapidjson::Document doc_;
};

}  // namespace iotblocks::rules::detail
