#include "policy/variables.hpp"

#include <algorithm>

namespace iotblocks::policy::detail {
namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool valid_key_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7F && c != '{' && c != '}' && c != '$' && c != '\'';
}

// Strips ".List" or ".<index>" from a certificate attribute name.
void take_suffix(std::string_view& rest, var_ref& v) {
  const auto dot = rest.rfind('.');
  if (dot == std::string_view::npos) return;
  const std::string_view suffix = rest.substr(dot + 1);
  if (iequals(suffix, "list")) {
    v.list = true;
    rest = rest.substr(0, dot);
    return;
  }
  if (suffix.empty() || suffix.size() > 3 ||
      !std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return;
  }
  unsigned n = 0;
  for (char c : suffix) n = n * 10 + static_cast<unsigned>(c - '0');
  v.index = static_cast<std::uint8_t>(std::min(n, 255u));
  v.indexed = true;
  rest = rest.substr(0, dot);
}

bool parse_certificate(std::string_view rest, var_ref& v) {
  // rest follows "iot:Certificate."
  if (iequals(rest, "SerialNumber")) {
    v.kind = var_kind::serial_number;
    return true;
  }
  bool subject = false;
  if (istarts_with(rest, "Subject.")) {
    subject = true;
    rest.remove_prefix(8);
  } else if (istarts_with(rest, "Issuer.")) {
    rest.remove_prefix(7);
  } else {
    return false;
  }
  take_suffix(rest, v);
  if (istarts_with(rest, "AlternativeName.")) {
    rest.remove_prefix(16);
    for (std::size_t t = 0; t < alt_name_type_count; ++t) {
      if (iequals(rest, alt_name_type_name(static_cast<alt_name_type>(t)))) {
        v.kind = subject ? var_kind::subject_alt : var_kind::issuer_alt;
        v.field = static_cast<std::uint8_t>(t);
        return true;
      }
    }
    return false;
  }
  for (std::size_t a = 0; a < dn_attribute_count; ++a) {
    if (iequals(rest, dn_attribute_name(static_cast<dn_attribute>(a)))) {
      v.kind = subject ? var_kind::subject : var_kind::issuer;
      v.field = static_cast<std::uint8_t>(a);
      return true;
    }
  }
  return false;
}

bool parse_thing(std::string_view rest, std::string_view original_rest, var_ref& v) {
  // rest follows "iot:Connection.Thing."
  if (iequals(rest, "ThingName")) {
    v.kind = var_kind::thing_name;
  } else if (iequals(rest, "ThingTypeName")) {
    v.kind = var_kind::thing_type_name;
  } else if (iequals(rest, "IsAttached")) {
    v.kind = var_kind::thing_is_attached;
  } else if (istarts_with(rest, "Attributes[") && rest.size() > 12 && rest.back() == ']') {
    v.kind = var_kind::thing_attribute;
    v.name = std::string(original_rest.substr(11, original_rest.size() - 12));
  } else {
    return false;
  }
  return true;
}

bool unusable(std::string_view s) noexcept {
  return s.size() > max_certificate_value_length ||
         s.find_first_of(certificate_wildcards) != std::string_view::npos;
}

// "cognito-identity.amazonaws.com:<key>", the web-identity keys of an Amazon
// Cognito identity pool (IAM user guide, policy variables and condition keys).
constexpr std::string_view cognito_prefix = "cognito-identity.amazonaws.com";

bool parse_cognito(std::string_view key, var_ref& v) {
  if (iequals(key, "sub")) {
    v.kind = var_kind::cognito_sub;
  } else if (iequals(key, "aud")) {
    v.kind = var_kind::cognito_aud;
  } else if (iequals(key, "amr")) {
    v.kind = var_kind::cognito_amr;
  } else {
    return false;
  }
  return true;
}

values list_of(const std::vector<std::string>& vs, const var_ref& v) noexcept {
  const std::size_t n = std::min(vs.size(), max_certificate_values);
  if (v.list) return n == 0 ? values{} : values{vs.data(), n};
  if (v.index >= n) return {};
  return values{std::string_view{vs[v.index]}};
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<var_ref> parse_var(std::string_view name, bool& known) {
  known = true;
  const auto colon = name.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == name.size())
    return std::nullopt;
  for (std::size_t i = 0; i < colon; ++i) {
    const char c = name[i];
    // '.' for the web-identity prefixes ("cognito-identity.amazonaws.com:sub").
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          (c == '.' && i > 0 && i + 1 < colon && name[i - 1] != '.'))) {
      return std::nullopt;
    }
  }
  if (!std::all_of(name.begin(), name.end(), valid_key_char)) return std::nullopt;
  var_ref v;
  if (iequals(name, "iot:ClientId")) {
    v.kind = var_kind::client_id;
  } else if (iequals(name, "iot:CertificateId")) {
    v.kind = var_kind::certificate_id;
  } else if (iequals(name, "aws:SourceIp")) {
    v.kind = var_kind::source_ip;
  } else if (iequals(name, "iot:DomainName")) {
    v.kind = var_kind::domain_name;
  } else if (iequals(name.substr(0, colon), cognito_prefix)) {
    known = parse_cognito(name.substr(colon + 1), v);
  } else if (istarts_with(name, "iot:Connection.Thing.")) {
    known = parse_thing(name.substr(21), name.substr(21), v);
  } else if (istarts_with(name, "iot:Certificate.")) {
    known = parse_certificate(name.substr(16), v);
  } else {
    v.kind = var_kind::extra;
  }
  if (!known) {
    v = var_ref{};
    v.kind = var_kind::extra;
  }
  if (v.kind == var_kind::extra) v.name = to_lower(name);
  return v;
}

values resolve(const var_ref& v, const context& ctx) noexcept {
  static const std::string true_text = "true";
  static const std::string false_text = "false";
  auto opt = [](const std::optional<std::string>& s) {
    return s ? values{std::string_view{*s}} : values{};
  };
  switch (v.kind) {
    case var_kind::client_id: return opt(ctx.client_id);
    case var_kind::thing_name: return opt(ctx.thing_name);
    case var_kind::thing_type_name: return opt(ctx.thing_type_name);
    case var_kind::thing_attribute:
      for (const auto& [k, value] : ctx.thing_attributes) {
        if (k == v.name) return values{std::string_view{value}};
      }
      return {};
    case var_kind::thing_is_attached:
      if (!ctx.thing_is_attached) return {};
      return values{std::string_view{*ctx.thing_is_attached ? true_text : false_text}};
    case var_kind::subject: return list_of(ctx.subject.values[v.field], v);
    case var_kind::issuer: return list_of(ctx.issuer.values[v.field], v);
    case var_kind::subject_alt: return list_of(ctx.subject.alt_names[v.field], v);
    case var_kind::issuer_alt: return list_of(ctx.issuer.alt_names[v.field], v);
    case var_kind::serial_number: return opt(ctx.serial_number);
    case var_kind::certificate_id: return opt(ctx.certificate_id);
    case var_kind::source_ip: return opt(ctx.source_ip);
    case var_kind::domain_name: return opt(ctx.domain_name);
    case var_kind::cognito_sub: return opt(ctx.cognito.sub);
    case var_kind::cognito_aud: return opt(ctx.cognito.aud);
    case var_kind::cognito_amr:
      return ctx.cognito.amr.empty() ? values{}
                                     : values{ctx.cognito.amr.data(), ctx.cognito.amr.size()};
    case var_kind::extra:
      for (const auto& [k, vs] : ctx.extra) {
        if (iequals(k, v.name)) return vs.empty() ? values{} : values{vs.data(), vs.size()};
      }
      return {};
  }
  return {};
}

std::optional<std::string_view> resolve_one(const var_ref& v, const context& ctx) noexcept {
  const values vs = v.list ? values{} : resolve(v, ctx);
  if (vs.size() > 0) {
    const std::string_view s = vs[0];
    const bool certificate = v.kind == var_kind::subject || v.kind == var_kind::issuer ||
                             v.kind == var_kind::subject_alt || v.kind == var_kind::issuer_alt;
    if (!certificate || !unusable(s)) return s;
  }
  if (v.has_default) return std::string_view{v.default_value};
  return std::nullopt;
}

}  // namespace iotblocks::policy::detail
