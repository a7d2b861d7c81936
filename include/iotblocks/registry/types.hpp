// Values of the certificate registry: statuses, CA and device-certificate
// records, things, the just-in-time registration event and the outcome of an
// authentication.
//
//   auto s = iotblocks::registry::parse_certificate_status("ACTIVE").value();
//   iotblocks::registry::to_string(s);   // "ACTIVE"
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/x509/certificate.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

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

/// A thing: a name, an optional type and attributes (AWS IoT syntax and limits).
struct thing {
  std::string name{};  ///< [a-zA-Z0-9:_-]{1,128}
  std::string type{};  ///< empty, or [a-zA-Z0-9:_-]{1,128}
  std::map<std::string, std::string> attributes{};
  std::int64_t version = 0;  ///< 1 on creation, +1 per update (set by the registry)
  friend bool operator==(const thing&, const thing&) = default;
};

/// A registered CA certificate.
struct ca_record {
  x509::certificate certificate;
  ca_status status = ca_status::inactive;
  bool auto_registration = false;
  std::int64_t registered_ms = 0;
  std::int64_t updated_ms = 0;
  const std::string& id() const noexcept { return certificate.id(); }
};

/// A registered device certificate with the things attached to it. Records
/// are immutable snapshots: a change replaces the record.
struct certificate_record {
  x509::certificate certificate;
  std::string ca_id{};  ///< the registered CA its chain ends at
  certificate_status status = certificate_status::inactive;
  std::int64_t registered_ms = 0;
  std::int64_t updated_ms = 0;
  std::vector<thing> things{};  ///< attached things, by name
  const std::string& id() const noexcept { return certificate.id(); }
};

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
