// Evaluating a template: parameters resolved, resources and DeviceConfiguration evaluated
// and checked against AWS IoT's rules for the registry values they become.
#include "provisioning/evaluator.hpp"
#include "provisioning/parsed_template.hpp"

#include "core/json.hpp"

#include <iotblocks/core/utf8.hpp>
#include <iotblocks/provisioning/error.hpp>

#include <cctype>
#include <charconv>
#include <utility>

namespace iotblocks::provisioning {
namespace {

using detail::child;
using detail::element;
using detail::template_failure;
using detail::value;

failure parameter_failure(const std::string& path, std::string_view message) {
  return failure{error::invalid_parameters, path + ": " + std::string(message), {}};
}

bool is_number(std::string_view s) noexcept {
  double d = 0;
  const auto* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, d);
  return !s.empty() && ec == std::errc{} && ptr == end;
}

// AWS: thing names 1..128 of [a-zA-Z0-9:_-]; attribute keys 1..128 and values 0..800 of
// [a-zA-Z0-9_.,@/:#-]; thing group and type names 1..128 of [a-zA-Z0-9:_-].
bool name_chars(std::string_view s, std::size_t max) noexcept {
  if (s.empty() || s.size() > max) return false;
  for (const char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool attribute_chars(std::string_view s, std::size_t min, std::size_t max) noexcept {
  if (s.size() < min || s.size() > max) return false;
  for (const char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
                    std::string_view("_.,@/:#-").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

result<std::string> a_string(value v, const std::string& path) {
  if (v.k != value::kind::string) return template_failure(path, "must be a string");
  return std::move(v.text);
}

result<override_mode> override_of(detail::evaluator& ev, const rapidjson::Value* settings,
                                  std::string_view property, const std::string& path,
                                  bool can_merge) {
  const rapidjson::Value* v = settings ? json::find(*settings, property) : nullptr;
  if (!v) return override_mode::do_nothing;
  const std::string where = child(path, property);
  auto e = ev.eval(*v, where);
  if (!e) return std::move(e).take_failure();
  auto s = a_string(std::move(*e), where);
  if (!s) return std::move(s).take_failure();
  if (*s == "DO_NOTHING") return override_mode::do_nothing;
  if (*s == "REPLACE") return override_mode::replace;
  if (*s == "FAIL") return override_mode::fail;
  if (*s == "MERGE" && can_merge) return override_mode::merge;
  return template_failure(where, can_merge ? "must be DO_NOTHING, REPLACE, MERGE or FAIL"
                                           : "must be DO_NOTHING, REPLACE or FAIL");
}

result<thing_plan> thing_of(detail::evaluator& ev, std::string_view logical, const value& props,
                            const rapidjson::Value& res, const std::string& path) {
  thing_plan t;
  t.logical_name = logical;
  bool named = false;
  for (std::size_t i = 0; i < props.keys.size(); ++i) {
    const auto& key = props.keys[i];
    const auto& v = props.items[i];
    const std::string where = child(child(path, "Properties"), key);
    if (key == "ThingName") {
      auto s = a_string(v, where);
      if (!s) return std::move(s).take_failure();
      if (!name_chars(*s, 128)) {
        return parameter_failure(
            where, "thing name '" + s->substr(0, 128) + "' is not 1..128 of [a-zA-Z0-9:_-]");
      }
      t.name = std::move(*s);
      named = true;
    } else if (key == "ThingTypeName") {
      auto s = a_string(v, where);
      if (!s) return std::move(s).take_failure();
      if (!name_chars(*s, 128)) return parameter_failure(where, "invalid thing type name");
      t.type_name = std::move(*s);
    } else if (key == "ThingGroups") {
      std::vector<std::string> groups;
      if (v.k == value::kind::string) {
        groups.push_back(v.text);
      } else if (v.k == value::kind::list) {
        for (std::size_t g = 0; g < v.items.size(); ++g) {
          auto s = a_string(v.items[g], element(where, g));
          if (!s) return std::move(s).take_failure();
          groups.push_back(std::move(*s));
        }
      } else {
        return template_failure(where, "must be a list of thing group names");
      }
      for (std::size_t g = 0; g < groups.size(); ++g) {
        if (!name_chars(groups[g], 128)) {
          return parameter_failure(element(where, g), "invalid thing group name");
        }
      }
      t.groups = std::move(groups);
    } else if (key == "AttributePayload") {
      if (v.k != value::kind::object) return template_failure(where, "must be an object");
      std::map<std::string, std::string> attributes;
      for (std::size_t a = 0; a < v.keys.size(); ++a) {
        const std::string apath = child(where, v.keys[a]);
        if (!attribute_chars(v.keys[a], 1, 128)) {
          return template_failure(apath, "attribute name is not 1..128 of [a-zA-Z0-9_.,@/:#-]");
        }
        auto s = a_string(v.items[a], apath);
        if (!s) return std::move(s).take_failure();
        if (!attribute_chars(*s, 0, 800)) {
          return parameter_failure(apath, "attribute value is not 0..800 of [a-zA-Z0-9_.,@/:#-]");
        }
        attributes[v.keys[a]] = std::move(*s);
      }
      t.attributes = std::move(attributes);
    } else if (key == "BillingGroup" || key == "PackageVersions") {
      return template_failure(where, "not supported by this gateway");
    } else {
      return template_failure(where, "unknown AWS::IoT::Thing property");
    }
  }
  if (!named) return template_failure(child(path, "Properties"), "ThingName missing");
  const auto* settings = json::find(res, "OverrideSettings");
  const std::string opath = child(path, "OverrideSettings");
  auto a = override_of(ev, settings, "AttributePayload", opath, true);
  if (!a) return std::move(a).take_failure();
  auto ty = override_of(ev, settings, "ThingTypeName", opath, false);
  if (!ty) return std::move(ty).take_failure();
  auto g = override_of(ev, settings, "ThingGroups", opath, true);
  if (!g) return std::move(g).take_failure();
  t.attributes_override = *a;
  t.type_override = *ty;
  t.groups_override = *g;
  return t;
}

result<certificate_plan> certificate_of(std::string_view logical, const value& props,
                                        const std::string& path) {
  certificate_plan c;
  c.logical_name = logical;
  c.active = true;
  int sources = 0;
  for (std::size_t i = 0; i < props.keys.size(); ++i) {
    const auto& key = props.keys[i];
    const std::string where = child(child(path, "Properties"), key);
    auto s = a_string(props.items[i], where);
    if (!s) return std::move(s).take_failure();
    if (key == "CertificateId") {
      c.id = std::move(*s);
      ++sources;
    } else if (key == "CertificateSigningRequest") {
      c.csr = std::move(*s);
      ++sources;
    } else if (key == "CertificatePem") {
      c.pem = std::move(*s);
      ++sources;
    } else if (key == "CACertificatePem") {
      c.ca_pem = std::move(*s);
    } else if (key == "Status") {
      std::string upper = *s;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (upper != "ACTIVE" && upper != "INACTIVE") {
        return template_failure(where, "must be Active or Inactive");
      }
      c.active = upper == "ACTIVE";
    } else {
      return template_failure(where, "unknown AWS::IoT::Certificate property");
    }
  }
  if (sources != 1) {
    return template_failure(child(path, "Properties"),
                            "needs exactly one of CertificateId, CertificateSigningRequest and "
                            "CertificatePem");
  }
  if (!c.ca_pem.empty() && c.pem.empty()) {
    return template_failure(child(path, "Properties"), "CACertificatePem needs CertificatePem");
  }
  return c;
}

result<policy_plan> policy_of(std::string_view logical, const value& props,
                              const std::string& path) {
  policy_plan p;
  p.logical_name = logical;
  for (std::size_t i = 0; i < props.keys.size(); ++i) {
    const auto& key = props.keys[i];
    const std::string where = child(child(path, "Properties"), key);
    auto s = a_string(props.items[i], where);
    if (!s) return std::move(s).take_failure();
    if (key == "PolicyName") {
      if (s->empty() || s->size() > 128) return template_failure(where, "must be 1..128 bytes");
      p.name = std::move(*s);
    } else if (key == "PolicyDocument") {
      auto doc = json::parse(*s, {.max_depth = 32});
      if (!doc || !doc->IsObject()) {
        return template_failure(where, "must be a JSON policy document (an object, as text)");
      }
      p.document = std::move(*s);
    } else {
      return template_failure(where, "unknown AWS::IoT::Policy property");
    }
  }
  if (p.name.empty() == p.document.empty()) {
    return template_failure(child(path, "Properties"),
                            "needs exactly one of PolicyName and PolicyDocument");
  }
  return p;
}

// Declared parameters: the device's value, else the Default; pseudo parameters win.
result<std::map<std::string, std::string>> resolve(const rapidjson::Value& root,
                                                   const std::map<std::string, std::string>& given,
                                                   const std::map<std::string, std::string>& pseudo,
                                                   std::set<std::string>& lists, const limits& l) {
  if (given.size() > l.max_parameters()) {
    return {error::invalid_parameters,
            "more than " + std::to_string(l.max_parameters()) + " parameters"};
  }
  for (const auto& [name, v] : given) {
    if (name.size() > l.max_parameter_name() || v.size() > l.max_parameter_value()) {
      return {error::invalid_parameters,
              "parameter '" + name.substr(0, 64) + "' is longer than allowed"};
    }
    if (!is_valid_utf8(name) || !is_valid_utf8(v)) {
      return {error::invalid_parameters, "a parameter is not UTF-8"};
    }
  }
  std::map<std::string, std::string> out = pseudo;
  const rapidjson::Value* params = json::find(root, "Parameters");
  if (!params) return out;
  for (const auto& m : params->GetObject()) {
    std::string name(json::view(m.name));
    const std::string path = child("Parameters", name);
    if (out.contains(name)) continue;
    std::string v;
    if (const auto it = given.find(name); it != given.end()) {
      v = it->second;
    } else if (const auto* d = json::find(m.value, "Default")) {
      v = d->IsString() ? std::string(json::view(*d)) : json::write(*d);
    } else {
      return parameter_failure(path, "no value given and no Default");
    }
    const auto type = *json::get_string(m.value, "Type");
    if (type == "Number" && !is_number(v)) {
      return parameter_failure(path, "'" + v.substr(0, 64) + "' is not a Number");
    }
    if (type == "CommaDelimitedList") lists.insert(name);
    out.emplace(std::move(name), std::move(v));
  }
  return out;
}

}  // namespace

const char* to_string(override_mode m) noexcept {
  switch (m) {
    case override_mode::do_nothing: return "DO_NOTHING";
    case override_mode::replace: return "REPLACE";
    case override_mode::merge: return "MERGE";
    case override_mode::fail: return "FAIL";
  }
  return "DO_NOTHING";
}

result<plan> evaluate(const provisioning_template& t,
                      const std::map<std::string, std::string>& parameters,
                      const std::map<std::string, std::string>& pseudo, const limits& l) {
  const rapidjson::Value& root = t.p_->doc;
  std::set<std::string> lists;
  auto resolved = resolve(root, parameters, pseudo, lists, l);
  if (!resolved) return std::move(resolved).take_failure();
  detail::evaluator ev{root, *resolved, lists, l};
  plan out;
  for (const auto& r : json::find(root, "Resources")->GetObject()) {
    const std::string_view logical = json::view(r.name);
    const std::string path = child("Resources", logical);
    if (const auto* c = json::find(r.value, "Condition")) {
      auto on = ev.condition(json::view(*c), child(path, "Condition"));
      if (!on) return std::move(on).take_failure();
      if (!*on) continue;
    }
    auto props = ev.eval(*json::find(r.value, "Properties"), child(path, "Properties"));
    if (!props) return std::move(props).take_failure();
    const auto type = *json::get_string(r.value, "Type");
    if (type == "AWS::IoT::Thing") {
      auto th = thing_of(ev, logical, *props, r.value, path);
      if (!th) return std::move(th).take_failure();
      out.thing = std::move(*th);
    } else if (type == "AWS::IoT::Certificate") {
      auto c = certificate_of(logical, *props, path);
      if (!c) return std::move(c).take_failure();
      out.certificate = std::move(*c);
    } else {
      auto p = policy_of(logical, *props, path);
      if (!p) return std::move(p).take_failure();
      out.policies.push_back(std::move(*p));
    }
  }
  if (const auto* d = json::find(root, "DeviceConfiguration")) {
    auto cfg = ev.eval(*d, "DeviceConfiguration");
    if (!cfg) return std::move(cfg).take_failure();
    for (std::size_t i = 0; i < cfg->keys.size(); ++i) {
      const std::string where = child("DeviceConfiguration", cfg->keys[i]);
      auto s = a_string(std::move(cfg->items[i]), where);
      if (!s) return std::move(s).take_failure();
      out.device_configuration[cfg->keys[i]] = std::move(*s);
    }
  }
  return out;
}

}  // namespace iotblocks::provisioning
