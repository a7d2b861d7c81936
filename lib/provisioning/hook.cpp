// The pre-provisioning hook's event and answer.
#include <iotblocks/core/utf8.hpp>
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/hook.hpp>

#include "core/json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace iotblocks::provisioning {

std::string hook_event(const hook_request& r) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  auto str = [&w](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  for (const auto& [k, v] : {std::pair<std::string_view, const std::string*>{
                                 "claimCertificateId", &r.claim_certificate_id},
                             {"certificateId", &r.certificate_id},
                             {"certificatePem", &r.certificate_pem},
                             {"templateArn", &r.template_arn},
                             {"clientId", &r.client_id}}) {
    str(k);
    str(*v);
  }
  str("parameters");
  w.StartObject();
  for (const auto& [k, v] : r.parameters) {
    str(k);
    str(v);
  }
  w.EndObject();
  w.EndObject();
  return {b.GetString(), b.GetSize()};
}

result<hook_response> parse_hook_response(std::string_view body, const limits& l) {
  if (body.size() > l.max_request_size()) {
    return {error::invalid_request,
            "hook answer larger than " + std::to_string(l.max_request_size()) + " bytes"};
  }
  auto doc = json::parse(body, {.max_depth = l.max_depth()});
  if (!doc) return {error::invalid_request, "hook answer: " + doc.describe(), doc.fail().where};
  if (!doc->IsObject()) return {error::invalid_request, "hook answer: not a JSON object"};
  hook_response out;
  const auto* allow = json::find(*doc, "allowProvisioning");
  if (allow == nullptr || !allow->IsBool()) {
    return {error::invalid_request, "hook answer: allowProvisioning must be true or false"};
  }
  out.allow = allow->IsTrue();
  const auto* o = json::find(*doc, "parameterOverrides");
  if (o == nullptr || o->IsNull()) return out;
  if (!o->IsObject())
    return {error::invalid_request, "hook answer: parameterOverrides: not an object"};
  if (o->MemberCount() > l.max_parameters()) {
    return {error::invalid_request,
            "hook answer: parameterOverrides: more than " + std::to_string(l.max_parameters())};
  }
  for (const auto& m : o->GetObject()) {
    const std::string name(json::view(m.name));
    const std::string where = "hook answer: parameterOverrides." +
                              (is_valid_utf8(name) ? name.substr(0, 64) : std::string("?"));
    if (!m.value.IsString()) return {error::invalid_request, where + ": expected a string"};
    if (name.size() > l.max_parameter_name() ||
        m.value.GetStringLength() > l.max_parameter_value()) {
      return {error::invalid_request, where + ": longer than allowed"};
    }
    out.overrides[name] = std::string(json::view(m.value));
  }
  return out;
}

}  // namespace iotblocks::provisioning
