// The AWS IoT Data Plane API (`aws iot-data …`): publish with MQTT 5 properties,
// and the classic and named shadows through the same shadow router as /things.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/topic/syntax.hpp>

#include "gateway/aws_api.hpp"
#include "gateway/aws_api_iot.hpp"

#include <array>
#include <charconv>

namespace iotblocks::gateway::aws {
namespace {

const std::string* find_header(const net::incoming_request& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return &v;
  }
  return nullptr;
}

/// The MQTT 5 properties AWS's Publish takes in headers and query parameters.
std::optional<net::http_reply> publish_properties(const call& c, mqtt::properties& p) {
  const auto& r = c.r;
  if (const auto ct = r.query_param("contentType"); !ct.empty()) p.set_content_type(ct);
  if (const auto rt = r.query_param("responseTopic"); !rt.empty()) {
    if (auto ec = topic::validate_name(rt)) return invalid("responseTopic: " + ec.message());
    p.set_response_topic(rt);
  }
  if (const auto e = r.query_param("messageExpiry"); !e.empty()) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), v);
    if (ec != std::errc{} || end != e.data() + e.size() || v > 0xFFFFFFFFu) {
      return invalid("messageExpiry: expected seconds (0..4294967295)");
    }
    p.set_message_expiry_interval(static_cast<std::uint32_t>(v));
  }
  if (const auto* f = find_header(r, "x-amz-mqtt5-payload-format-indicator")) {
    if (*f == "UTF8_DATA") {
      p.set_payload_format_indicator(1);
    } else if (*f != "UNSPECIFIED_BYTES") {
      return invalid("payloadFormatIndicator: expected UNSPECIFIED_BYTES or UTF8_DATA");
    }
  }
  if (const auto* cd = find_header(r, "x-amz-mqtt5-correlation-data")) {
    auto bytes = from_base64(*cd);
    if (!bytes) return invalid("correlationData: expected base64");
    p.set_correlation_data(*bytes);
  }
  if (const auto* up = find_header(r, "x-amz-mqtt5-user-properties")) {
    auto text = from_base64(*up);
    if (!text) return invalid("userProperties: expected base64 of a JSON array");
    auto doc = json::parse(as_string_view(*text));
    if (!doc || !doc->IsArray()) {
      return invalid("userProperties: expected a JSON array of {\"name\": \"value\"} objects");
    }
    for (const auto& o : doc->GetArray()) {
      if (!o.IsObject()) return invalid("userProperties: expected objects of string values");
      for (auto it = o.MemberBegin(); it != o.MemberEnd(); ++it) {
        if (!it->value.IsString()) {
          return invalid("userProperties." + std::string(json::view(it->name)) +
                         ": expected a string");
        }
        p.add_user_property(json::view(it->name), json::view(it->value));
      }
    }
  }
  return std::nullopt;
}

net::http_reply publish(call& c) {
  broker::message m;
  m.topic = c.params.at(0);
  if (auto ec = topic::validate_name(m.topic)) return invalid("topic: " + ec.message());
  if (m.topic.starts_with("$") && !m.topic.starts_with("$aws/")) {
    return invalid("topic: topics starting with $ are reserved");
  }
  const std::string qos = c.r.query_param("qos");
  if (!qos.empty() && qos != "0" && qos != "1") return invalid("qos: expected 0 or 1");
  m.qos = qos == "1" ? 1 : 0;
  const std::string retain = c.r.query_param("retain");
  if (!retain.empty() && retain != "true" && retain != "false") {
    return invalid("retain: expected true or false");
  }
  m.retain = retain == "true";
  if (auto bad = publish_properties(c, m.properties)) return *bad;
  m.payload = to_buffer(c.r.body);
  c.g.mqtt.publish(m);
  return {200, "{}"};
}

/// Shadow router status -> AWS IoT Data Plane error type.
std::string_view shadow_error_type(int status) {
  switch (status) {
    case 400: return "InvalidRequestException";
    case 401: return "UnauthorizedException";
    case 403: return "UnauthorizedException";
    case 404: return "ResourceNotFoundException";
    case 405: return "MethodNotAllowedException";
    case 409: return "ConflictException";
    case 413: return "RequestEntityTooLargeException";
    case 415: return "UnsupportedDocumentEncodingException";
    case 429: return "ThrottlingException";
    case 503: return "ServiceUnavailableException";
    default: return "InternalFailureException";
  }
}

net::http_reply shadow(call& c) {
  const auto& g = c.g;
  std::string target = "/things/" + c.params.at(0) + "/shadow";
  if (const auto name = c.r.query_param("name"); !name.empty()) target += "?name=" + name;
  auto res = g.shadow_router->http(c.r.method, target, c.r.body);
  for (auto& s : res.publish) {
    broker::message m;
    m.topic = std::move(s.topic);
    m.payload = to_buffer(s.payload);
    c.g.mqtt.publish(m);
  }
  if (res.status >= 200 && res.status < 300) return {200, std::move(res.body)};
  std::string message = res.body;
  if (auto doc = json::parse(res.body); doc && doc->IsObject()) {
    if (auto m = json::get_string(*doc, "message")) message = std::string(*m);
  }
  return error(res.status == 403 ? 401 : res.status, shadow_error_type(res.status), message);
}

net::http_reply list_named_shadows(call& c) {
  std::optional<net::http_reply> bad;
  const auto size = page_size(c, "pageSize", 100, 100, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  auto names = c.g.shadow_store->named_shadows(c.params.at(0), *from, *size + 1);
  if (!names) return error(500, "InternalFailureException", names.describe());
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (std::size_t i = 0; i < names->size() && i < *size; ++i) {
    arr.PushBack(json::string_value((*names)[i], a), a);
  }
  d.AddMember("results", arr, a);
  if (names->size() > *size) {
    d.AddMember("nextToken", json::string_value(make_token(names->back()), a), a);
  }
  d.AddMember("timestamp", c.g.shadows->now(), a);
  return ok(d);
}

net::http_reply get_retained_message(call& c) {
  const auto m = c.g.mqtt.retained(c.params.at(0));
  if (!m)
    return error(404, "ResourceNotFoundException", "no retained message on " + c.params.at(0));
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  d.AddMember("topic", json::string_value(m->topic, a), a);
  d.AddMember("payload", json::string_value(to_base64(m->payload), a), a);
  d.AddMember("qos", m->qos, a);
  d.AddMember("lastModifiedTime", m->received_ms, a);
  // Newer AWS models add userProperties: base64 of [{"name": "value"}, ...].
  rapidjson::Document props;
  props.SetArray();
  for (const mqtt::property& u : m->properties.user_properties()) {
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember(json::string_value(u.name, props.GetAllocator()),
                json::string_value(u.value, props.GetAllocator()), props.GetAllocator());
    props.PushBack(o, props.GetAllocator());
  }
  if (!props.Empty()) {
    d.AddMember("userProperties", json::string_value(to_base64(as_bytes(json::write(props))), a),
                a);
  }
  return ok(d);
}

net::http_reply list_retained_messages(call& c) {
  std::optional<net::http_reply> bad;
  const auto size = page_size(c, "maxResults", 100, 200, bad);
  const auto from = page_token(c, "nextToken", bad);
  if (bad) return *bad;
  const auto page = c.g.mqtt.retained_page(*from, *size + 1);
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (std::size_t i = 0; i < page.size() && i < *size; ++i) {
    const auto& m = *page[i];
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("topic", json::string_value(m.topic, a), a);
    o.AddMember("payloadSize", static_cast<std::uint64_t>(m.payload.size()), a);
    o.AddMember("qos", m.qos, a);
    o.AddMember("lastModifiedTime", m.received_ms, a);
    arr.PushBack(o, a);
  }
  d.AddMember("retainedTopics", arr, a);
  if (page.size() > *size) {
    d.AddMember("nextToken", json::string_value(make_token(page.back()->topic), a), a);
  }
  return ok(d);
}

constexpr std::array ops{
    operation{"POST", "/topics/{}", publish, "iot:Publish", "topic"},
    operation{"GET", "/things/{}/shadow", shadow, "iot:GetThingShadow", "thing"},
    operation{"POST", "/things/{}/shadow", shadow, "iot:UpdateThingShadow", "thing"},
    operation{"DELETE", "/things/{}/shadow", shadow, "iot:DeleteThingShadow", "thing"},
    operation{"GET", "/api/things/shadow/ListNamedShadowsForThing/{}", list_named_shadows,
              "iot:ListNamedShadowsForThing", "thing"},
    operation{"GET", "/retainedMessage/{}", get_retained_message, "iot:GetRetainedMessage",
              "topic"},
    operation{"GET", "/retainedMessage", list_retained_messages, "iot:ListRetainedMessages"},
};

}  // namespace

std::span<const operation> data_operations() { return ops; }

}  // namespace iotblocks::gateway::aws
