// Private: helpers shared by the AWS IoT control-plane files (aws_api_iot*.cpp).
#pragma once

#include <iotblocks/registry/registry.hpp>

#include "gateway/aws_api.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace iotblocks::gateway::aws {

/// The registry, or null with `bad` set (the registry is off without client certificates).
registry::registry* need_registry(call& c, std::optional<net::http_reply>& bad);
/// "arn:aws:iot:…:cert/<id>" -> "<id>" (anything else as given).
std::string certificate_id_of(std::string_view principal);
/// A request header by lower-case name, or null.
const std::string* header_value(const net::incoming_request& r, std::string_view name);
/// A page size query parameter in 1..max (absent: `fallback`), or nullopt with `bad` set.
std::optional<std::size_t> page_size(const call& c, std::string_view key, std::size_t fallback,
                                     std::size_t max, std::optional<net::http_reply>& bad);
/// The key a page starts at, from an opaque token this API returned ("" when absent).
std::optional<std::string> page_token(const call& c, std::string_view key,
                                      std::optional<net::http_reply>& bad);
std::string make_token(std::string_view next_key);
/// A stable id shaped like AWS's UUIDs, derived from `seed` (thingId, thingGroupId, …).
std::string uuid_from(std::string_view seed);
/// One page of `keys` (sorted here) from `from` (inclusive): at most `size` of them, and the
/// token of the next page (empty when this is the last).
std::pair<std::vector<std::string>, std::string> page_of(std::vector<std::string> keys,
                                                         const std::string& from, std::size_t size);
/// Certificates, CAs, policies (aws_api_iot_security.cpp).
std::span<const operation> security_operations();

}  // namespace iotblocks::gateway::aws
