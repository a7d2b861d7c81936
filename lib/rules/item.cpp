#include <iotblocks/rules/item_store.hpp>

#include "core/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace iotblocks::rules {

std::optional<range_number> parse_range_number(std::string_view key) noexcept {
  const char* end = key.data() + key.size();
  std::int64_t i = 0;
  if (auto [p, ec] = std::from_chars(key.data(), end, i); ec == std::errc{} && p == end) {
    return i;
  }
  double d = 0;
  if (auto [p, ec] = std::from_chars(key.data(), end, d);
      ec == std::errc{} && p == end && std::isfinite(d)) {
    return d;
  }
  return std::nullopt;
}

std::string item::to_json() const {
  rapidjson::Document doc;
  auto& a = doc.GetAllocator();
  rapidjson::Value out(rapidjson::kObjectType);
  auto parsed = json::parse(payload);
  rapidjson::Value attrs;
  if (parsed) {
    attrs.CopyFrom(*parsed, a);
  } else {
    attrs = json::string_value(payload, a);
  }
  if (!payload_field.empty()) {
    out.AddMember(json::string_value(payload_field, a), attrs, a);
  } else if (attrs.IsObject()) {
    for (auto& m : attrs.GetObject()) out.AddMember(m.name, m.value, a);
  }
  auto set = [&](const std::string& field, const std::string& v, bool number) {
    if (field.empty()) return;
    rapidjson::Value key = json::string_value(field, a);
    out.RemoveMember(key);
    double d = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (number && ec == std::errc{} && p == v.data() + v.size() && std::isfinite(d)) {
      std::int64_t i = 0;
      auto [pi, eci] = std::from_chars(v.data(), v.data() + v.size(), i);
      if (eci == std::errc{} && pi == v.data() + v.size()) {
        out.AddMember(key, rapidjson::Value(i), a);
      } else {
        out.AddMember(key, rapidjson::Value(d), a);
      }
    } else {
      out.AddMember(key, json::string_value(v, a), a);
    }
  };
  set(hash_key_field, hash_key, false);
  set(range_key_field, range_key, range_is_number);
  return json::write(out);
}

}  // namespace iotblocks::rules
