// AWS IoT fleet provisioning's device MQTT API (JSON payload format): request topics,
// request payloads and the /accepted and /rejected replies.
//
//   auto t =
//   iotblocks::provisioning::parse_topic("$aws/provisioning-templates/fleet/provision/json");
//   // t->op == operation::register_thing, t->template_name == "fleet"
//   auto r = iotblocks::provisioning::parse_register_thing(
//       R"({"certificateOwnershipToken":"…","parameters":{"SerialNumber":"42"}})");
//   std::string reply = rejected_payload(error::invalid_ownership_token, "expired");
//   // {"statusCode":400,"errorCode":"InvalidCertificateOwnershipToken","errorMessage":"expired"}
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/provisioning/template.hpp>

#include <map>
#include <string>
#include <string_view>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::provisioning {

/// The three device operations.
enum class operation {
  create_keys_and_certificate,  ///< $aws/certificates/create/json
  create_certificate_from_csr,  ///< $aws/certificates/create-from-csr/json
  register_thing,               ///< $aws/provisioning-templates/{name}/provision/json
};

/// A parsed request topic; a view into the topic.
struct provisioning_topic {
  operation op = operation::create_keys_and_certificate;
  std::string_view template_name;  ///< register_thing only
};

/// Splits a request topic. Errors: not_a_provisioning_topic (anything else, the reply
/// topics and the cbor payload format included), template_not_found (a template name
/// that is not 1..36 of [0-9A-Za-z_-]).
result<provisioning_topic> parse_topic(std::string_view topic);

/// The reply topic of `request_topic`: request_topic + "/accepted" or "/rejected".
std::string reply_topic(std::string_view request_topic, bool accepted);

/// CreateKeysAndCertificate takes an empty payload or a JSON object (fields ignored).
/// Errors: invalid_request.
result<void> parse_create_keys(std::string_view payload, const limits& l = {});

/// CreateCertificateFromCsr: the certificateSigningRequest (PEM). Errors: invalid_request.
result<std::string> parse_create_from_csr(std::string_view payload, const limits& l = {});

/// A RegisterThing request (owning).
struct register_thing_request {
  std::string ownership_token;                    ///< certificateOwnershipToken
  std::map<std::string, std::string> parameters;  ///< parameters (strings only, as AWS)
};

/// Parses a RegisterThing payload. Errors: invalid_request (not a JSON object, a field of
/// the wrong type; the message names it), invalid_ownership_token (missing or empty
/// token: "Certificate ownership token cannot be empty." as AWS), invalid_parameters
/// (more or longer parameters than `l` allows).
result<register_thing_request> parse_register_thing(std::string_view payload, const limits& l = {});

/// {"certificateId","certificatePem","privateKey","certificateOwnershipToken"}.
std::string create_keys_accepted(std::string_view certificate_id, std::string_view certificate_pem,
                                 std::string_view private_key_pem, std::string_view token);
/// {"certificateId","certificatePem","certificateOwnershipToken"}.
std::string create_from_csr_accepted(std::string_view certificate_id,
                                     std::string_view certificate_pem, std::string_view token);
/// {"deviceConfiguration":{…},"thingName":…}.
std::string register_thing_accepted(const std::map<std::string, std::string>& device_configuration,
                                    std::string_view thing_name);
/// {"statusCode":…,"errorCode":…,"errorMessage":…} from aws_status and aws_code of `ec`.
std::string rejected_payload(std::error_code ec, std::string_view message);

}  // namespace iotblocks::provisioning

IOTBLOCKS_API_END
