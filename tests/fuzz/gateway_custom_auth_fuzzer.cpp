// Custom authentication on hostile input: credentials from a username and a
// WebSocket query string, token checks, the request event (always valid JSON that
// parses back with the same client id) and the authorizer's response document
// (accepted only within AWS's limits). Never crashes.
// Input: "username\nquery\nheader-name: value\nresponse body...".
#include "core/json.hpp"
#include "gateway/custom_auth.hpp"

#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace iotblocks::gateway;

void require(bool ok) {
  if (!ok) std::abort();
}

std::string_view line(std::string_view& in) {
  const auto nl = in.find('\n');
  const auto out = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 1 << 16) return 0;
  std::string_view in{reinterpret_cast<const char*>(data), size};
  const auto username = line(in), query = line(in), header = line(in);
  custom_auth::http_request ws;
  ws.query = std::string(query);
  if (const auto colon = header.find(':'); colon != std::string_view::npos) {
    ws.headers.emplace_back(std::string(header.substr(0, colon)),
                            std::string(header.substr(colon + 1)));
  }
  const auto creds = custom_auth::find_credentials(username, in.substr(0, 16), "client", &ws);
  require(creds.username_params.size() <= 64);
  custom_authorizer a;
  a.token_key_name = "token";
  const auto signed_check = custom_auth::check_token(a, creds);  // no keys: never verified
  require(!signed_check.signature_verified && signed_check.result != custom_auth::refusal::none);
  a.signing_disabled = true;
  const auto t = custom_auth::check_token(a, creds);
  require(t.result == custom_auth::refusal::none);
  const auto event = custom_auth::request_event(creds, t, "id");
  auto parsed = iotblocks::json::parse(event);
  require(parsed.ok());
  const auto* mqtt = iotblocks::json::find(*iotblocks::json::find(*parsed, "protocolData"), "mqtt");
  require(mqtt != nullptr && iotblocks::json::get_string(*mqtt, "clientId") == "client");

  if (auto r = custom_auth::parse_response(in); r && r->is_authenticated) {
    require(!r->principal_id.empty() && r->principal_id.size() <= 128);
    require(r->policy_documents.size() <= 10);
    require(r->disconnect_after_seconds >= 1 && r->disconnect_after_seconds <= 86400);
    require(r->refresh_after_seconds >= 1 && r->refresh_after_seconds <= 86400);
  }
  return 0;
}
