// Provisioning templates as AWS IoT keeps them: a name, a description, enabled or not, a
// provisioning role ARN, a pre-provisioning hook, a type (FLEET_PROVISIONING or JITP) and up
// to five versions of the body, one of them the default. Every body is checked by
// parse_template before it is stored. Kept in a SQLite file: each change is committed (one
// transaction) before the call returns; reads are served from memory.
//
//   auto store = iotblocks::provisioning::template_store::open("templates.db").value();
//   store->create({.name = "fleet", .enabled = true, .role_arn = arn}, body);
//   store->create_version("fleet", body2, /*set_default=*/true);   // version 2, the default
//   auto t = store->active("fleet");  // t->parsed is version 2, parsed once
#pragma once

#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/provisioning/template.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::provisioning {

/// A pre-provisioning hook: the function AWS would call (a Lambda ARN) before RegisterThing.
struct provisioning_hook {
  std::string target_arn{};
  std::string payload_version{};  ///< "2020-04-01" when not given
  friend bool operator==(const provisioning_hook&, const provisioning_hook&) = default;
};

/// One version of a template's body.
struct template_version {
  std::int64_t id = 0;  ///< 1, 2, … in creation order
  std::string body{};
  std::int64_t created_ms = 0;
};

/// The two template types.
inline constexpr std::string_view fleet_provisioning_type = "FLEET_PROVISIONING";
inline constexpr std::string_view jitp_type = "JITP";

/// A stored template (versions ascending by id).
struct stored_template {
  std::string name{};  ///< [0-9A-Za-z_-]{1,36}
  std::string description{};
  bool enabled = false;
  std::string role_arn{};
  std::optional<provisioning_hook> hook{};
  std::string type{fleet_provisioning_type};
  std::int64_t default_version = 0;
  std::int64_t created_ms = 0;
  std::int64_t modified_ms = 0;
  std::vector<template_version> versions{};
  /// The default version's body.
  const std::string& body() const;
};

/// What RegisterThing (or JITP) needs: the default version, parsed once, and the settings.
struct active_template {
  std::string name;
  provisioning_template parsed;
  bool enabled = false;
  std::string type;
  std::optional<provisioning_hook> hook;
};

/// Changes of update(); absent members stay as they are.
struct template_update {
  std::optional<std::string> description{};
  std::optional<bool> enabled{};
  std::optional<std::int64_t> default_version{};
  std::optional<std::string> role_arn{};
  std::optional<provisioning_hook> hook{};
  bool remove_hook = false;
};

/// A CA's registrationConfig (JITP): a template body, or the name of a JITP template.
struct ca_registration {
  std::string template_body{};
  std::string template_name{};
  std::string role_arn{};
  friend bool operator==(const ca_registration&, const ca_registration&) = default;
};

/// Distinct objects: safe. Shared objects: safe.
class template_store {
 public:
  /// AWS IoT's quotas.
  static constexpr std::size_t max_templates = 256;
  static constexpr std::size_t max_versions = 5;
  static constexpr std::size_t max_description = 500;

  /// Opens (or creates) the file and loads it (each default version parsed with `l`).
  /// Errors: SQLite's, internal_error (a stored body no longer parses).
  static result<std::unique_ptr<template_store>> open(const std::string& path,
                                                      const clock& clock = default_clock(),
                                                      const limits& l = {});
  ~template_store();
  template_store(const template_store&) = delete;
  template_store& operator=(const template_store&) = delete;

  /// Creates a template whose version 1 is `body`, the default. Errors: invalid_request (a
  /// name, type, description or hook that AWS refuses; a hook on a JITP template),
  /// invalid_template / limit_exceeded (the body; the message names the path),
  /// template_exists, limit_exceeded (max_templates), internal_error (storage).
  result<stored_template> create(stored_template t, std::string_view body);
  /// Errors: template_not_found.
  result<stored_template> describe(std::string_view name) const;
  /// Every template, sorted by name.
  std::vector<stored_template> list() const;
  /// Errors: template_not_found, invalid_request (a version that does not exist, a hook
  /// on a JITP template, …), internal_error.
  result<stored_template> update(std::string_view name, const template_update& u);
  /// Deletes a template and its versions. Errors: template_not_found, internal_error.
  result<void> remove(std::string_view name);
  /// Adds a version (the next id), the default when `set_default`. Errors:
  /// template_not_found, invalid_template / limit_exceeded (the body), version_limit
  /// (max_versions), internal_error.
  result<template_version> create_version(std::string_view name, std::string_view body,
                                          bool set_default);
  /// Deletes a version that is not the default. Errors: template_not_found (or the
  /// version), delete_conflict (the default version), internal_error.
  result<void> delete_version(std::string_view name, std::int64_t id);
  /// The default version, parsed, with the settings. Errors: template_not_found.
  result<active_template> active(std::string_view name) const;

  /// Sets (or, with both empty, removes) the registrationConfig of the CA `ca_id`. Errors:
  /// invalid_request (a body and a name, a name that is no JITP template, a role ARN not
  /// 20..2048), invalid_template (the body; the message names the path), internal_error.
  result<void> set_ca_registration(std::string_view ca_id, const ca_registration& r);
  /// The registrationConfig of a CA, if it has one.
  std::optional<ca_registration> ca_registration_of(std::string_view ca_id) const;
  /// The template JITP applies for a certificate of the CA `ca_id` (named "<ca_id>" for a
  /// body, else the named template, which must be enabled). Errors: template_not_found.
  result<active_template> jitp_template(std::string_view ca_id) const;

 private:
  struct impl;
  explicit template_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::provisioning

IOTBLOCKS_API_END
