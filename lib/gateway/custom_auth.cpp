// AWS IoT custom authentication, sans-I/O: credentials, token signatures, the
// request event and the response document.
#include "gateway/custom_auth.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/error.hpp>
#include <iotblocks/core/utf8.hpp>

#include "core/json.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

namespace iotblocks::gateway::custom_auth {
namespace {

constexpr std::string_view name_key = "x-amz-customauthorizer-name";
constexpr std::string_view signature_key = "x-amz-customauthorizer-signature";

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

const std::string* find(const param_list& l, std::string_view key, bool any_case) {
  for (const auto& [k, v] : l) {
    if (any_case ? iequals(k, key) : k == key) return &v;
  }
  return nullptr;
}

/// The first of: username query, headers (any case), request query string.
std::optional<std::string> lookup(const credentials& c, std::string_view key) {
  if (const auto* v = find(c.username_params, key, false)) return *v;
  if (c.http) {
    if (const auto* v = find(c.http->headers, key, true)) return *v;
    const auto query = parse_query(c.http->query);  // find() points into it
    if (const auto* v = find(query, key, false)) return *v;
  }
  return std::nullopt;
}

struct pkey_free {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

bool verify_with(std::string_view pem, std::string_view data, bytes_view sig) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return false;
  std::unique_ptr<EVP_PKEY, pkey_free> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

bool alphanumeric(std::string_view s) noexcept {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

/// `s` as valid UTF-8 for the event: each byte of an invalid sequence becomes U+FFFD.
std::string utf8_text(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  while (!s.empty()) {
    const auto at = utf8_check(s);
    if (at == utf8_ok) {
      out.append(s);
      break;
    }
    out.append(s.substr(0, at));
    append_utf8(out, U'\uFFFD');
    s.remove_prefix(at + 1);
  }
  return out;
}

rapidjson::Value text_value(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return json::string_value(utf8_text(s), a);
}

failure bad(std::string what) {
  return failure{core::error::invalid_argument, std::move(what), {}};
}

}  // namespace

param_list parse_query(std::string_view query, std::size_t max_params) {
  param_list out;
  if (query.starts_with('?')) query.remove_prefix(1);
  while (!query.empty() && out.size() < max_params) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const auto key = pair.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    out.emplace_back(percent_decode_lenient(key), percent_decode_lenient(value));
  }
  return out;
}

credentials find_credentials(std::optional<std::string_view> username,
                             std::optional<std::string_view> password, std::string_view client_id,
                             const http_request* ws) {
  credentials c;
  if (username) {
    c.username = std::string(*username);
    if (const auto q = username->find('?'); q != std::string_view::npos) {
      c.username_params = parse_query(username->substr(q + 1));
    }
  }
  if (password) c.password = std::string(*password);
  c.client_id = std::string(client_id);
  if (ws != nullptr) c.http = *ws;
  c.authorizer = lookup(c, name_key);
  c.signature = lookup(c, signature_key);
  return c;
}

std::optional<std::string> find_token(const credentials& c, std::string_view token_key_name) {
  if (token_key_name.empty()) return std::nullopt;
  return lookup(c, token_key_name);
}

std::string_view to_string(refusal r) noexcept {
  switch (r) {
    case refusal::none: return "none";
    case refusal::unknown_authorizer: return "unknown authorizer";
    case refusal::inactive: return "authorizer inactive";
    case refusal::missing_token: return "token or signature missing";
    case refusal::bad_signature: return "token signature not verified";
  }
  return "unknown";
}

token_check check_token(const custom_authorizer& a, const credentials& c) {
  token_check out;
  out.token = find_token(c, a.token_key_name);
  if (a.signing_disabled) return out;
  if (!out.token || !c.signature || out.token->empty()) {
    out.result = refusal::missing_token;
    return out;
  }
  // A signature sent in a URL may have been percent-encoded once more.
  auto sig = from_base64(*c.signature);
  if (!sig) sig = from_base64(percent_decode_lenient(*c.signature));
  if (!sig || sig->empty()) {
    out.result = refusal::bad_signature;
    return out;
  }
  for (const auto& [name, pem] : a.token_signing_public_keys) {
    if (verify_with(pem, *out.token, bytes_view{*sig})) {
      out.signature_verified = true;
      return out;
    }
  }
  out.result = refusal::bad_signature;
  return out;
}

std::string request_event(const credentials& c, const token_check& t,
                          std::string_view connection_id) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  if (t.token) d.AddMember("token", text_value(*t.token, a), a);
  d.AddMember("signatureVerified", t.signature_verified, a);
  rapidjson::Value protocols(rapidjson::kArrayType), data(rapidjson::kObjectType);
  if (!c.server_name.empty() || c.http || c.username || c.password) {
    protocols.PushBack("tls", a);
    rapidjson::Value tls(rapidjson::kObjectType);
    tls.AddMember("serverName", text_value(c.server_name, a), a);
    data.AddMember("tls", tls, a);
  }
  if (c.http) {
    protocols.PushBack("http", a);
    rapidjson::Value http(rapidjson::kObjectType), headers(rapidjson::kObjectType);
    for (const auto& [k, v] : c.http->headers) {
      if (headers.HasMember(utf8_text(k).c_str())) continue;
      headers.AddMember(text_value(k, a), text_value(v, a), a);
    }
    http.AddMember("headers", headers, a);
    http.AddMember("queryString", text_value(c.http->query.empty() ? "" : "?" + c.http->query, a),
                   a);
    data.AddMember("http", http, a);
  }
  protocols.PushBack("mqtt", a);
  rapidjson::Value mqtt(rapidjson::kObjectType);
  if (c.username) mqtt.AddMember("username", text_value(*c.username, a), a);
  if (c.password) {
    const auto* p = reinterpret_cast<const std::byte*>(c.password->data());
    mqtt.AddMember("password", json::string_value(to_base64({p, c.password->size()}), a), a);
  }
  if (!c.client_id.empty()) mqtt.AddMember("clientId", text_value(c.client_id, a), a);
  data.AddMember("mqtt", mqtt, a);
  d.AddMember("protocols", protocols, a);
  d.AddMember("protocolData", data, a);
  rapidjson::Value meta(rapidjson::kObjectType);
  meta.AddMember("id", text_value(connection_id, a), a);
  d.AddMember("connectionMetadata", meta, a);
  return json::write(d);
}

result<response> parse_response(std::string_view text) {
  if (text.size() > max_response_bytes) return bad("response larger than 64 KiB");
  auto doc = json::parse(text);
  if (!doc) return bad("response is not JSON: " + doc.describe());
  const auto& root = *doc;
  if (!root.IsObject()) return bad("response: expected a JSON object");
  response r;
  const auto* auth = json::find(root, "isAuthenticated");
  if (auth == nullptr || !auth->IsBool()) return bad("isAuthenticated: expected a boolean");
  r.is_authenticated = auth->GetBool();
  if (!r.is_authenticated) return r;
  const auto* principal = json::find(root, "principalId");
  if (principal == nullptr || !principal->IsString() || principal->GetStringLength() == 0 ||
      principal->GetStringLength() > 128 || !alphanumeric(json::view(*principal))) {
    return bad("principalId: expected 1 to 128 alphanumeric characters");
  }
  r.principal_id = std::string(json::view(*principal));
  const auto* docs = json::find(root, "policyDocuments");
  if (docs == nullptr || !docs->IsArray() || docs->Size() > 10) {
    return bad("policyDocuments: expected an array of at most 10 policy documents");
  }
  for (const auto& d : docs->GetArray()) {
    if (d.IsString()) {
      r.policy_documents.emplace_back(json::view(d));
    } else if (d.IsObject()) {
      r.policy_documents.push_back(json::write(d));
    } else {
      return bad("policyDocuments: expected policy documents (strings or objects)");
    }
  }
  for (auto [key, out] : {std::pair<std::string_view, std::uint32_t*>{"disconnectAfterInSeconds",
                                                                      &r.disconnect_after_seconds},
                          {"refreshAfterInSeconds", &r.refresh_after_seconds}}) {
    const auto* v = json::find(root, key);
    if (v == nullptr) continue;
    if (!v->IsInt64() || v->GetInt64() < 1 || v->GetInt64() > 86400) {
      return bad(std::string(key) + ": expected an integer in 1..86400");
    }
    *out = static_cast<std::uint32_t>(v->GetInt64());
  }
  return r;
}

}  // namespace iotblocks::gateway::custom_auth
