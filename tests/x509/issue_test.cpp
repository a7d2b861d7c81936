#include <iotblocks/x509/issue.hpp>

#include "x509/test_util.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

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
  auto r = v.verify(std::vector<certificate>{dev.cert},
                    {.profile = profile::strict, .purpose = purpose::tls_client});
  ASSERT_TRUE(r) << r.describe();
  EXPECT_EQ(r->anchor, ca.cert);
  // The AWS profile takes what AWS IoT Core takes: RSA and ECDSA, not EdDSA.
  auto aws = v.verify(std::vector<certificate>{dev.cert}, {.purpose = purpose::tls_client});
  if (alg == key_algorithm::ed25519) {
    ASSERT_FALSE(aws);
    EXPECT_NE(aws.fail().message.view().find("ED25519 not accepted"), std::string::npos)
        << aws.describe();
  } else {
    EXPECT_TRUE(aws) << aws.describe();
  }
}

INSTANTIATE_TEST_SUITE_P(Algorithms, IssueEveryAlgorithm,
                         ::testing::Values(key_algorithm::rsa_2048, key_algorithm::p256,
                                           key_algorithm::p384, key_algorithm::ed25519));

/// A PKCS#10 request for `key` with CN=`name`, PEM; `tamper` renames it after signing.
std::string make_csr(const private_key& key, const std::string& name, bool tamper) {
  auto* pkey = static_cast<EVP_PKEY*>(key.native_handle());
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req{X509_REQ_new(), X509_REQ_free};
  X509_REQ_set_pubkey(req.get(), pkey);
  auto* subject = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_REQ_sign(req.get(), pkey, EVP_sha256());
  if (tamper) {
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("evil"), -1, -1, 0);
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()), BIO_free};
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

TEST(Issue, FromCsrKeepsTheRequestsKeyAndSubject) {
  const auto ca = test::make_ca("CSR Root", key_algorithm::p256);
  const auto device_key = private_key::generate(key_algorithm::p256).value();
  auto cert = issue_from_csr(make_csr(device_key, "csr-device", false), {.client_auth = true},
                             ca.cert, ca.key);
  ASSERT_TRUE(cert) << cert.describe();
  EXPECT_TRUE(device_key.matches(*cert));
  EXPECT_EQ(cert->subject().to_string(), "CN=csr-device");
  EXPECT_TRUE(cert->issued_by(ca.cert));
  EXPECT_THAT(cert->extended_key_usages(), ::testing::ElementsAre("clientAuth"));
  verifier v;
  v.add_trusted(ca.cert).value();
  EXPECT_TRUE(v.verify(std::vector<certificate>{*cert}, {.purpose = purpose::tls_client}));

  auto tampered = issue_from_csr(make_csr(device_key, "csr-device", true), {}, ca.cert, ca.key);
  ASSERT_FALSE(tampered);
  EXPECT_THAT(tampered.describe(), ::testing::HasSubstr("does not verify"));
  auto garbage = issue_from_csr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", {}, ca.cert, ca.key);
  ASSERT_FALSE(garbage);
  EXPECT_THAT(garbage.describe(), ::testing::HasSubstr("PKCS#10"));
  const auto other = test::make_ca("Other", key_algorithm::p256);
  EXPECT_FALSE(issue_from_csr(make_csr(device_key, "d", false), {}, ca.cert, other.key));
}

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
