// Private: the request bodies EMQX 5's HTTP authenticator and HTTP authorizer send (a JSON
// object whose values are the operator's placeholders filled in: "${clientid}",
// "${username}", "${password}", "${peerhost}", "${cert_common_name}", "${cert_subject}",
// "${topic}", "${action}", "${qos}", "${retain}"), parsed without I/O. The routes that
// decide on them are in emqx_routes.cpp; docs/scale-out.md has the EMQX settings.
//
//   auto a = emqx::parse_authz(R"({"clientid":"c1","topic":"t/1","action":"publish"})");
//   if (a && a->act == emqx::action::publish) ...
#pragma once

#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace iotblocks::gateway::emqx {

/// Bodies longer than this are refused (the fields are short; a password at most 64 KiB).
inline constexpr std::size_t max_body_size = 128 * 1024;
/// Longest client id, username or topic accepted.
inline constexpr std::size_t max_field_size = 65535;

/// POST body of the HTTP authenticator. An empty string counts as absent (EMQX renders an
/// unknown placeholder so).
struct authn_request {
  std::string clientid;  ///< required
  std::string username, password, peerhost, cert_common_name, cert_subject;
};

enum class action { publish, subscribe };

/// POST body of the HTTP authorizer.
struct authz_request {
  std::string clientid;  ///< required
  std::string username, peerhost;
  std::string topic;             ///< required: a topic name to publish, a filter to subscribe
  action act = action::publish;  ///< required: "publish" or "subscribe"
  int qos = 0;                   ///< "0".."2" or 0..2; absent: 0
  bool retain = false;           ///< "true"/"false" or a boolean; absent: false
};

/// Errors: core::error::invalid_json (with line and column), invalid_argument naming the
/// field (missing, not a string, too long, bad value), limit_exceeded for the body.
result<authn_request> parse_authn(std::string_view body);
result<authz_request> parse_authz(std::string_view body);

}  // namespace iotblocks::gateway::emqx
