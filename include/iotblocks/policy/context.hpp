// What the evaluator knows about the client a request comes from: the values
// of the policy variables and condition keys. The caller (a broker, the
// gateway) fills it once per connection from the MQTT CONNECT, the TLS peer
// certificate and the registry; the policy component never looks anything up.
//
//   policy::context ctx;
//   ctx.client_id = "probe_1";
//   ctx.thing_name = "greenhouse_lux_probe_1";
//   ctx.subject.add(policy::dn_attribute::common_name, "probe_1");
//   ctx.source_ip = "192.0.2.10";
//   ctx.set("iot:Connection.Thing.Attributes[site]", "north").value();   // by variable name
//   ctx.set("iot:Certificate.Subject.CommonName.1", "kitchen").value();  // second value
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::policy {

/// Distinguished-name attributes AWS IoT exposes as certificate policy variables
/// (iot:Certificate.Subject.<Name> and iot:Certificate.Issuer.<Name>).
enum class dn_attribute : std::uint8_t {
  country,                       ///< C, "Country"
  organization,                  ///< O, "Organization"
  organizational_unit,           ///< OU, "OrganizationalUnit"
  state,                         ///< ST, "State"
  common_name,                   ///< CN, "CommonName"
  serial_number,                 ///< serialNumber, "SerialNumber"
  title,                         ///< title, "Title"
  surname,                       ///< SN, "Surname"
  given_name,                    ///< GN, "GivenName"
  initials,                      ///< initials, "Initials"
  pseudonym,                     ///< pseudonym, "Pseudonym"
  generation_qualifier,          ///< generationQualifier, "GenerationQualifier"
  distinguished_name_qualifier,  ///< dnQualifier, "DistinguishedNameQualifier"
};
inline constexpr std::size_t dn_attribute_count = 13;

/// The policy-variable spelling of an attribute ("CommonName").
std::string_view dn_attribute_name(dn_attribute a) noexcept;
/// Maps a variable name ("CommonName") or an OpenSSL short/long name ("CN",
/// "commonName", "dnQualifier") to the attribute, case-insensitively.
std::optional<dn_attribute> find_dn_attribute(std::string_view name) noexcept;

/// Alternative-name types (iot:Certificate.Subject.AlternativeName.<Type>).
enum class alt_name_type : std::uint8_t {
  rfc822_name,                  ///< "RFC822Name" (e-mail)
  dns_name,                     ///< "DNSName"
  directory_name,               ///< "DirectoryName"
  uniform_resource_identifier,  ///< "UniformResourceIdentifier"
  ip_address,                   ///< "IPAddress"
};
inline constexpr std::size_t alt_name_type_count = 5;

std::string_view alt_name_type_name(alt_name_type t) noexcept;

/// Attribute values of a certificate subject or issuer, in certificate order:
/// values[a][0] is `iot:Certificate.Subject.<A>` (and `<A>.0`), values[a][1] is
/// `<A>.1`, and so on. Like AWS IoT, only the first five values of each
/// attribute are visible.
struct distinguished_name {
  std::array<std::vector<std::string>, dn_attribute_count> values;
  std::array<std::vector<std::string>, alt_name_type_count> alt_names;

  void add(dn_attribute a, std::string v) {
    values[static_cast<std::size_t>(a)].push_back(std::move(v));
  }
  void add(alt_name_type t, std::string v) {
    alt_names[static_cast<std::size_t>(t)].push_back(std::move(v));
  }
};

/// An Amazon Cognito identity (a client that signed in through an identity pool).
struct cognito_identity {
  std::optional<std::string> sub;  ///< cognito-identity.amazonaws.com:sub, the identity id
  std::optional<std::string> aud;  ///< cognito-identity.amazonaws.com:aud, the identity pool id
  /// cognito-identity.amazonaws.com:amr, multi-valued: "authenticated" or
  /// "unauthenticated", then the login provider (e.g. "graph.facebook.com").
  std::vector<std::string> amr;
};

/// The request context. Absent (nullopt / empty) fields are "not present":
/// a statement whose Resource or Condition needs them does not apply.
/// Distinct objects: safe. Shared objects: safe for concurrent reads.
struct context {
  std::optional<std::string> client_id;        ///< iot:ClientId
  std::optional<std::string> domain_name;      ///< iot:DomainName
  std::optional<std::string> thing_name;       ///< iot:Connection.Thing.ThingName
  std::optional<std::string> thing_type_name;  ///< iot:Connection.Thing.ThingTypeName
  std::vector<std::pair<std::string, std::string>> thing_attributes;  ///< ...Attributes[name]
  std::optional<bool> thing_is_attached;      ///< iot:Connection.Thing.IsAttached
  distinguished_name subject;                 ///< iot:Certificate.Subject.*
  distinguished_name issuer;                  ///< iot:Certificate.Issuer.*
  std::optional<std::string> serial_number;   ///< iot:Certificate.SerialNumber
  std::optional<std::string> certificate_id;  ///< iot:CertificateId
  std::optional<std::string> source_ip;       ///< aws:SourceIp (IPv4 or IPv6 text)
  cognito_identity cognito;                   ///< cognito-identity.amazonaws.com:*
  std::string partition = "aws";              ///< used by make_arn
  std::string region;                         ///< used by make_arn
  std::string account;                        ///< used by make_arn
  /// Whether a Resource ARN of a policy matches whatever region and account it
  /// names. false (as inside one AWS account): a Resource naming another region
  /// or account than the request's ARN does not match. true: policies copied
  /// from several accounts and regions work unchanged. Conditions (ArnLike…)
  /// always compare every field.
  bool any_account = false;
  /// Any other condition key ("aws:SourceArn", "iot:ConnectAttributes"), matched
  /// case-insensitively; several values make a multi-valued key.
  std::vector<std::pair<std::string, std::vector<std::string>>> extra;

  /// Sets a value by its variable name, as the CLI's --var does: "iot:ClientId",
  /// "iot:Connection.Thing.Attributes[site]", "iot:Connection.Thing.IsAttached"
  /// ("true"/"false"), "iot:Certificate.Subject.Organization" (each call adds one
  /// value), "iot:Certificate.Subject.Organization.2" (the value at index 2: it
  /// replaces one or adds the next; values .0 and .1 must exist),
  /// "iot:Certificate.Subject.AlternativeName.DNSName", "aws:SourceIp",
  /// "cognito-identity.amazonaws.com:sub" / ":aud" / ":amr" (each call adds one
  /// amr value); any other "prefix:Name" lands in `extra`.
  /// Errors: policy::error::invalid_variable for a malformed name or value, a
  /// ".List" name, or an index with no value before it.
  result<void> set(std::string_view name, std::string_view value);
};

/// "arn:<partition>:iot:<region>:<account>:<type>/<name>", e.g.
/// make_arn(ctx, "topic", "Greenhouse/probe_1") with the context's region and account.
std::string make_arn(const context& ctx, std::string_view type, std::string_view name);

}  // namespace iotblocks::policy

IOTBLOCKS_API_END
