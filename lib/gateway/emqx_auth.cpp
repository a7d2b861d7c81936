#include "gateway/emqx_auth.hpp"

#include <iotblocks/core/error.hpp>
#include <iotblocks/topic/syntax.hpp>

#include "core/json.hpp"

#include <optional>
#include <tuple>

namespace iotblocks::gateway::emqx {
namespace {

failure bad(std::string_view field, std::string_view what) {
  return failure{
      core::error::invalid_argument, "\"" + std::string(field) + "\": " + std::string(what), {}};
}

// A string field; "" when absent or null. A number or boolean is refused (EMQX sends strings).
result<std::string> text(const rapidjson::Value& obj, std::string_view key, bool required) {
  const auto* v = json::find(obj, key);
  if (v == nullptr || v->IsNull()) {
    if (required) return bad(key, "missing");
    return std::string{};
  }
  if (!v->IsString()) return bad(key, "expected a string");
  if (v->GetStringLength() > max_field_size) return bad(key, "longer than 65535 bytes");
  std::string out(json::view(*v));
  if (required && out.empty()) return bad(key, "empty");
  return out;
}

result<rapidjson::Document> object(std::string_view body) {
  if (body.size() > max_body_size) {
    return failure{core::error::limit_exceeded, "body larger than 128 KiB", {}};
  }
  auto doc = json::parse(body, {.max_depth = 8});
  if (!doc) return std::move(doc).take_failure();
  if (!doc->IsObject()) return bad("(body)", "expected a JSON object");
  return doc;
}

}  // namespace

result<authn_request> parse_authn(std::string_view body) {
  auto doc = object(body);
  if (!doc) return std::move(doc).take_failure();
  authn_request r;
  for (auto [key, out, required] : {std::tuple{"clientid", &r.clientid, true},
                                    {"username", &r.username, false},
                                    {"password", &r.password, false},
                                    {"peerhost", &r.peerhost, false},
                                    {"cert_common_name", &r.cert_common_name, false},
                                    {"cert_subject", &r.cert_subject, false}}) {
    auto v = text(*doc, key, required);
    if (!v) return std::move(v).take_failure();
    *out = std::move(*v);
  }
  return r;
}

result<authz_request> parse_authz(std::string_view body) {
  auto doc = object(body);
  if (!doc) return std::move(doc).take_failure();
  authz_request r;
  std::string act;
  for (auto [key, out, required] : {std::tuple{"clientid", &r.clientid, true},
                                    {"username", &r.username, false},
                                    {"peerhost", &r.peerhost, false},
                                    {"topic", &r.topic, true},
                                    {"action", &act, true}}) {
    auto v = text(*doc, key, required);
    if (!v) return std::move(v).take_failure();
    *out = std::move(*v);
  }
  if (act == "publish") {
    r.act = action::publish;
    if (topic::validate_name(r.topic)) return bad("topic", "not a topic name to publish on");
  } else if (act == "subscribe") {
    r.act = action::subscribe;
    if (topic::validate_filter(r.topic)) return bad("topic", "not a topic filter");
  } else {
    return bad("action", "expected \"publish\" or \"subscribe\"");
  }
  if (const auto* q = json::find(*doc, "qos"); q != nullptr && !q->IsNull()) {
    if (q->IsInt() && q->GetInt() >= 0 && q->GetInt() <= 2) {
      r.qos = q->GetInt();
    } else if (q->IsString() && q->GetStringLength() == 1 && q->GetString()[0] >= '0' &&
               q->GetString()[0] <= '2') {
      r.qos = q->GetString()[0] - '0';
    } else if (!(q->IsString() && q->GetStringLength() == 0)) {
      return bad("qos", "expected 0, 1 or 2");
    }
  }
  if (const auto* t = json::find(*doc, "retain"); t != nullptr && !t->IsNull()) {
    if (t->IsBool()) {
      r.retain = t->GetBool();
    } else if (t->IsString() && (json::view(*t) == "true" || json::view(*t) == "false")) {
      r.retain = json::view(*t) == "true";
    } else if (!(t->IsString() && t->GetStringLength() == 0)) {
      return bad("retain", "expected true or false");
    }
  }
  return r;
}

}  // namespace iotblocks::gateway::emqx
