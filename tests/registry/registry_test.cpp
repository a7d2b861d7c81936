#include "registry/fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace iotblocks::registry::test {
namespace {

using namespace std::chrono_literals;
using x509::key_algorithm;

TEST(RegistryTypes, StatusNames) {
  for (auto s :
       {certificate_status::active, certificate_status::inactive, certificate_status::revoked,
        certificate_status::pending_activation, certificate_status::pending_transfer}) {
    EXPECT_EQ(parse_certificate_status(to_string(s)).value(), s);
  }
  EXPECT_EQ(to_string(certificate_status::pending_activation), "PENDING_ACTIVATION");
  EXPECT_FALSE(parse_certificate_status("active"));
  EXPECT_EQ(parse_ca_status("INACTIVE").value(), ca_status::inactive);
  EXPECT_FALSE(parse_ca_status("REVOKED"));
  EXPECT_STREQ(std::error_code(error::ca_inactive).category().name(), "iotblocks.registry");
}

TEST_F(RegistryTest, CaRegistrationChecks) {
  auto reg = open({.max_cas_per_subject = 2});
  const issued ca = make_ca("Acme CA");
  const std::string v = make_verification(reg, ca).cert.pem();

  // A device certificate is not a CA.
  const issued leaf = make_device("leaf", ca);
  EXPECT_EQ(reg.register_ca(leaf.cert.pem(), v).error(), error::not_a_ca);
  // Garbage is an x509 error with its position.
  auto garbage = reg.register_ca("-----BEGIN CERTIFICATE-----\n@@\n-----END CERTIFICATE-----", v);
  EXPECT_EQ(garbage.error(), x509::error::invalid_pem);

  const std::string id = reg.register_ca(ca.cert.pem(), v, {.active = true}).value();
  EXPECT_EQ(reg.register_ca(ca.cert.pem(), v).error(), error::already_exists);
  EXPECT_EQ(reg.describe_ca(id).value().status, ca_status::active);
  EXPECT_EQ(reg.describe_ca("nope").error(), error::not_found);

  // Up to max_cas_per_subject CAs may share a subject.
  const issued twin = make_ca("Acme CA");
  register_ca(reg, twin);
  const issued triplet = make_ca("Acme CA");
  EXPECT_EQ(reg.register_ca(triplet.cert.pem(), make_verification(reg, triplet).cert.pem()).error(),
            error::too_many_cas_with_subject);
  EXPECT_EQ(reg.list_cas().size(), 2u);
}

TEST_F(RegistryTest, CaMustPassStrictChecks) {
  // Made like the walk-through's `openssl req -x509`: no keyUsage extension.
  {
    auto reg = open({.verify = {.profile = x509::profile::strict}});
    const auto key =
        x509::private_key::from_pem(x509::test::read_file("tests/data/x509/blog_ca.key")).value();
    const auto cert =
        x509::certificate::from_pem(x509::test::read_file("tests/data/x509/blog_ca.pem")).value();
    const issued blog_ca{cert, key};
    auto r = reg.register_ca(cert.pem(), make_verification(reg, blog_ca).cert.pem());
    EXPECT_EQ(r.error(), error::ca_certificate_invalid);
    EXPECT_THAT(r.fail().message, ::testing::HasSubstr("key usage"));
    // Under the default profile (what AWS IoT accepts) it registers.
    auto lax = open();
    EXPECT_TRUE(lax.register_ca(cert.pem(), make_verification(lax, blog_ca).cert.pem()));
  }
  // An expired CA.
  auto reg = open();
  const auto key = x509::private_key::generate(key_algorithm::p256).value();
  const auto old = x509::issue({.subject = x509::test::cn("Old CA"),
                                .not_before = clock_.now() - 48h,
                                .not_after = clock_.now() - 24h,
                                .ca = true},
                               key)
                       .value();
  const issued old_ca{old, key};
  auto r = reg.register_ca(old.pem(), make_verification(reg, old_ca).cert.pem());
  EXPECT_EQ(r.error(), error::ca_certificate_invalid);
  EXPECT_THAT(r.fail().message, ::testing::HasSubstr("expired"));
}

TEST_F(RegistryTest, ExpiredVerificationCertificate) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  const auto key = x509::private_key::generate(key_algorithm::p256).value();
  const auto v = x509::issue({.subject = x509::test::cn(reg.registration_code().value()),
                              .not_before = clock_.now() - 48h,
                              .not_after = clock_.now() - 1h},
                             key, &ca.cert, &ca.key)
                     .value();
  EXPECT_EQ(reg.register_ca(ca.cert.pem(), v.pem()).error(),
            error::verification_certificate_invalid);
}

TEST_F(RegistryTest, ExplicitDeviceRegistration) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  const issued twin = make_ca("Acme CA");
  const std::string ca_id = register_ca(reg, ca, {.active = true});
  const std::string twin_id = register_ca(reg, twin, {.active = true});
  const issued d1 = make_device("d1", ca);
  const issued d2 = make_device("d2", twin);

  EXPECT_EQ(reg.register_certificate(d1.cert.pem(), certificate_status::pending_activation).error(),
            error::invalid_status);
  const std::string id1 = reg.register_certificate(d1.cert.pem()).value();
  clock_.advance(1s);
  EXPECT_EQ(reg.find_certificate(id1)->status, certificate_status::inactive);
  EXPECT_EQ(reg.find_certificate(id1)->ca_id, ca_id);
  EXPECT_EQ(reg.register_certificate(d1.cert.pem()).error(), error::already_exists);
  // The issuer is found among CAs sharing the subject by its signature.
  const std::string id2 =
      reg.register_certificate(d2.cert.pem(), certificate_status::active).value();
  EXPECT_EQ(reg.find_certificate(id2)->ca_id, twin_id);
  EXPECT_TRUE(reg.authenticate(chain({&d2})).accepted());
  // With the CA given explicitly it must be the signer.
  const issued d3 = make_device("d3", ca);
  EXPECT_EQ(
      reg.register_certificate(d3.cert.pem(), certificate_status::active, twin.cert.pem()).error(),
      error::unknown_ca);
  EXPECT_TRUE(reg.register_certificate(d3.cert.pem(), certificate_status::active, ca.cert.pem()));
  // A certificate from an unregistered CA.
  const issued stranger_ca = make_ca("Stranger");
  const issued stranger = make_device("s", stranger_ca);
  EXPECT_EQ(reg.register_certificate(stranger.cert.pem()).error(), error::unknown_ca);
  // An expired device certificate fails the chain check with the x509 reason.
  const auto key = x509::private_key::generate(key_algorithm::p256).value();
  const auto expired = x509::issue({.subject = x509::test::cn("expired"),
                                    .not_before = clock_.now() - 48h,
                                    .not_after = clock_.now() - 1h},
                                   key, &ca.cert, &ca.key)
                           .value();
  EXPECT_EQ(reg.register_certificate(expired.pem()).error(), x509::error::expired);

  auto by_ca = reg.list_certificates_by_ca(ca_id);
  ASSERT_EQ(by_ca.size(), 2u);
  EXPECT_EQ(by_ca[0]->id(), id1);
  EXPECT_EQ(reg.list_certificates().size(), 3u);
}

TEST_F(RegistryTest, StatusTransitions) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  register_ca(reg, ca, {.active = true, .auto_registration = true});
  using S = certificate_status;
  const S all[] = {S::active, S::inactive, S::revoked, S::pending_activation, S::pending_transfer};
  // Expected outcome of update_certificate(from -> to); reaching each `from`
  // through the API (JITR for PENDING_ACTIVATION, start_transfer for PENDING_TRANSFER).
  int n = 0;
  for (S from : all) {
    for (S to : all) {
      const issued dev = make_device("dev-" + std::to_string(n++), ca);
      const std::string id = dev.cert.id();
      if (from == S::pending_activation) {
        ASSERT_EQ(reg.authenticate(chain({&dev})).reason, error::pending_activation);
      } else if (from == S::pending_transfer) {
        reg.register_certificate(dev.cert.pem(), S::inactive).value();
        reg.start_transfer(id).value();
      } else {
        reg.register_certificate(dev.cert.pem(), from).value();
      }
      ASSERT_EQ(reg.find_certificate(id)->status, from);
      auto r = reg.update_certificate(id, to);
      std::error_code expected;
      if (to == S::pending_activation || to == S::pending_transfer) {
        expected = error::invalid_status;
      } else if (from == S::revoked && to != S::revoked) {
        expected = error::invalid_transition;
      } else if (from == S::pending_transfer) {
        expected = error::invalid_transition;
      }
      EXPECT_EQ(r.error(), expected) << to_string(from) << " -> " << to_string(to);
      EXPECT_EQ(reg.find_certificate(id)->status, expected ? from : to);
    }
  }
}

TEST_F(RegistryTest, Transfers) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  register_ca(reg, ca, {.active = true});
  const issued dev = make_device("dev", ca);
  const std::string id =
      reg.register_certificate(dev.cert.pem(), certificate_status::active).value();
  EXPECT_EQ(reg.start_transfer(id).error(), error::invalid_transition);  // must be INACTIVE
  reg.update_certificate(id, certificate_status::inactive).value();
  reg.start_transfer(id).value();
  EXPECT_EQ(reg.authenticate(chain({&dev})).reason, error::certificate_pending_transfer);
  EXPECT_EQ(reg.end_transfer(id, certificate_status::revoked).error(), error::invalid_status);
  reg.end_transfer(id, certificate_status::active).value();
  EXPECT_TRUE(reg.authenticate(chain({&dev})).accepted());
  EXPECT_EQ(reg.end_transfer(id, certificate_status::active).error(), error::invalid_transition);
}

TEST_F(RegistryTest, Deletion) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  const std::string ca_id = register_ca(reg, ca, {.active = true});
  const issued dev = make_device("dev", ca);
  const std::string id =
      reg.register_certificate(dev.cert.pem(), certificate_status::active).value();
  EXPECT_EQ(reg.delete_ca(ca_id).error(), error::invalid_transition);  // ACTIVE
  reg.update_ca(ca_id, ca_status::inactive).value();
  EXPECT_EQ(reg.delete_ca(ca_id).error(), error::in_use);
  EXPECT_EQ(reg.delete_certificate(id).error(), error::invalid_transition);  // ACTIVE
  reg.update_certificate(id, certificate_status::inactive).value();
  reg.create_thing({.name = "t"}).value();
  reg.attach_thing("t", id).value();
  EXPECT_EQ(reg.delete_certificate(id).error(), error::in_use);
  reg.detach_thing("t", id).value();
  reg.delete_certificate(id).value();
  EXPECT_EQ(reg.find_certificate(id), nullptr);
  EXPECT_EQ(reg.delete_certificate(id).error(), error::not_found);
  reg.delete_ca(ca_id).value();
  EXPECT_TRUE(reg.list_cas().empty());
  // The CA's chains are no longer trusted.
  EXPECT_EQ(reg.authenticate(chain({&dev, &ca})).reason, x509::error::untrusted);
  reg = open();
  EXPECT_TRUE(reg.list_cas().empty());
  EXPECT_TRUE(reg.list_certificates().empty());
}

TEST_F(RegistryTest, AuthenticationRejections) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  const std::string ca_id = register_ca(reg, ca, {.active = true});
  const issued dev = make_device("dev", ca);

  EXPECT_EQ(reg.authenticate(std::vector<bytes_view>{}).reason, x509::error::no_certificate);
  // Not registered, no auto-registration.
  EXPECT_EQ(reg.authenticate(chain({&dev, &ca})).reason, error::auto_registration_disabled);
  // Unregistered CA.
  const issued stranger_ca = make_ca("Stranger");
  const issued stranger = make_device("s", stranger_ca);
  auto untrusted = reg.authenticate(chain({&stranger, &stranger_ca}));
  EXPECT_EQ(untrusted.reason, x509::error::untrusted) << untrusted.message;
  // Tampered signature.
  byte_buffer tampered = to_buffer(dev.cert.der());
  tampered[tampered.size() - 2] ^= std::byte{1};
  EXPECT_EQ(reg.authenticate(std::vector<bytes_view>{bytes_view{tampered}}).reason,
            x509::error::bad_signature);
  // INACTIVE device.
  reg.register_certificate(dev.cert.pem()).value();
  auto inactive = reg.authenticate(chain({&dev}));
  EXPECT_EQ(inactive.reason, error::certificate_inactive);
  ASSERT_TRUE(inactive.principal);  // known, so the caller can log who it was
  EXPECT_EQ(inactive.principal->id(), dev.cert.id());
}

TEST_F(RegistryTest, CachedChainsStillExpire) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  register_ca(reg, ca, {.active = true});
  const issued dev = make_device("dev", ca);
  reg.register_certificate(dev.cert.pem(), certificate_status::active).value();
  EXPECT_TRUE(reg.authenticate(chain({&dev})).accepted());
  EXPECT_TRUE(reg.authenticate(chain({&dev})).accepted());
  EXPECT_EQ(reg.stats().chain_verifications, 1u);
  clock_.set(dev.cert.not_after() + 1s);
  EXPECT_EQ(reg.authenticate(chain({&dev})).reason, x509::error::expired);
  EXPECT_EQ(reg.stats().chain_verifications, 1u);
  EXPECT_EQ(reg.stats().cache_hits, 2u);
}

TEST_F(RegistryTest, CrlRevokesCachedChains) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  register_ca(reg, ca, {.active = true});
  const issued dev = make_device("dev", ca);
  reg.register_certificate(dev.cert.pem(), certificate_status::active).value();
  EXPECT_TRUE(reg.authenticate(chain({&dev})).accepted());
  reg.add_crl(x509::issue_crl(ca.cert, ca.key, {dev.cert.serial()}, 30, &clock_).value()).value();
  EXPECT_EQ(reg.authenticate(chain({&dev})).reason, x509::error::revoked);
  reg.clear_crls();
  EXPECT_TRUE(reg.authenticate(chain({&dev})).accepted());
}

TEST_F(RegistryTest, RegisteredIntermediateIsTheAnchor) {
  auto reg = open();
  const issued root = make_ca("Root");
  const issued inter = make_ca("Devices Intermediate", key_algorithm::p256, &root);
  const std::string id = register_ca(reg, inter, {.active = true, .auto_registration = true});
  const issued dev = make_device("dev", inter);
  auto r = reg.authenticate(chain({&dev, &inter}));
  EXPECT_EQ(r.reason, error::pending_activation) << r.message;
  ASSERT_TRUE(r.event);
  EXPECT_EQ(r.event->ca_certificate_id, id);
}

TEST_F(RegistryTest, OpenFailsOnAnUnusableFile) {
  std::filesystem::create_directories(dir_ / "a-directory");
  auto r = registry::open((dir_ / "a-directory").string());
  EXPECT_EQ(r.error(), error::storage);
}

}  // namespace
}  // namespace iotblocks::registry::test
