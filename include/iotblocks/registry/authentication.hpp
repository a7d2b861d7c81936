// The outcome of registry::authenticate, and the just-in-time registration
// event it may carry for a rule to publish.
//
//   auto a = reg.authenticate(chain);
//   if (a.event) publish(a.event->topic, a.event->payload);
//   if (!a.accepted()) log(a.reason.message(), a.message);
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/registry/records.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

/// Published when a certificate is registered just in time (and again each
/// time a PENDING_ACTIVATION certificate connects), for a rule to act on.
struct registration_event {
  std::string topic{};    ///< "$aws/events/certificates/registered/<caCertificateId>"
  std::string payload{};  ///< the JSON message, fields as AWS IoT publishes them
  std::string certificate_id{};
  std::string ca_certificate_id{};
  std::int64_t timestamp_ms = 0;
  std::int64_t registration_timestamp_ms = 0;
};

/// The outcome of registry::authenticate.
struct authentication {
  /// Empty when accepted; a registry::error or an x509::error (chain failures).
  std::error_code reason{};
  std::string message{};  ///< details of a rejection
  /// The device certificate's record when it is registered (also when rejected
  /// for its status), else null.
  std::shared_ptr<const certificate_record> principal{};
  /// Set when the attempt registered the certificate or found it PENDING_ACTIVATION.
  std::optional<registration_event> event{};
  bool accepted() const noexcept { return !reason; }
};

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
