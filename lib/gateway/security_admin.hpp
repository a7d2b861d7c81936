// Private: helpers shared by the admin REST routes (admin*.cpp).
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/net/http_server.hpp>

#include "core/json.hpp"
#include "gateway/gateway_impl.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace iotblocks::gateway::admin {

using route_fn = std::function<net::http_reply(gateway::impl&, const net::incoming_request&)>;

/// {"error","code":"<category>:<value>","position":{line,column,offset}} (position when known).
net::http_reply error_reply(int status, const failure& f);
net::http_reply error_reply(int status, std::string_view message);
/// 404 for unknown names, 409 for conflicts, 400 otherwise (500 for storage faults).
int status_of(std::error_code ec) noexcept;
net::http_reply fail_reply(const failure& f);
net::http_reply ok_reply(const rapidjson::Document& d);
net::http_reply ok_message();
/// The request body as a JSON object (an empty body is {} when allowed).
result<rapidjson::Document> body_object(const net::incoming_request& r, bool allow_empty);
/// Path segments after `prefix`.
std::vector<std::string> segments(std::string_view path, std::string_view prefix);
rapidjson::Value strings(const std::vector<std::string>& v, rapidjson::Document::AllocatorType& a);
void member(rapidjson::Value& obj, std::string_view key, rapidjson::Value v,
            rapidjson::Document::AllocatorType& a);
void member(rapidjson::Value& obj, std::string_view key, std::string_view v,
            rapidjson::Document::AllocatorType& a);
/// Checks the bearer token (constant-time), then runs `fn`.
net::http_route guarded(gateway::impl& g, route_fn fn);

}  // namespace iotblocks::gateway::admin

namespace iotblocks::gateway {
/// Policies, rules and stats (admin_rules.cpp).
void add_admin_policy_routes(gateway::impl& g);
}  // namespace iotblocks::gateway
