#include "core/json.hpp"
#include "sql/convert.hpp"
#include "sql/json_out.hpp"

#include <iotblocks/sql/value.hpp>

#include <charconv>
#include <cmath>

namespace iotblocks::sql {
namespace {

void write(std::string& out, const value& v) {
  switch (v.kind()) {
    case type::undefined: return;
    case type::null: out += "null"; return;
    case type::boolean: out += v.as_bool() ? "true" : "false"; return;
    case type::integer: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
      out.append(buf, static_cast<std::size_t>(r.ptr - buf));
      return;
    }
    case type::decimal: {
      char buf[32];
      if (!std::isfinite(v.as_decimal())) {
        out += "null";
        return;
      }
      out += detail::format_double(v.as_decimal(), buf);
      return;
    }
    case type::string: detail::write_string(out, v.as_string()); return;
    case type::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.as_array()) {
        if (e.is_undefined()) continue;
        if (!first) out.push_back(',');
        first = false;
        write(out, e);
      }
      out.push_back(']');
      return;
    }
    case type::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.as_object()) {
        if (e.is_undefined()) continue;
        if (!first) out.push_back(',');
        first = false;
        detail::write_string(out, k);
        out.push_back(':');
        write(out, e);
      }
      out.push_back('}');
      return;
    }
  }
}

value from_rapidjson(const rapidjson::Value& j) {
  if (j.IsNull()) return value::null();
  if (j.IsBool()) return value(j.GetBool());
  if (j.IsInt64()) return value(j.GetInt64());
  if (j.IsNumber()) {
    const double d = j.GetDouble();
    if (d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
      return value(static_cast<std::int64_t>(d));
    }
    return value(d);
  }
  if (j.IsString()) return value(json::view(j));
  if (j.IsArray()) {
    value::array a;
    a.reserve(j.Size());
    for (const auto& e : j.GetArray()) a.push_back(from_rapidjson(e));
    return value(std::move(a));
  }
  value::object o;
  for (const auto& m : j.GetObject()) o.emplace_back(json::view(m.name), from_rapidjson(m.value));
  return value(std::move(o));
}

bool num_equal(const value& a, const value& b) {
  if (a.kind() == type::integer && b.kind() == type::integer) return a.as_int() == b.as_int();
  if (a.kind() == type::decimal && b.kind() == type::decimal)
    return a.as_decimal() == b.as_decimal();
  const std::int64_t i = a.kind() == type::integer ? a.as_int() : b.as_int();
  const double d = a.kind() == type::decimal ? a.as_decimal() : b.as_decimal();
  return d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
         static_cast<std::int64_t>(d) == i;
}

}  // namespace

std::string_view type_name(type t) noexcept {
  switch (t) {
    case type::undefined: return "Undefined";
    case type::null: return "Null";
    case type::boolean: return "Boolean";
    case type::integer: return "Int";
    case type::decimal: return "Decimal";
    case type::string: return "String";
    case type::array: return "Array";
    case type::object: return "Object";
  }
  return "Undefined";
}

const value* value::find(std::string_view key) const noexcept {
  if (kind() != type::object) return nullptr;
  for (const auto& [k, v] : as_object()) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string value::to_json() const {
  std::string out;
  write(out, *this);
  return out;
}

result<value> value::from_json(std::string_view text, unsigned max_depth) {
  auto doc = json::parse(text, {.max_depth = max_depth});
  if (!doc) return std::move(doc).take_failure();
  return from_rapidjson(*doc);
}

bool operator==(const value& a, const value& b) noexcept {
  if (a.is_number() && b.is_number()) return num_equal(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case type::undefined:
    case type::null: return true;
    case type::boolean: return a.as_bool() == b.as_bool();
    case type::string: return a.as_string() == b.as_string();
    case type::array: {
      const auto& x = a.as_array();
      const auto& y = b.as_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!(x[i] == y[i])) return false;
      }
      return true;
    }
    case type::object: {
      std::size_t ca = 0, cb = 0;
      for (const auto& [k, v] : a.as_object()) {
        if (v.is_undefined()) continue;
        ++ca;
        const value* o = b.find(k);
        if (!o || !(*o == v)) return false;
      }
      for (const auto& [k, v] : b.as_object()) cb += v.is_undefined() ? 0 : 1;
      return ca == cb;
    }
    default: return false;
  }
}

}  // namespace iotblocks::sql
