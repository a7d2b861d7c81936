// What evaluating a provisioning template asks the registry to do: the thing to create or
// update (with its type, groups and attributes and how to treat existing values), the
// certificate to activate or deactivate, the policies to attach, and the deviceConfiguration
// to return to the device. Plain values, owning; applying them is the caller's job.
#pragma once

#include <iotblocks/core/export.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::provisioning {

/// An OverrideSettings value: what to do with a property of a thing that already exists.
enum class override_mode {
  do_nothing,  ///< keep the existing value (the default when the template says nothing)
  replace,     ///< replace it with the template's
  merge,       ///< AttributePayload and ThingGroups: add the template's to the existing ones
  fail,        ///< refuse the provisioning if the existing value differs
};

/// "DO_NOTHING", "REPLACE", "MERGE", "FAIL".
const char* to_string(override_mode m) noexcept;

/// An AWS::IoT::Thing resource.
struct thing_plan {
  std::string logical_name;
  std::string name;
  std::optional<std::string> type_name;
  std::optional<std::vector<std::string>> groups;
  std::optional<std::map<std::string, std::string>> attributes;
  override_mode type_override = override_mode::do_nothing;
  override_mode groups_override = override_mode::do_nothing;
  override_mode attributes_override = override_mode::do_nothing;
  friend bool operator==(const thing_plan&, const thing_plan&) = default;
};

/// An AWS::IoT::Certificate resource: exactly one of id, csr and pem is set.
struct certificate_plan {
  std::string logical_name;
  std::string id;       ///< CertificateId (fleet provisioning: the device's new one)
  std::string csr;      ///< CertificateSigningRequest (PEM)
  std::string pem;      ///< CertificatePem
  std::string ca_pem;   ///< CACertificatePem (with pem)
  bool active = false;  ///< Status: Active (default) or Inactive
  friend bool operator==(const certificate_plan&, const certificate_plan&) = default;
};

/// An AWS::IoT::Policy resource: an existing policy by name, or a document to create.
struct policy_plan {
  std::string logical_name;
  std::string name;      ///< PolicyName ("" with document: the gateway names it)
  std::string document;  ///< PolicyDocument (JSON text), "" for a named existing policy
  friend bool operator==(const policy_plan&, const policy_plan&) = default;
};

/// The result of evaluating a template with a device's parameters.
struct plan {
  std::optional<thing_plan> thing;
  std::optional<certificate_plan> certificate;
  std::vector<policy_plan> policies;
  std::map<std::string, std::string> device_configuration;  ///< DeviceConfiguration
  friend bool operator==(const plan&, const plan&) = default;
};

}  // namespace iotblocks::provisioning

IOTBLOCKS_API_END
