// The fleet provisioning device API: topics, request payloads, reply payloads.
#include <iotblocks/core/utf8.hpp>
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/request.hpp>

#include "core/json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace iotblocks::provisioning {
namespace {

constexpr std::string_view create_topic = "$aws/certificates/create/json";
constexpr std::string_view csr_topic = "$aws/certificates/create-from-csr/json";
constexpr std::string_view templates_prefix = "$aws/provisioning-templates/";
constexpr std::string_view provision_suffix = "/provision/json";

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

void key(writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
void str(writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

result<rapidjson::Document> object_payload(std::string_view payload, const limits& l) {
  if (payload.size() > l.max_request_size()) {
    return {error::invalid_request,
            "payload larger than " + std::to_string(l.max_request_size()) + " bytes"};
  }
  auto doc = json::parse(payload, {.max_depth = l.max_depth()});
  if (!doc) return {error::invalid_request, "payload: " + doc.describe(), doc.fail().where};
  if (!doc->IsObject()) return {error::invalid_request, "payload must be a JSON object"};
  return doc;
}

}  // namespace

result<provisioning_topic> parse_topic(std::string_view topic) {
  if (topic == create_topic) return provisioning_topic{operation::create_keys_and_certificate, {}};
  if (topic == csr_topic) return provisioning_topic{operation::create_certificate_from_csr, {}};
  if (topic.starts_with(templates_prefix) && topic.ends_with(provision_suffix) &&
      topic.size() >= templates_prefix.size() + provision_suffix.size()) {
    const std::string_view name = topic.substr(
        templates_prefix.size(), topic.size() - templates_prefix.size() - provision_suffix.size());
    if (name.find('/') != std::string_view::npos) {
      return {error::not_a_provisioning_topic, "not a provisioning request topic"};
    }
    if (!valid_template_name(name)) {
      return {error::template_not_found, "invalid template name"};
    }
    return provisioning_topic{operation::register_thing, name};
  }
  return {error::not_a_provisioning_topic, "not a provisioning request topic"};
}

std::string reply_topic(std::string_view request_topic, bool accepted) {
  std::string t(request_topic);
  t += accepted ? "/accepted" : "/rejected";
  return t;
}

result<void> parse_create_keys(std::string_view payload, const limits& l) {
  if (payload.empty()) return {};
  auto doc = object_payload(payload, l);
  if (!doc) return std::move(doc).take_failure();
  return {};
}

result<std::string> parse_create_from_csr(std::string_view payload, const limits& l) {
  auto doc = object_payload(payload, l);
  if (!doc) return std::move(doc).take_failure();
  const auto* csr = json::find(*doc, "certificateSigningRequest");
  if (!csr || !csr->IsString() || csr->GetStringLength() == 0) {
    return {error::invalid_request, "certificateSigningRequest: a PEM string is required"};
  }
  return std::string(json::view(*csr));
}

result<register_thing_request> parse_register_thing(std::string_view payload, const limits& l) {
  auto doc = object_payload(payload, l);
  if (!doc) return std::move(doc).take_failure();
  register_thing_request r;
  const auto* token = json::find(*doc, "certificateOwnershipToken");
  if (token && !token->IsString()) {
    return {error::invalid_request, "certificateOwnershipToken: expected a string"};
  }
  if (!token || token->GetStringLength() == 0) {
    return {error::invalid_ownership_token, "Certificate ownership token cannot be empty."};
  }
  r.ownership_token = std::string(json::view(*token));
  if (const auto* p = json::find(*doc, "parameters"); p && !p->IsNull()) {
    if (!p->IsObject()) return {error::invalid_request, "parameters: expected an object"};
    if (p->MemberCount() > l.max_parameters()) {
      return {error::invalid_parameters,
              "parameters: more than " + std::to_string(l.max_parameters())};
    }
    for (const auto& m : p->GetObject()) {
      const std::string name(json::view(m.name));
      if (!m.value.IsString()) {
        return {error::invalid_request, "parameters." + name.substr(0, 64) + ": expected a string"};
      }
      if (name.size() > l.max_parameter_name() ||
          m.value.GetStringLength() > l.max_parameter_value()) {
        return {error::invalid_parameters,
                "parameters." + name.substr(0, 64) + ": longer than allowed"};
      }
      r.parameters[name] = std::string(json::view(m.value));
    }
  }
  return r;
}

std::string create_keys_accepted(std::string_view certificate_id, std::string_view certificate_pem,
                                 std::string_view private_key_pem, std::string_view token) {
  rapidjson::StringBuffer b;
  writer w(b);
  w.StartObject();
  key(w, "certificateId");
  str(w, certificate_id);
  key(w, "certificatePem");
  str(w, certificate_pem);
  key(w, "privateKey");
  str(w, private_key_pem);
  key(w, "certificateOwnershipToken");
  str(w, token);
  w.EndObject();
  return {b.GetString(), b.GetSize()};
}

std::string create_from_csr_accepted(std::string_view certificate_id,
                                     std::string_view certificate_pem, std::string_view token) {
  rapidjson::StringBuffer b;
  writer w(b);
  w.StartObject();
  key(w, "certificateId");
  str(w, certificate_id);
  key(w, "certificatePem");
  str(w, certificate_pem);
  key(w, "certificateOwnershipToken");
  str(w, token);
  w.EndObject();
  return {b.GetString(), b.GetSize()};
}

std::string register_thing_accepted(const std::map<std::string, std::string>& device_configuration,
                                    std::string_view thing_name) {
  rapidjson::StringBuffer b;
  writer w(b);
  w.StartObject();
  key(w, "deviceConfiguration");
  w.StartObject();
  for (const auto& [k, v] : device_configuration) {
    key(w, k);
    str(w, v);
  }
  w.EndObject();
  if (!thing_name.empty()) {
    key(w, "thingName");
    str(w, thing_name);
  }
  w.EndObject();
  return {b.GetString(), b.GetSize()};
}

std::string rejected_payload(std::error_code ec, std::string_view message) {
  rapidjson::StringBuffer b;
  writer w(b);
  w.StartObject();
  key(w, "statusCode");
  w.Int(aws_status(ec));
  key(w, "errorCode");
  str(w, aws_code(ec));
  key(w, "errorMessage");
  // Messages may quote device input: keep them valid UTF-8.
  str(w, is_valid_utf8(message) ? message : std::string_view("invalid request"));
  w.EndObject();
  return {b.GetString(), b.GetSize()};
}

}  // namespace iotblocks::provisioning
