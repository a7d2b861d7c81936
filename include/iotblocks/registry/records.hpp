// What the certificate registry holds: things, CA certificate records and
// device certificate records (immutable snapshots; a change replaces a record).
//
//   auto r = reg.find_certificate(id);   // std::shared_ptr<const certificate_record>
//   if (r && r->status == iotblocks::registry::certificate_status::active) r->things;
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/registry/status.hpp>
#include <iotblocks/x509/certificate.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

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
  std::string ca_id{};  ///< the registered CA its chain ends at; empty: registered without a CA
  certificate_status status = certificate_status::inactive;
  std::int64_t registered_ms = 0;
  std::int64_t updated_ms = 0;
  std::vector<thing> things{};  ///< attached things, by name
  const std::string& id() const noexcept { return certificate.id(); }
};

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
