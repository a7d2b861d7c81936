// Statuses of registered certificates and CAs, with AWS IoT's names.
//
//   auto s = iotblocks::registry::parse_certificate_status("ACTIVE").value();
//   iotblocks::registry::to_string(s);   // "ACTIVE"
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

/// Device certificate statuses (AWS IoT's names).
enum class certificate_status { active, inactive, revoked, pending_activation, pending_transfer };
/// "ACTIVE", "INACTIVE", "REVOKED", "PENDING_ACTIVATION", "PENDING_TRANSFER".
std::string_view to_string(certificate_status s) noexcept;
result<certificate_status> parse_certificate_status(std::string_view text);

enum class ca_status { active, inactive };
/// "ACTIVE", "INACTIVE".
std::string_view to_string(ca_status s) noexcept;
result<ca_status> parse_ca_status(std::string_view text);

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
