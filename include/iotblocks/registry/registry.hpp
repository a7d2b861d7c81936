// The certificate registry: bring-your-own CA, device certificates with
// statuses, things, and authentication of the chain a device presents in the
// TLS handshake, with just-in-time registration (JITR).
//
// Sans-I/O: the registry takes certificates and chains as bytes and returns
// values and events; it persists to an embedded SQLite file (WAL, synchronous
// FULL) and every change is committed before the call returns, so a crash
// leaves the last acknowledged state.
//
//   auto reg = iotblocks::registry::registry::open("registry.db").value();
//   std::string code = reg.registration_code().value();
//   // … issue a verification certificate with CN = code under the CA key …
//   std::string ca = reg.register_ca(ca_pem, verification_pem,
//                                    {.active = true, .auto_registration = true}).value();
//   auto a = reg.authenticate(chain);            // chain: DER certificates, leaf first
//   if (a.event) publish(a.event->topic, a.event->payload);
//   if (a.accepted()) a.principal->things;       // who the device is
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/authentication.hpp>
#include <iotblocks/registry/changes.hpp>
#include <iotblocks/registry/error.hpp>
#include <iotblocks/registry/records.hpp>
#include <iotblocks/registry/status.hpp>
#include <iotblocks/registry/store.hpp>
#include <iotblocks/x509/verifier.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

struct options {
  /// awsAccountId in registration events.
  std::string account_id = "000000000000";
  /// Time for validity checks and timestamps; nullptr: iotblocks::default_clock().
  const iotblocks::clock* clock = nullptr;
  /// How device chains and registered CAs are verified (time comes from `clock`).
  x509::verify_options verify{};
  std::size_t max_cas_per_subject = 10;  ///< CAs that may share one subject (AWS: 10)
  std::size_t max_attributes = 50;       ///< attributes per thing (AWS: 50)
  std::size_t max_things_per_certificate = 128;
  /// Verified chains remembered (their bytes, about 1–3 KB each) so that a
  /// known device skips signature checks.
  std::size_t cache_capacity = 10'000;
  /// With a store other processes write (PostgreSQL): how old the in-memory view may be
  /// when a read or an authentication is served. A call made later than this after the
  /// last look asks the store whether another process committed a change, and loads
  /// everything again when one did; a write always looks first. 0: look on every call.
  std::chrono::milliseconds sync_interval{1000};
};

/// Flags of register_ca.
struct ca_registration {
  bool active = false;             ///< register ACTIVE (default INACTIVE, as AWS IoT)
  bool auto_registration = false;  ///< register device certificates just in time
};

/// Counters, for monitoring and tests.
struct statistics {
  std::uint64_t authentications = 0;
  std::uint64_t chain_verifications = 0;  ///< full X509_verify_cert runs
  std::uint64_t cache_hits = 0;
  std::uint64_t registrations = 0;  ///< just-in-time registrations
};

namespace detail {
struct registry_impl;
}

/// Distinct objects: safe. Shared objects: safe (calls are serialised by an
/// internal mutex; records handed out are immutable snapshots).
class registry {
 public:
  /// Opens (creating if needed) the registry stored at `path`.
  static result<registry> open(const std::string& path, options opts = {});
  /// Opens the registry kept in `s` (e.g. iotblocks::postgres::registry_store).
  static result<registry> open(std::unique_ptr<store> s, options opts = {});

  registry(registry&&) noexcept;
  registry& operator=(registry&&) noexcept;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;
  ~registry();

  // Registration code: random, long-lived, one per registry.

  /// The registration code, generated (and stored) on first use: 64 hex digits.
  result<std::string> registration_code();
  /// Forgets the code; the next registration_code() makes a new one.
  result<void> delete_registration_code();

  // CA certificates.

  /// Registers a CA after checking the verification certificate: its Common
  /// Name must be the registration code and the CA's key must have signed it.
  /// @return the CA's certificate id
  result<std::string> register_ca(std::string_view ca_pem, std::string_view verification_pem,
                                  const ca_registration& flags = {});
  /// Changes the status and/or the auto-registration flag of a CA.
  result<void> update_ca(std::string_view id, std::optional<ca_status> status,
                         std::optional<bool> auto_registration = std::nullopt);
  result<ca_record> describe_ca(std::string_view id) const;
  std::vector<ca_record> list_cas() const;
  /// Deletes an INACTIVE CA that no registered device certificate refers to.
  result<void> delete_ca(std::string_view id);

  // Device certificates.

  /// Registers a device certificate signed by a registered, ACTIVE CA (the
  /// one given as `ca_pem`, or found by issuer name and signature). Callers
  /// may register ACTIVE, INACTIVE or REVOKED. @return the certificate id
  result<std::string> register_certificate(std::string_view pem,
                                           certificate_status status = certificate_status::inactive,
                                           std::string_view ca_pem = {});
  /// The same for a parsed certificate and, when not null, the CA that issued it (no PEM
  /// parsed while the registry is locked).
  result<std::string> register_certificate(x509::certificate cert, certificate_status status,
                                           const x509::certificate* ca);
  /// Registers a device certificate trusted by itself, with no CA registered
  /// (AWS RegisterCertificateWithoutCA): it must be valid now and pass the
  /// verification profile's checks as its own anchor. A device presenting it
  /// is accepted while it is ACTIVE. Its record's ca_id is empty.
  /// @return the certificate id
  result<std::string> register_certificate_without_ca(
      std::string_view pem, certificate_status status = certificate_status::inactive);
  /// Sets ACTIVE, INACTIVE or REVOKED. REVOKED is final; a certificate in
  /// PENDING_TRANSFER changes only through end_transfer.
  result<void> update_certificate(std::string_view id, certificate_status status);
  /// INACTIVE → PENDING_TRANSFER.
  result<void> start_transfer(std::string_view id);
  /// PENDING_TRANSFER → `next` (ACTIVE when accepted, INACTIVE when rejected or cancelled).
  result<void> end_transfer(std::string_view id, certificate_status next);
  /// The record of a certificate, or null. The fast lookup by id.
  std::shared_ptr<const certificate_record> find_certificate(std::string_view id) const;
  result<std::shared_ptr<const certificate_record>> describe_certificate(std::string_view id) const;
  /// Every certificate, by id.
  std::vector<std::shared_ptr<const certificate_record>> list_certificates() const;
  /// The certificates of one CA, oldest registration first.
  std::vector<std::shared_ptr<const certificate_record>> list_certificates_by_ca(
      std::string_view ca_id) const;
  /// Deletes a certificate that is not ACTIVE (nor PENDING_TRANSFER) and has no thing attached.
  result<void> delete_certificate(std::string_view id);

  // Things and their attachment to certificates.

  result<void> create_thing(const thing& t);
  /// Replaces type and attributes; when `expected_version` is set it must match.
  result<void> update_thing(const thing& t, std::optional<std::int64_t> expected_version = {});
  /// Deletes a thing that has no certificate attached.
  result<void> delete_thing(std::string_view name,
                            std::optional<std::int64_t> expected_version = {});
  result<thing> describe_thing(std::string_view name) const;
  std::vector<thing> list_things() const;
  result<void> attach_thing(std::string_view thing_name, std::string_view certificate_id);
  result<void> detach_thing(std::string_view thing_name, std::string_view certificate_id);
  /// Ids of the certificates attached to a thing.
  result<std::vector<std::string>> list_thing_principals(std::string_view thing_name) const;
  /// Observes the committed changes of things (created, updated, deleted) made through this
  /// object, replacing the previous observer.
  void on_change(change_observer f);

  // Authentication.

  /// Decides on the chain a device presented (DER, leaf first). Accepts an
  /// ACTIVE certificate whose chain verifies to a registered CA. An unknown
  /// certificate under an ACTIVE CA with auto-registration is registered
  /// PENDING_ACTIVATION (durably) and rejected with a registration event.
  /// A chain seen before and unchanged skips the signature checks.
  authentication authenticate(std::span<const bytes_view> chain);
  /// The same for parsed certificates, leaf first.
  authentication authenticate(std::span<const x509::certificate> chain);

  /// Checks device chains against `list` too (kept in memory, not stored).
  result<void> add_crl(const x509::crl& list);
  void clear_crls();

  statistics stats() const;

  /// Starts a batch on this thread: its writes until commit_batch() are one transaction
  /// of the store (one durable commit for them all; each write is still checked and all
  /// or nothing, and visible in memory at once). Other threads' writes wait until the
  /// batch ends. Errors: the store's.
  result<void> begin_batch();
  /// Ends the batch: its writes are durable when this returns. On failure none of them is
  /// kept, in the store or in memory (reloaded from the store). Errors: the store's.
  result<void> commit_batch();
  /// Ends the batch dropping its writes, in the store and in memory.
  void rollback_batch();

  /// Looks now whether another process changed the store (see options::sync_interval)
  /// and loads its changes. Errors: the store's.
  result<void> refresh();
  /// Moves each time the registry loaded changes made by another process: records and
  /// decisions taken from it before are stale.
  std::uint64_t generation() const noexcept;

 private:
  explicit registry(std::unique_ptr<detail::registry_impl> impl) noexcept;
  std::unique_ptr<detail::registry_impl> d_;
};

/// Thing name / type syntax: [a-zA-Z0-9:_-]{1,128}.
bool valid_thing_name(std::string_view name) noexcept;
/// Attribute name syntax: [a-zA-Z0-9_.,@/:#-]{1,128}.
bool valid_attribute_name(std::string_view name) noexcept;

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
