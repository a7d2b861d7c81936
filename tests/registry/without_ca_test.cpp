// RegisterCertificateWithoutCA: a device certificate trusted by itself (no CA
// registered) authenticates while ACTIVE, survives a reopen, and a registry
// file of schema version 1 (ca_id NOT NULL) is migrated.
#include "registry/fixture.hpp"

#include "core/sqlite.hpp"

#include <gmock/gmock.h>

namespace iotblocks::registry::test {
namespace {

TEST_F(RegistryTest, CertificateWithoutCaAuthenticatesWhileActive) {
  const auto unregistered_ca = make_ca("Factory CA (not registered)");
  const auto device = make_device("pump-9", unregistered_ca);
  std::string id;
  {
    auto reg = open();
    // Not registered: refused.
    EXPECT_EQ(reg.authenticate(chain({&device})).reason, x509::error::untrusted);
    id = reg.register_certificate_without_ca(device.cert.pem()).value();
    EXPECT_EQ(id, device.cert.id());
    const auto rec = reg.find_certificate(id);
    ASSERT_TRUE(rec);
    EXPECT_TRUE(rec->ca_id.empty());
    EXPECT_EQ(rec->status, certificate_status::inactive);  // AWS's default
    EXPECT_EQ(reg.authenticate(chain({&device})).reason, error::certificate_inactive);
    reg.update_certificate(id, certificate_status::active).value();
    auto a = reg.authenticate(chain({&device}));
    EXPECT_TRUE(a.accepted()) << a.message;
    // Twice: the second from the chain cache.
    EXPECT_TRUE(reg.authenticate(chain({&device})).accepted());
    EXPECT_EQ(reg.register_certificate_without_ca(device.cert.pem()).error(),
              error::already_exists);
    reg.create_thing({.name = "pump-9"}).value();
    reg.attach_thing("pump-9", id).value();
  }
  auto reg = open();  // reopened: the record and its attachment are kept
  const auto rec = reg.find_certificate(id);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->ca_id.empty());
  ASSERT_EQ(rec->things.size(), 1u);
  EXPECT_TRUE(reg.authenticate(chain({&device})).accepted());
  reg.update_certificate(id, certificate_status::revoked).value();
  EXPECT_EQ(reg.authenticate(chain({&device})).reason, error::certificate_revoked);
}

TEST_F(RegistryTest, CertificateWithoutCaIsCheckedAsItsOwnAnchor) {
  auto reg = open();
  const auto ca = make_ca("Factory CA");
  const auto expired =
      x509::test::make_leaf("old", ca, x509::key_algorithm::p256, {.clock = &clock_});
  clock_.advance(std::chrono::hours(24 * 400));
  auto r = reg.register_certificate_without_ca(expired.cert.pem());
  EXPECT_EQ(r.error(), x509::error::expired) << r.describe();
  EXPECT_FALSE(reg.register_certificate_without_ca("not a certificate"));
  const auto fresh = make_device("new", ca);
  EXPECT_EQ(
      reg.register_certificate_without_ca(fresh.cert.pem(), certificate_status::pending_activation)
          .error(),
      error::invalid_status);
  EXPECT_TRUE(reg.register_certificate_without_ca(fresh.cert.pem(), certificate_status::active));
}

TEST_F(RegistryTest, SchemaVersion1IsMigrated) {
  {
    auto db = sqlite::database::open(path()).value();
    db.exec(R"sql(
      CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE ca_certificates(id TEXT PRIMARY KEY, der BLOB NOT NULL,
        status TEXT NOT NULL CHECK(status IN ('ACTIVE','INACTIVE')),
        auto_registration INTEGER NOT NULL, registered_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL);
      CREATE TABLE certificates(id TEXT PRIMARY KEY, der BLOB NOT NULL,
        ca_id TEXT NOT NULL REFERENCES ca_certificates(id), status TEXT NOT NULL,
        registered_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
      CREATE INDEX certificates_by_ca ON certificates(ca_id, registered_ms);
      CREATE TABLE things(name TEXT PRIMARY KEY, type TEXT NOT NULL, attributes TEXT NOT NULL,
        version INTEGER NOT NULL);
      CREATE TABLE thing_principals(thing TEXT NOT NULL REFERENCES things(name),
        certificate_id TEXT NOT NULL REFERENCES certificates(id),
        PRIMARY KEY(thing, certificate_id));
      INSERT INTO meta VALUES('schema_version', '1');
    )sql")
        .value();
  }
  const auto ca = make_ca("Root");
  const auto dev = make_device("d1", ca);
  const auto self = make_device("d2", ca);
  {
    auto reg = open();
    register_ca(reg, ca, {.active = true});
    reg.register_certificate(dev.cert.pem(), certificate_status::active).value();
    reg.register_certificate_without_ca(self.cert.pem(), certificate_status::active).value();
  }
  auto db = sqlite::database::open(path()).value();
  auto v = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").value();
  ASSERT_TRUE(v.step().value());
  EXPECT_EQ(v.column_text(0), "2");
  auto reg = open();
  EXPECT_EQ(reg.find_certificate(dev.cert.id())->ca_id, ca.cert.id());
  EXPECT_TRUE(reg.find_certificate(self.cert.id())->ca_id.empty());
}

}  // namespace
}  // namespace iotblocks::registry::test
