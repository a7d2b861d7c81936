// Private: AWS IoT custom authentication, sans-I/O. Finds the credentials a
// client presents for a custom authorizer (MQTT username query string,
// WebSocket upgrade headers or query string), checks a signed token against the
// authorizer's public keys, builds the request event the operator's function
// gets, and parses the response document it answers with. The function is
// invoked elsewhere (custom_auth_invoke.cpp).
//
//   auto cred = custom_auth::find_credentials(username, password, client_id, ws);
//   if (cred.authorizer) ... pick the configured authorizer by name
//   auto sig = custom_auth::check_token(authorizer, cred);      // signed tokens
//   std::string event = custom_auth::request_event(cred, sig, connection_id);
//   auto answer = custom_auth::parse_response(body);           // result<response>
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/gateway/config.hpp>

#include "core/json.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iotblocks::gateway::custom_auth {

using param_list = std::vector<std::pair<std::string, std::string>>;

/// Splits "a=1&b=%2F" (a leading '?' is skipped) into percent-decoded pairs, in order.
/// At most `max_params` pairs are kept.
param_list parse_query(std::string_view query, std::size_t max_params = 64);

/// The WebSocket upgrade request, when the client came over WebSocket.
struct http_request {
  std::string query;   ///< after '?', as sent
  param_list headers;  ///< as sent (names in any case)
};

/// What a client presented, gathered from every place AWS accepts it.
struct credentials {
  std::optional<std::string> authorizer;  ///< x-amz-customauthorizer-name
  std::optional<std::string> signature;   ///< x-amz-customauthorizer-signature (base64)
  param_list username_params;             ///< the username's query string
  std::optional<std::string> username;    ///< the MQTT username as sent
  std::optional<std::string> password;    ///< the MQTT password (bytes)
  std::string client_id;
  std::optional<http_request> http;
  std::string server_name;  ///< TLS SNI, when known
};

/// Gathers credentials from the CONNECT and (WebSocket) the upgrade request:
/// the authorizer name and signature from the username's query string, else the
/// headers, else the request's query string.
credentials find_credentials(std::optional<std::string_view> username,
                             std::optional<std::string_view> password, std::string_view client_id,
                             const http_request* ws);

/// Whether the client asked for custom authentication: it named an authorizer.
inline bool names_authorizer(const credentials& c) noexcept { return c.authorizer.has_value(); }

/// The token for `token_key_name` (username query, then headers, then query string).
std::optional<std::string> find_token(const credentials& c, std::string_view token_key_name);

/// Why an authorizer refused before its function ran.
enum class refusal : std::uint8_t {
  none,
  unknown_authorizer,  ///< no authorizer of that name (or no default)
  inactive,            ///< status INACTIVE
  missing_token,       ///< signing on, and no token or no signature
  bad_signature,       ///< signature malformed or not verified by any public key
};
std::string_view to_string(refusal r) noexcept;

/// The token and whether its signature was verified, or why not.
struct token_check {
  refusal result = refusal::none;
  std::optional<std::string> token;
  bool signature_verified = false;
};

/// Checks the token of a signing authorizer (RSA or EC signature over the token
/// with SHA-256, base64, against each of `a.token_signing_public_keys`). With
/// signing disabled, the token (if any) is passed on unverified.
token_check check_token(const custom_authorizer& a, const credentials& c);

/// AWS's request event: token, signatureVerified, protocols, protocolData (tls,
/// http, mqtt with the password in base64) and connectionMetadata.id.
std::string request_event(const credentials& c, const token_check& t,
                          std::string_view connection_id);

/// The function's answer.
struct response {
  bool is_authenticated = false;
  std::string principal_id;
  std::vector<std::string> policy_documents;  ///< each an IoT policy document (JSON text)
  std::uint32_t disconnect_after_seconds = 86400;
  std::uint32_t refresh_after_seconds = 86400;
};

/// Parses the response document. Errors (invalid_argument, with the member named):
/// not a JSON object, isAuthenticated missing or not a boolean, principalId not
/// 1..128 alphanumeric characters, policyDocuments not an array of at most 10
/// documents (strings holding JSON, or objects), the durations not integers in
/// 1..86400. Policy documents are checked by the caller (policy::parse_document).
result<response> parse_response(std::string_view json);

/// Reads "custom_authorizers" (name -> authorizer) and "default_authorizer"; errors name
/// the JSON path (custom_auth_config.cpp).
result<void> read_config(const rapidjson::Value& root, config& c);

/// Reads the "function" ({"url": …} or {"command": […]}, exactly one) and "timeout_ms"
/// (1..60000) members of `v`, at `path` in the config, into `a`.
result<void> read_function(const rapidjson::Value& v, const std::string& path,
                           custom_authorizer& a);

/// Largest response body read from a function.
inline constexpr std::size_t max_response_bytes = 64 * 1024;

}  // namespace iotblocks::gateway::custom_auth
