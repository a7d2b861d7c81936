// Parsing a template: JSON within limits, then the structure AWS's template language has.
#include "provisioning/evaluator.hpp"
#include "provisioning/parsed_template.hpp"

#include "core/json.hpp"

#include <iotblocks/provisioning/error.hpp>

#include <array>
#include <utility>

namespace iotblocks::provisioning {
namespace {

using detail::child;
using detail::template_failure;

bool one_of(std::string_view s, std::initializer_list<std::string_view> names) noexcept {
  for (auto n : names) {
    if (s == n) return true;
  }
  return false;
}

std::optional<failure> check_object(const rapidjson::Value& v, const std::string& path) {
  if (!v.IsObject()) return template_failure(path, "must be an object");
  return std::nullopt;
}

std::optional<failure> check_parameters(const rapidjson::Value& params,
                                        std::vector<std::string>& names) {
  if (auto f = check_object(params, "Parameters")) return f;
  for (const auto& m : params.GetObject()) {
    const std::string path = child("Parameters", json::view(m.name));
    if (auto f = check_object(m.value, path)) return f;
    for (const auto& field : m.value.GetObject()) {
      const auto key = json::view(field.name);
      if (!one_of(key, {"Type", "Default", "Description"})) {
        return template_failure(child(path, key), "unsupported parameter property");
      }
    }
    const auto type = json::get_string(m.value, "Type");
    if (!type || !one_of(*type, {"String", "Number", "CommaDelimitedList"})) {
      return template_failure(child(path, "Type"), "must be String, Number or CommaDelimitedList");
    }
    if (const auto* d = json::find(m.value, "Default"); d && !d->IsString() && !d->IsNumber()) {
      return template_failure(child(path, "Default"), "must be a string or a number");
    }
    names.emplace_back(json::view(m.name));
  }
  return std::nullopt;
}

std::optional<failure> check_mappings(const rapidjson::Value& maps) {
  if (auto f = check_object(maps, "Mappings")) return f;
  for (const auto& map : maps.GetObject()) {
    const std::string path = child("Mappings", json::view(map.name));
    if (auto f = check_object(map.value, path)) return f;
    for (const auto& top : map.value.GetObject()) {
      const std::string top_path = child(path, json::view(top.name));
      if (auto f = check_object(top.value, top_path)) return f;
      for (const auto& leaf : top.value.GetObject()) {
        bool ok = leaf.value.IsString();
        if (leaf.value.IsArray()) {
          ok = true;
          for (const auto& s : leaf.value.GetArray()) ok = ok && s.IsString();
        }
        if (!ok) {
          return template_failure(child(top_path, json::view(leaf.name)),
                                  "must be a string or a list of strings");
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<failure> check_resource(const rapidjson::Value& res, const std::string& path,
                                      const rapidjson::Value* conditions, int& things,
                                      int& certificates) {
  if (auto f = check_object(res, path)) return f;
  for (const auto& field : res.GetObject()) {
    const auto key = json::view(field.name);
    if (!one_of(key, {"Type", "Properties", "OverrideSettings", "Condition"})) {
      return template_failure(child(path, key), "unsupported resource property");
    }
  }
  const auto type = json::get_string(res, "Type");
  if (!type || !one_of(*type, {"AWS::IoT::Thing", "AWS::IoT::Certificate", "AWS::IoT::Policy"})) {
    return template_failure(child(path, "Type"),
                            "must be AWS::IoT::Thing, AWS::IoT::Certificate or AWS::IoT::Policy");
  }
  const auto* props = json::find(res, "Properties");
  if (!props) return template_failure(path, "Properties missing");
  if (auto f = check_object(*props, child(path, "Properties"))) return f;
  if (const auto* o = json::find(res, "OverrideSettings")) {
    const std::string opath = child(path, "OverrideSettings");
    if (*type != "AWS::IoT::Thing") {
      return template_failure(opath, "only an AWS::IoT::Thing has OverrideSettings");
    }
    if (auto f = check_object(*o, opath)) return f;
    for (const auto& m : o->GetObject()) {
      const auto key = json::view(m.name);
      if (!one_of(key, {"AttributePayload", "ThingTypeName", "ThingGroups"})) {
        return template_failure(child(opath, key), "no override setting for this property");
      }
    }
  }
  if (const auto* c = json::find(res, "Condition")) {
    if (!c->IsString()) return template_failure(child(path, "Condition"), "must be a name");
    if (!conditions || !json::find(*conditions, json::view(*c))) {
      return template_failure(child(path, "Condition"),
                              "unknown condition '" + std::string(json::view(*c)) + "'");
    }
  }
  if (*type == "AWS::IoT::Thing" && ++things > 1) {
    return template_failure(path, "a template declares at most one AWS::IoT::Thing");
  }
  if (*type == "AWS::IoT::Certificate" && ++certificates > 1) {
    return template_failure(path, "a template declares at most one AWS::IoT::Certificate");
  }
  return std::nullopt;
}

// Every function named in `v` is one the language has (a typo fails at creation, not at the
// first device), and a Condition or Fn::If names a declared condition.
std::optional<failure> check_functions(const rapidjson::Value& v, const std::string& path,
                                       const rapidjson::Value* conditions) {
  if (v.IsArray()) {
    std::size_t i = 0;
    for (const auto& item : v.GetArray()) {
      if (auto f = check_functions(item, detail::element(path, i++), conditions)) return f;
    }
    return std::nullopt;
  }
  if (!v.IsObject()) return std::nullopt;
  if (v.MemberCount() == 1) {
    const auto name = json::view(v.MemberBegin()->name);
    const auto& arg = v.MemberBegin()->value;
    if (name.starts_with("Fn::") &&
        !one_of(name, {"Fn::Join", "Fn::Select", "Fn::Split", "Fn::FindInMap", "Fn::Sub", "Fn::If",
                       "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"})) {
      return template_failure(path, "unknown function '" + std::string(name.substr(0, 64)) + "'");
    }
    const rapidjson::Value* named = nullptr;
    std::string where = child(path, name);
    if (name == "Condition") named = &arg;
    if (name == "Fn::If" && arg.IsArray() && !arg.Empty()) {
      named = &arg[0];
      where = detail::element(where, 0);
    }
    if (named != nullptr && named->IsString() &&
        (!conditions || !json::find(*conditions, json::view(*named)))) {
      return template_failure(
          where, "unknown condition '" + std::string(json::view(*named).substr(0, 64)) + "'");
    }
    if (name == "Ref" && !arg.IsString()) {
      return template_failure(child(path, name), "Ref takes a name");
    }
  }
  for (const auto& m : v.GetObject()) {
    if (auto f = check_functions(m.value, child(path, json::view(m.name)), conditions)) return f;
  }
  return std::nullopt;
}

std::optional<failure> check_structure(const rapidjson::Value& root,
                                       std::vector<std::string>& names) {
  if (!root.IsObject()) return template_failure("template", "must be a JSON object");
  for (const auto& m : root.GetObject()) {
    const auto key = json::view(m.name);
    if (!one_of(key, {"AWSTemplateFormatVersion", "Description", "Parameters", "Mappings",
                      "Conditions", "Resources", "DeviceConfiguration"})) {
      return template_failure(std::string(key), "unknown template section");
    }
  }
  if (const auto* p = json::find(root, "Parameters")) {
    if (auto f = check_parameters(*p, names)) return f;
  }
  if (const auto* m = json::find(root, "Mappings")) {
    if (auto f = check_mappings(*m)) return f;
  }
  const auto* conditions = json::find(root, "Conditions");
  if (conditions) {
    if (auto f = check_object(*conditions, "Conditions")) return f;
  }
  if (const auto* d = json::find(root, "DeviceConfiguration")) {
    if (auto f = check_object(*d, "DeviceConfiguration")) return f;
  }
  const auto* resources = json::find(root, "Resources");
  if (!resources) return template_failure("Resources", "missing");
  if (auto f = check_object(*resources, "Resources")) return f;
  int things = 0;
  int certificates = 0;
  for (const auto& r : resources->GetObject()) {
    if (auto f = check_resource(r.value, child("Resources", json::view(r.name)), conditions, things,
                                certificates)) {
      return f;
    }
  }
  for (const auto section : {"Conditions", "Resources", "DeviceConfiguration"}) {
    if (const auto* s = json::find(root, section)) {
      if (auto f = check_functions(*s, section, conditions)) return f;
    }
  }
  return std::nullopt;
}

}  // namespace

const std::string& provisioning_template::body() const noexcept { return p_->body; }

std::vector<std::string> provisioning_template::parameter_names() const {
  return p_->parameter_names;
}

result<provisioning_template> parse_template(std::string_view body, const limits& l) {
  if (body.size() > l.max_template_size()) {
    return {error::limit_exceeded, "template is " + std::to_string(body.size()) +
                                       " bytes, more than " +
                                       std::to_string(l.max_template_size())};
  }
  auto doc = json::parse(body, {.max_depth = l.max_depth()});
  if (!doc) {
    const auto& f = doc.fail();
    return {error::invalid_template, "template: " + f.describe(), f.where};
  }
  auto p = std::make_shared<detail::parsed_template>();
  if (auto f = check_structure(*doc, p->parameter_names)) return std::move(*f);
  p->body = std::string(body);
  p->doc = std::move(*doc);
  provisioning_template t;
  t.p_ = std::move(p);
  return t;
}

bool valid_template_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 36) return false;
  for (const char c : name) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace iotblocks::provisioning
