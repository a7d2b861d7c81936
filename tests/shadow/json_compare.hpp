// Test helper: a canonical text of a JSON value (object keys sorted, doubles always
// with a '.' or exponent), so payloads compare regardless of key order but 1 != 1.0.
#pragma once

#include "core/json.hpp"

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

namespace iotblocks::testing_json {

inline void canonical_into(std::string& out, const rapidjson::Value& v) {
  if (v.IsObject()) {
    std::vector<const rapidjson::Value::Member*> members;
    for (const auto& m : v.GetObject()) members.push_back(&m);
    std::sort(members.begin(), members.end(),
              [](auto* a, auto* b) { return json::view(a->name) < json::view(b->name); });
    out.push_back('{');
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i != 0) out.push_back(',');
      out += json::write(members[i]->name);
      out.push_back(':');
      canonical_into(out, members[i]->value);
    }
    out.push_back('}');
  } else if (v.IsArray()) {
    out.push_back('[');
    bool first = true;
    for (const auto& x : v.GetArray()) {
      if (!first) out.push_back(',');
      first = false;
      canonical_into(out, x);
    }
    out.push_back(']');
  } else if (v.IsDouble()) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v.GetDouble());
    std::string t(buf, r.ptr);
    if (t.find_first_of(".e") == std::string::npos) t += ".0";
    out += t;
  } else {
    out += json::write(v);
  }
}

inline std::string canonical(const rapidjson::Value& v) {
  std::string out;
  canonical_into(out, v);
  return out;
}

}  // namespace iotblocks::testing_json
