// Private: the policy context of a connection, with the variables the gateway gives
// (lib/gateway/security.cpp): iot:ClientId, aws:SourceIp, iot:Certificate.* of the device
// certificate (a client with one), iot:CertificateId, and iot:Connection.Thing.* of the registered
// thing named like the client id and attached to the certificate (AWS IoT's rule).
#pragma once

#include <iotblocks/policy/context.hpp>
#include <iotblocks/registry/records.hpp>
#include <iotblocks/x509/certificate.hpp>

#include "mosquitto_plugin/options.hpp"

#include <string_view>

namespace iotblocks::mosquitto_plugin {

/// A client without a certificate (a password user): iot:ClientId and aws:SourceIp only.
policy::context connection_context(const plugin_options& o, std::string_view client_id,
                                   std::string_view address);

/// `record` may be null (then iot:Connection.Thing.IsAttached is false).
policy::context connection_context(const plugin_options& o, std::string_view client_id,
                                   std::string_view address, const x509::certificate& leaf,
                                   const registry::certificate_record* record);

}  // namespace iotblocks::mosquitto_plugin
