#include <iotblocks/x509/issue.hpp>

#include "x509/test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace iotblocks::x509 {
namespace {

using test::cn;

class IssueEveryAlgorithm : public ::testing::TestWithParam<key_algorithm> {};

TEST_P(IssueEveryAlgorithm, CaAndDeviceCertificatesVerifyStrictly) {
  const auto alg = GetParam();
  const auto ca = test::make_ca("Root " + std::string(to_string(alg)), alg);
  EXPECT_TRUE(ca.cert.is_ca());
  EXPECT_TRUE(ca.cert.self_issued());
  EXPECT_TRUE(ca.key.matches(ca.cert));
  EXPECT_EQ(ca.cert.subject_key_id(), ca.cert.authority_key_id());
  EXPECT_EQ(ca.cert.key_usages().value() & (key_cert_sign | crl_sign), key_cert_sign | crl_sign);

  const auto dev = test::make_leaf("device-1", ca, alg, {.client_auth = true});
  EXPECT_FALSE(dev.cert.is_ca());
  EXPECT_TRUE(dev.cert.issued_by(ca.cert));
  EXPECT_EQ(dev.cert.authority_key_id(), ca.cert.subject_key_id());
  EXPECT_THAT(dev.cert.extended_key_usages(), ::testing::ElementsAre("clientAuth"));
  EXPECT_EQ(dev.cert.serial().size(), 32u);

  verifier v;
  v.add_trusted(ca.cert).value();
  auto r = v.verify(std::vector<certificate>{dev.cert}, {.purpose = purpose::tls_client});
  ASSERT_TRUE(r) << r.describe();
  EXPECT_EQ(r->anchor, ca.cert);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, IssueEveryAlgorithm,
                         ::testing::Values(key_algorithm::rsa_2048, key_algorithm::p256,
                                           key_algorithm::p384, key_algorithm::ed25519));

TEST(Issue, KeysRoundTripThroughPem) {
  const auto key = private_key::generate(key_algorithm::p256).value();
  const auto again = private_key::from_pem(key.pem()).value();
  EXPECT_EQ(again.pem(), key.pem());
  EXPECT_EQ(again.type(), key_type::ec);
  EXPECT_EQ(again.bits(), 256);
  const auto ca = issue({.subject = cn("self"), .ca = true}, key).value();
  EXPECT_TRUE(again.matches(ca));
  EXPECT_FALSE(private_key::generate(key_algorithm::p256).value().matches(ca));
  EXPECT_EQ(private_key::from_pem("nonsense").error(), error::invalid_key);
  EXPECT_EQ(parse_key_algorithm("rsa2048").value(), key_algorithm::rsa_2048);
  EXPECT_FALSE(parse_key_algorithm("rsa512"));
}

TEST(Issue, RequestFieldsAreHonoured) {
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  const auto ca = test::make_ca("Root");
  const auto key = private_key::generate(key_algorithm::p256).value();
  certificate_request req{.subject = {{{"C", "DE"}, {"O", "Acme"}, {"CN", "gw.example.com"}}},
                          .serial = "0a1b2c",
                          .days = 10,
                          .server_auth = true,
                          .dns_names = {"gw.example.com"},
                          .ip_addresses = {"10.0.0.1"},
                          .clock = &clock};
  const auto c = issue(req, key, &ca.cert, &ca.key).value();
  EXPECT_EQ(c.serial(), "a1b2c");
  EXPECT_EQ(c.subject().to_string(), "CN=gw.example.com,O=Acme,C=DE");
  EXPECT_EQ(to_unix_ms(c.not_before()), 1'700'000'000'000 - 60'000);
  EXPECT_EQ(to_unix_ms(c.not_after()), 1'700'000'000'000 + 10 * 86'400'000LL);
  EXPECT_THAT(c.subject_alt_names().dns, ::testing::ElementsAre("gw.example.com"));
  EXPECT_THAT(c.subject_alt_names().ip, ::testing::ElementsAre("10.0.0.1"));
  EXPECT_THAT(c.extended_key_usages(), ::testing::ElementsAre("serverAuth"));

  const auto sub = test::make_ca("Sub", key_algorithm::p256, &ca, {.path_length = 0});
  EXPECT_EQ(sub.cert.path_length(), 0);
}

TEST(Issue, RejectsInconsistentRequests) {
  const auto ca = test::make_ca("Root");
  const auto other = test::make_ca("Other");
  const auto key = private_key::generate(key_algorithm::p256).value();
  EXPECT_FALSE(issue({.subject = cn("x")}, key, &ca.cert, nullptr));
  EXPECT_FALSE(issue({.subject = cn("x")}, key, &ca.cert, &other.key));
  EXPECT_FALSE(issue({.subject = cn("x"), .serial = "zz"}, key));
  EXPECT_FALSE(issue({.subject = {{{"NOT-AN-ATTRIBUTE", "x"}}}}, key));
}

TEST(Issue, CrlListsRevokedSerials) {
  const auto ca = test::make_ca("Root");
  const auto dev = test::make_leaf("device", ca);
  const auto list = issue_crl(ca.cert, ca.key, {dev.cert.serial(), "abc"}).value();
  EXPECT_EQ(list.issuer(), ca.cert.subject());
  EXPECT_THAT(list.revoked_serials(),
              ::testing::UnorderedElementsAre(dev.cert.serial(), std::string("abc")));
  ASSERT_TRUE(list.next_update());
  EXPECT_GT(*list.next_update(), list.this_update());
  const auto again = crl::from_pem(list.pem()).value();
  EXPECT_EQ(as_string_view(again.der()), as_string_view(list.der()));
  EXPECT_FALSE(crl::from_der(as_bytes("garbage")));
  EXPECT_FALSE(issue_crl(ca.cert, dev.key, {}));
}

}  // namespace
}  // namespace iotblocks::x509
