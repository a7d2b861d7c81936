// The just-in-time registration walk-through, end to end, with certificates
// the test creates: CA → registration code → verification certificate →
// register → activate + auto-registration → new device → authenticate
// (PENDING_ACTIVATION + event) → activate → accepted → revoke → rejected.
#include "registry/fixture.hpp"

#include "core/json.hpp"

#include <gtest/gtest.h>

namespace iotblocks::registry::test {
namespace {

using x509::key_algorithm;

class Jitr : public RegistryTest, public ::testing::WithParamInterface<key_algorithm> {};

TEST_P(Jitr, WalkThrough) {
  const key_algorithm alg = GetParam();
  auto reg = open({.account_id = "123456789012"});

  // 1. The manufacturer's CA and the registration code.
  const issued ca = make_ca("Acme Devices CA", alg);
  const std::string code = reg.registration_code().value();
  EXPECT_EQ(code.size(), 64u);
  EXPECT_EQ(reg.registration_code().value(), code);  // long-lived

  // 2. Verification certificate: CN = code, signed with the CA's key.
  const issued verification = make_verification(reg, ca);
  EXPECT_EQ(verification.cert.common_name(), code);

  // 3. Register (INACTIVE, no auto-registration by default), then activate and enable.
  const std::string ca_id = reg.register_ca(ca.cert.pem(), verification.cert.pem()).value();
  EXPECT_EQ(ca_id, ca.cert.id());
  auto described = reg.describe_ca(ca_id).value();
  EXPECT_EQ(described.status, ca_status::inactive);
  EXPECT_FALSE(described.auto_registration);
  reg.update_ca(ca_id, ca_status::active, true).value();
  described = reg.describe_ca(ca_id).value();
  EXPECT_EQ(described.status, ca_status::active);
  EXPECT_TRUE(described.auto_registration);

  // 4. A new device certificate connects, presenting its certificate and the CA.
  const issued device = make_device("device-0001", ca, alg);
  const auto presented = chain({&device, &ca});
  auto first = reg.authenticate(presented);
  EXPECT_FALSE(first.accepted());
  EXPECT_EQ(first.reason, error::pending_activation) << first.message;
  ASSERT_TRUE(first.event);
  EXPECT_EQ(first.event->topic, "$aws/events/certificates/registered/" + ca_id);
  EXPECT_EQ(first.event->certificate_id, device.cert.id());
  EXPECT_EQ(first.event->timestamp_ms, clock_.now_ms());
  auto payload = json::parse(first.event->payload).value();
  EXPECT_EQ(json::get_string(payload, "certificateId"), device.cert.id());
  EXPECT_EQ(json::get_string(payload, "caCertificateId"), ca_id);
  EXPECT_EQ(json::get_int64(payload, "timestamp"), clock_.now_ms());
  EXPECT_EQ(json::get_string(payload, "certificateStatus"), "PENDING_ACTIVATION");
  EXPECT_EQ(json::get_string(payload, "awsAccountId"), "123456789012");
  EXPECT_EQ(json::get_string(payload, "certificateRegistrationTimestamp"),
            std::to_string(clock_.now_ms()));
  EXPECT_EQ(payload.MemberCount(), 6u);
  ASSERT_TRUE(first.principal);
  EXPECT_EQ(first.principal->status, certificate_status::pending_activation);
  EXPECT_EQ(first.principal->ca_id, ca_id);
  EXPECT_EQ(reg.describe_certificate(device.cert.id()).value()->status,
            certificate_status::pending_activation);
  ASSERT_EQ(reg.list_certificates_by_ca(ca_id).size(), 1u);

  // Reconnecting while pending publishes the event again (same registration time).
  clock_.advance(std::chrono::seconds(5));
  auto again = reg.authenticate(presented);
  EXPECT_EQ(again.reason, error::pending_activation);
  ASSERT_TRUE(again.event);
  EXPECT_EQ(again.event->registration_timestamp_ms, first.event->registration_timestamp_ms);
  EXPECT_EQ(again.event->timestamp_ms, first.event->timestamp_ms + 5000);
  EXPECT_EQ(reg.stats().registrations, 1u);

  // 5. The rule activates the certificate; the device connects.
  reg.update_certificate(device.cert.id(), certificate_status::active).value();
  auto ok = reg.authenticate(presented);
  ASSERT_TRUE(ok.accepted()) << ok.message;
  EXPECT_FALSE(ok.event);
  EXPECT_EQ(ok.principal->id(), device.cert.id());
  EXPECT_EQ(ok.principal->certificate.common_name(), "device-0001");
  EXPECT_EQ(ok.principal->certificate.issuer().get("CN"), "Acme Devices CA");
  // Only the first attempt ran X509_verify_cert; the rest hit the cache.
  EXPECT_EQ(reg.stats().chain_verifications, 1u);
  EXPECT_EQ(reg.stats().cache_hits, 2u);

  // The device may also present its certificate alone (the CA is registered).
  EXPECT_TRUE(reg.authenticate(chain({&device})).accepted());

  // 6. Revoked: rejected, and REVOKED is final.
  reg.update_certificate(device.cert.id(), certificate_status::revoked).value();
  auto revoked = reg.authenticate(presented);
  EXPECT_EQ(revoked.reason, error::certificate_revoked);
  EXPECT_EQ(reg.update_certificate(device.cert.id(), certificate_status::active).error(),
            error::invalid_transition);

  // Everything survives a restart.
  reg = open();
  EXPECT_EQ(reg.registration_code().value(), code);
  EXPECT_EQ(reg.describe_ca(ca_id).value().status, ca_status::active);
  EXPECT_EQ(reg.describe_certificate(device.cert.id()).value()->status,
            certificate_status::revoked);
  EXPECT_EQ(reg.authenticate(presented).reason, error::certificate_revoked);
}

INSTANTIATE_TEST_SUITE_P(Keys, Jitr,
                         ::testing::Values(key_algorithm::p256, key_algorithm::rsa_2048),
                         [](const auto& p) { return std::string(x509::to_string(p.param)); });

TEST_F(RegistryTest, WrongVerificationCertificates) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  const issued other = make_ca("Other CA");
  const std::string code = reg.registration_code().value();

  // CN is not the registration code.
  const issued wrong_cn = x509::test::make_leaf("not-the-code", ca);
  auto r1 = reg.register_ca(ca.cert.pem(), wrong_cn.cert.pem());
  EXPECT_EQ(r1.error(), error::registration_code_mismatch) << r1.describe();

  // Right CN, signed by another CA's key.
  const issued foreign = x509::test::make_leaf(code, other);
  EXPECT_EQ(reg.register_ca(ca.cert.pem(), foreign.cert.pem()).error(),
            error::verification_not_signed_by_ca);

  // Right CN, self-signed.
  const auto self_key = x509::private_key::generate(x509::key_algorithm::p256).value();
  const auto self = x509::issue({.subject = x509::test::cn(code)}, self_key).value();
  EXPECT_EQ(reg.register_ca(ca.cert.pem(), self.pem()).error(),
            error::verification_not_signed_by_ca);

  // A code from before delete_registration_code() no longer counts.
  const issued stale = make_verification(reg, ca);
  reg.delete_registration_code().value();
  EXPECT_NE(reg.registration_code().value(), code);
  EXPECT_EQ(reg.register_ca(ca.cert.pem(), stale.cert.pem()).error(),
            error::registration_code_mismatch);

  EXPECT_TRUE(reg.list_cas().empty());
  EXPECT_TRUE(reg.register_ca(ca.cert.pem(), make_verification(reg, ca).cert.pem()));
}

TEST_F(RegistryTest, InactiveCaBlocksNewRegistrationsOnly) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  const std::string ca_id = register_ca(reg, ca, {.active = true, .auto_registration = true});
  const issued known = make_device("known", ca);
  EXPECT_EQ(reg.authenticate(chain({&known, &ca})).reason, error::pending_activation);
  reg.update_certificate(known.cert.id(), certificate_status::active).value();

  reg.update_ca(ca_id, ca_status::inactive).value();
  // A device registered before keeps working.
  EXPECT_TRUE(reg.authenticate(chain({&known, &ca})).accepted());
  // A new device is not registered.
  const issued fresh = make_device("fresh", ca);
  auto r = reg.authenticate(chain({&fresh, &ca}));
  EXPECT_EQ(r.reason, error::ca_inactive) << r.message;
  EXPECT_FALSE(r.event);
  EXPECT_FALSE(r.principal);
  EXPECT_EQ(reg.find_certificate(fresh.cert.id()), nullptr);
  // Nor explicitly.
  EXPECT_EQ(reg.register_certificate(fresh.cert.pem()).error(), error::ca_inactive);

  // Active again but without auto-registration: still not registered.
  reg.update_ca(ca_id, ca_status::active, false).value();
  EXPECT_EQ(reg.authenticate(chain({&fresh, &ca})).reason, error::auto_registration_disabled);
  reg.update_ca(ca_id, std::nullopt, true).value();
  EXPECT_EQ(reg.authenticate(chain({&fresh, &ca})).reason, error::pending_activation);
}

}  // namespace
}  // namespace iotblocks::registry::test
