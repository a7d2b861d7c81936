// The pre-provisioning hook's exchange as AWS IoT defines it: the event RegisterThing sends to
// the hook function (claimCertificateId, certificateId, certificatePem, templateArn, clientId,
// parameters) and the function's answer (allowProvisioning, parameterOverrides).
//
//   std::string event = iotblocks::provisioning::hook_event(req);
//   auto a = iotblocks::provisioning::parse_hook_response(
//       R"({"allowProvisioning": true, "parameterOverrides": {"Region": "eu"}})");
//   // a->allow, a->overrides == {{"Region", "eu"}}
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/provisioning/template.hpp>

#include <map>
#include <string>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::provisioning {

/// What the hook is told about one RegisterThing.
struct hook_request {
  std::string claim_certificate_id;  ///< the certificate of the connection asking
  std::string certificate_id;        ///< the certificate being provisioned
  std::string certificate_pem;
  std::string template_arn;
  std::string client_id;
  std::map<std::string, std::string> parameters;  ///< the device's
};

/// The hook's answer.
struct hook_response {
  bool allow = false;
  std::map<std::string, std::string> overrides;  ///< replace or add device parameters
};

/// The event (one JSON object).
std::string hook_event(const hook_request& r);

/// Reads the function's answer. `allowProvisioning` must be a boolean; `parameterOverrides`,
/// when present, an object of strings within the parameter limits of `l`. Errors:
/// invalid_request (not JSON, a missing or wrong member; the message says which).
result<hook_response> parse_hook_response(std::string_view body, const limits& l = {});

}  // namespace iotblocks::provisioning

IOTBLOCKS_API_END
