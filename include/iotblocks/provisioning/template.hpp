// Provisioning templates in AWS IoT's template language: Parameters (Type, Default),
// Mappings, Conditions, Resources (AWS::IoT::Thing, AWS::IoT::Certificate, AWS::IoT::Policy,
// with OverrideSettings and a Condition each), DeviceConfiguration, and the functions Ref,
// Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Sub, Fn::If, Fn::Equals, Fn::Not,
// Fn::And, Fn::Or and Condition. Parsing checks the structure; evaluating with a device's
// parameters yields a plan, or a failure whose message names the path in the template:
//
//   auto t = iotblocks::provisioning::parse_template(text);
//   auto p = iotblocks::provisioning::evaluate(*t, {{"SerialNumber", "42"}},
//                                              {{"AWS::IoT::Certificate::Id", cert_id}});
//   // p->thing->name == "lamp-42"; or p.describe() ==
//   // "Resources.thing.Properties.ThingName: Ref to unknown parameter 'Serial'"
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/provisioning/plan.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::provisioning {

/// Named limits; defaults are AWS IoT's where AWS has one.
/// Distinct objects: safe. Shared objects: unsafe.
class limits {
 public:
  /// Largest template body, bytes. Default 10240 (AWS: templateBody).
  limits& max_template_size(std::size_t n) noexcept { return set(template_, n); }
  std::size_t max_template_size() const noexcept { return template_; }
  /// Deepest JSON nesting in a template or request. Default 32.
  limits& max_depth(unsigned n) noexcept {
    depth_ = n;
    return *this;
  }
  unsigned max_depth() const noexcept { return depth_; }
  /// Most parameters a device sends. Default 64 (not an AWS limit: bounds memory).
  limits& max_parameters(std::size_t n) noexcept { return set(parameters_, n); }
  std::size_t max_parameters() const noexcept { return parameters_; }
  /// Longest parameter name. Default 2048 (AWS: RegisterThing parameters key).
  limits& max_parameter_name(std::size_t n) noexcept { return set(name_, n); }
  std::size_t max_parameter_name() const noexcept { return name_; }
  /// Longest parameter value. Default 4096 (AWS: RegisterThing parameters value).
  limits& max_parameter_value(std::size_t n) noexcept { return set(value_, n); }
  std::size_t max_parameter_value() const noexcept { return value_; }
  /// Most bytes of strings one evaluation may produce (Fn::Join and Fn::Sub of long
  /// parameters repeated). Default 65536.
  limits& max_output(std::size_t n) noexcept { return set(output_, n); }
  std::size_t max_output() const noexcept { return output_; }
  /// Largest request payload read. Default 131072 (the MQTT payload limit of AWS IoT).
  limits& max_request_size(std::size_t n) noexcept { return set(request_, n); }
  std::size_t max_request_size() const noexcept { return request_; }

 private:
  limits& set(std::size_t& field, std::size_t n) noexcept {
    field = n;
    return *this;
  }
  std::size_t template_ = 10240;
  unsigned depth_ = 32;
  std::size_t parameters_ = 64;
  std::size_t name_ = 2048;
  std::size_t value_ = 4096;
  std::size_t output_ = 65536;
  std::size_t request_ = 131072;
};

namespace detail {
struct parsed_template;
}

/// A parsed template. Immutable; copies share the parsed tree.
/// Distinct objects: safe. Shared objects: safe (const).
class provisioning_template {
 public:
  /// The template body as given.
  const std::string& body() const noexcept;
  /// The names of the declared Parameters, in template order.
  std::vector<std::string> parameter_names() const;

 private:
  friend result<provisioning_template> parse_template(std::string_view, const limits&);
  friend result<plan> evaluate(const provisioning_template&,
                               const std::map<std::string, std::string>&,
                               const std::map<std::string, std::string>&, const limits&);
  std::shared_ptr<const detail::parsed_template> p_;
};

/// Parses and checks a template body: JSON object with known sections, every Parameter an
/// object with a known Type, every Resource an object with a known Type and Properties,
/// at most one thing and one certificate. Errors: invalid_template (message: the path and
/// the fault; position: line and column for JSON syntax), limit_exceeded.
result<provisioning_template> parse_template(std::string_view body, const limits& l = {});

/// Evaluates `t` with the device's `parameters` and the `pseudo` parameters the service
/// supplies (AWS::IoT::Certificate::Id, AWS::IoT::Certificate::CommonName, …, usable with
/// Ref and Fn::Sub whether declared or not). Errors: invalid_parameters (a declared
/// parameter without value or Default, a Number that is not one, a value too long),
/// invalid_template (a function's fault; the message names the path), limit_exceeded.
result<plan> evaluate(const provisioning_template& t,
                      const std::map<std::string, std::string>& parameters,
                      const std::map<std::string, std::string>& pseudo = {}, const limits& l = {});

/// Checks a template name: 1..36 bytes of [0-9A-Za-z_-] (AWS).
bool valid_template_name(std::string_view name) noexcept;

}  // namespace iotblocks::provisioning

IOTBLOCKS_API_END
