#include "postgres/columns.hpp"

#include "core/json.hpp"

#include <charconv>

namespace iotblocks::postgres::detail {

std::optional<std::int64_t> to_int64(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string attributes_json(const std::map<std::string, std::string>& attributes) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  for (const auto& [k, v] : attributes) {
    doc.AddMember(json::string_value(k, alloc), json::string_value(v, alloc), alloc);
  }
  return json::write(doc);
}

std::optional<std::map<std::string, std::string>> parse_attributes(std::string_view text) {
  auto doc = json::parse(text);
  if (!doc || !doc->IsObject()) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& m : doc->GetObject()) {
    if (!m.value.IsString()) return std::nullopt;
    out.emplace(json::view(m.name), json::view(m.value));
  }
  return out;
}

}  // namespace iotblocks::postgres::detail
