#include <iotblocks/policy/context.hpp>
#include <iotblocks/policy/error.hpp>

#include "policy/ip.hpp"
#include "policy/variables.hpp"

#include <fmt/format.h>

namespace iotblocks::policy {
namespace {

struct dn_names {
  std::string_view variable;
  std::string_view short_name;
  std::string_view long_name;
};

constexpr dn_names dn_table[dn_attribute_count] = {
    {"Country", "C", "countryName"},
    {"Organization", "O", "organizationName"},
    {"OrganizationalUnit", "OU", "organizationalUnitName"},
    {"State", "ST", "stateOrProvinceName"},
    {"CommonName", "CN", "commonName"},
    {"SerialNumber", "serialNumber", "serialNumber"},
    {"Title", "title", "title"},
    {"Surname", "SN", "surname"},
    {"GivenName", "GN", "givenName"},
    {"Initials", "initials", "initials"},
    {"Pseudonym", "pseudonym", "pseudonym"},
    {"GenerationQualifier", "generationQualifier", "generationQualifier"},
    {"DistinguishedNameQualifier", "dnQualifier", "dnQualifier"},
};

constexpr std::string_view alt_table[alt_name_type_count] = {
    "RFC822Name", "DNSName", "DirectoryName", "UniformResourceIdentifier", "IPAddress"};

// A certificate attribute value: without an index the next value, with ".N" the
// value at index N (replacing it, or adding it when N values exist already).
result<void> put_value(std::vector<std::string>& values, const detail::var_ref& v,
                       std::string_view name, std::string text) {
  if (!v.indexed || v.index == values.size()) {
    values.push_back(std::move(text));
  } else if (v.index < values.size()) {
    values[v.index] = std::move(text);
  } else {
    return {error::invalid_variable,
            fmt::format("'{}': certificate values are positional and there {} only {} before "
                        "index {} (set the unindexed name or .0 first, then .1, ...)",
                        name, values.size() == 1 ? "is" : "are", values.size(), v.index)};
  }
  return {};
}

}  // namespace

std::string_view dn_attribute_name(dn_attribute a) noexcept {
  const auto i = static_cast<std::size_t>(a);
  return i < dn_attribute_count ? dn_table[i].variable : std::string_view{};
}

std::optional<dn_attribute> find_dn_attribute(std::string_view name) noexcept {
  for (std::size_t i = 0; i < dn_attribute_count; ++i) {
    const auto& n = dn_table[i];
    if (detail::iequals(name, n.variable) || detail::iequals(name, n.short_name) ||
        detail::iequals(name, n.long_name)) {
      return static_cast<dn_attribute>(i);
    }
  }
  return std::nullopt;
}

std::string_view alt_name_type_name(alt_name_type t) noexcept {
  const auto i = static_cast<std::size_t>(t);
  return i < alt_name_type_count ? alt_table[i] : std::string_view{};
}

result<void> context::set(std::string_view name, std::string_view value) {
  bool known = true;
  auto parsed = detail::parse_var(name, known);
  if (!parsed || !known || parsed->list) {
    return {error::invalid_variable, fmt::format("not a settable policy variable: '{}'", name)};
  }
  const detail::var_ref& v = *parsed;
  std::string text(value);
  switch (v.kind) {
    case detail::var_kind::client_id: client_id = std::move(text); break;
    case detail::var_kind::thing_name: thing_name = std::move(text); break;
    case detail::var_kind::thing_type_name: thing_type_name = std::move(text); break;
    case detail::var_kind::thing_attribute:
      for (auto& [k, existing] : thing_attributes) {
        if (k == v.name) {
          existing = std::move(text);
          return {};
        }
      }
      thing_attributes.emplace_back(v.name, std::move(text));
      break;
    case detail::var_kind::thing_is_attached:
      if (detail::iequals(value, "true")) {
        thing_is_attached = true;
      } else if (detail::iequals(value, "false")) {
        thing_is_attached = false;
      } else {
        return {error::invalid_variable, "iot:Connection.Thing.IsAttached takes true or false"};
      }
      break;
    case detail::var_kind::subject:
      return put_value(subject.values[v.field], v, name, std::move(text));
    case detail::var_kind::issuer:
      return put_value(issuer.values[v.field], v, name, std::move(text));
    case detail::var_kind::subject_alt:
      return put_value(subject.alt_names[v.field], v, name, std::move(text));
    case detail::var_kind::issuer_alt:
      return put_value(issuer.alt_names[v.field], v, name, std::move(text));
    case detail::var_kind::serial_number: serial_number = std::move(text); break;
    case detail::var_kind::certificate_id: certificate_id = std::move(text); break;
    case detail::var_kind::source_ip:
      if (!detail::parse_ip(value)) {
        return {error::invalid_variable,
                fmt::format("aws:SourceIp is not an IP address: '{}'", value)};
      }
      source_ip = std::move(text);
      break;
    case detail::var_kind::domain_name: domain_name = std::move(text); break;
    case detail::var_kind::cognito_sub: cognito.sub = std::move(text); break;
    case detail::var_kind::cognito_aud: cognito.aud = std::move(text); break;
    case detail::var_kind::cognito_amr: cognito.amr.push_back(std::move(text)); break;
    case detail::var_kind::extra:
      for (auto& [k, vs] : extra) {
        if (detail::iequals(k, name)) {
          vs.push_back(std::move(text));
          return {};
        }
      }
      extra.push_back({std::string(name), {std::move(text)}});
      break;
  }
  return {};
}

std::string make_arn(const context& ctx, std::string_view type, std::string_view name) {
  return fmt::format("arn:{}:iot:{}:{}:{}/{}", ctx.partition, ctx.region, ctx.account, type, name);
}

}  // namespace iotblocks::policy
