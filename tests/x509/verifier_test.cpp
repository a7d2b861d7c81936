#include <iotblocks/x509/verifier.hpp>

#include "x509/test_util.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>

namespace iotblocks::x509 {
namespace {

using namespace std::chrono_literals;
using test::issued;

std::vector<bytes_view> ders(std::initializer_list<const certificate*> certs) {
  std::vector<bytes_view> out;
  for (const auto* c : certs) out.push_back(c->der());
  return out;
}

class Verifier : public ::testing::Test {
 protected:
  Verifier()
      : root_(test::make_ca("Root")),
        inter_(test::make_ca("Intermediate", key_algorithm::p256, &root_)),
        leaf_(test::make_leaf("device-1", inter_, key_algorithm::p256,
                              {.client_auth = true, .dns_names = {"device-1.example.com"}})) {
    v_.add_trusted(root_.cert).value();
  }
  issued root_, inter_, leaf_;
  verifier v_;
};

TEST_F(Verifier, ThreeLevelChainFromDer) {
  auto r = v_.verify(ders({&leaf_.cert, &inter_.cert}));
  ASSERT_TRUE(r) << r.describe();
  EXPECT_EQ(r->anchor, root_.cert);
  EXPECT_EQ(r->length, 3u);
  EXPECT_EQ(r->not_after,
            std::min({root_.cert.not_after(), inter_.cert.not_after(), leaf_.cert.not_after()}));
  EXPECT_EQ(r->not_before,
            std::max({root_.cert.not_before(), inter_.cert.not_before(), leaf_.cert.not_before()}));
  // The same through parsed certificates.
  auto again = v_.verify(std::vector<certificate>{leaf_.cert, inter_.cert});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->anchor, root_.cert);
}

TEST_F(Verifier, MissingIntermediateIsUntrusted) {
  auto r = v_.verify(ders({&leaf_.cert}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::untrusted);
  EXPECT_NE(r.fail().message.view().find("CN=device-1"), std::string::npos) << r.describe();
}

TEST_F(Verifier, TrustedIntermediateIsAnAnchorWithPartialChains) {
  verifier v;
  v.add_trusted(inter_.cert).value();
  auto r = v.verify(ders({&leaf_.cert}));
  ASSERT_TRUE(r) << r.describe();
  EXPECT_EQ(r->anchor, inter_.cert);
  EXPECT_EQ(r->length, 2u);
  EXPECT_EQ(v.verify(ders({&leaf_.cert}), {.partial_chain = false}).error(), error::untrusted);
}

TEST_F(Verifier, TimeIsInjectable) {
  const auto inside = leaf_.cert.not_before() + 1h;
  EXPECT_TRUE(v_.verify(ders({&leaf_.cert, &inter_.cert}), {.at = inside}));
  EXPECT_EQ(
      v_.verify(ders({&leaf_.cert, &inter_.cert}), {.at = leaf_.cert.not_after() + 1s}).error(),
      error::expired);
  manual_clock clock{leaf_.cert.not_before() - 2h};
  EXPECT_EQ(v_.verify(ders({&leaf_.cert, &inter_.cert}), {.clock = &clock}).error(),
            error::not_yet_valid);
  clock.advance(4h);
  EXPECT_TRUE(v_.verify(ders({&leaf_.cert, &inter_.cert}), {.clock = &clock}));
  EXPECT_TRUE(v_.verify(ders({&leaf_.cert, &inter_.cert}),
                        {.check_time = false, .at = leaf_.cert.not_after() + 1h}));
}

TEST_F(Verifier, TamperedSignatureFails) {
  byte_buffer der = to_buffer(leaf_.cert.der());
  der[der.size() - 3] ^= std::byte{0x01};  // inside the ECDSA signature's s value
  std::array<bytes_view, 2> chain{bytes_view{der}, inter_.cert.der()};
  auto r = v_.verify(chain);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::bad_signature) << r.describe();
}

TEST_F(Verifier, MaximumDepth) {
  EXPECT_TRUE(v_.verify(ders({&leaf_.cert, &inter_.cert}), {.max_intermediates = 1}));
  EXPECT_EQ(v_.verify(ders({&leaf_.cert, &inter_.cert}), {.max_intermediates = 0}).error(),
            error::chain_too_long);
}

TEST_F(Verifier, PurposeAndPeerNames) {
  auto chain = ders({&leaf_.cert, &inter_.cert});
  EXPECT_TRUE(v_.verify(chain, {.purpose = purpose::tls_client}));
  EXPECT_EQ(v_.verify(chain, {.purpose = purpose::tls_server}).error(), error::purpose_mismatch);
  EXPECT_TRUE(v_.verify(chain, {.host = "device-1.example.com"}));
  EXPECT_EQ(v_.verify(chain, {.host = "device-2.example.com"}).error(), error::name_mismatch);
  EXPECT_EQ(v_.verify(chain, {.host = "device-1"}).error(), error::name_mismatch);
  EXPECT_EQ(v_.verify(chain, {.ip = "10.0.0.1"}).error(), error::name_mismatch);
  EXPECT_EQ(v_.verify(chain, {.ip = "not-an-ip"}).error(), error::name_mismatch);
}

TEST_F(Verifier, SecurityLevel) {
  auto chain = ders({&leaf_.cert, &inter_.cert});
  EXPECT_TRUE(v_.verify(chain, {.auth_level = 3}));  // P-256 is 128 bits
  EXPECT_EQ(v_.verify(chain, {.auth_level = 4}).error(), error::weak_key);
}

TEST_F(Verifier, CrlsWhenGiven) {
  auto chain = ders({&leaf_.cert, &inter_.cert});
  // A CRL from the intermediate that does not list the leaf: fine; the
  // intermediate itself has no CRL from the root, which is fine by default.
  v_.add_crl(issue_crl(inter_.cert, inter_.key, {"abcdef"}).value()).value();
  EXPECT_TRUE(v_.verify(chain)) << v_.verify(chain).describe();
  EXPECT_EQ(v_.verify(chain, {.crls = crl_check::required}).error(), error::crl_unavailable);
  v_.add_crl(issue_crl(inter_.cert, inter_.key, {leaf_.cert.serial()}).value()).value();
  EXPECT_EQ(v_.verify(chain).error(), error::revoked);
  EXPECT_TRUE(v_.verify(chain, {.crls = crl_check::off}));
  EXPECT_EQ(v_.crl_count(), 1u);  // the second CRL replaced the first
  v_.clear_crls();
  EXPECT_TRUE(v_.verify(chain));
}

TEST_F(Verifier, StrictModeRejectsCaWithoutKeyUsage) {
  // Made like the JITR walk-through: `openssl req -x509` (no keyUsage) and a v1 device.
  verifier v;
  const auto ca = certificate::from_pem(test::read_file("tests/data/x509/blog_ca.pem")).value();
  const auto dev =
      certificate::from_pem(test::read_file("tests/data/x509/blog_device.pem")).value();
  v.add_trusted(ca).value();
  auto r = v.verify(std::vector<certificate>{dev}, {.profile = profile::strict});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::invalid_certificate);
  EXPECT_NE(r.fail().message.view().find("key usage"), std::string::npos) << r.describe();
  // AWS IoT accepts it: the default profile.
  EXPECT_TRUE(v.verify(std::vector<certificate>{dev}));
  EXPECT_TRUE(v.verify(std::vector<certificate>{dev}, {.profile = profile::aws}));
}

TEST_F(Verifier, AwsProfileTakesAwsKeyAndSignatureAlgorithms) {
  // Chains OpenSSL's default validation accepts but AWS IoT Core does not.
  const std::string dir = "tests/data/x509/aws_profile/";
  const auto load = [&](const char* name) {
    return certificate::from_pem(test::read_file(dir + name)).value();
  };
  struct vector {
    const char* ca;
    const char* device;
    const char* why;
  };
  for (const auto& [ca, device, why] :
       {vector{"k1_ca.pem", "k1_device.pem", "EC key on curve 'secp256k1' (depth 1"},
        vector{"p256_ca.pem", "sha224_device.pem",
               "signature algorithm ecdsa-with-SHA224 not accepted (depth 0"}}) {
    verifier v;
    v.add_trusted(load(ca)).value();
    const std::vector<certificate> chain{load(device)};
    auto r = v.verify(chain);
    ASSERT_FALSE(r) << device;
    EXPECT_EQ(r.error(), error::weak_key);
    EXPECT_NE(r.fail().message.view().find(why), std::string::npos) << r.describe();
    // The advice is whole (the message is longer than a failure holds inline).
    EXPECT_TRUE(r.fail().message.view().ends_with(
        "; AWS IoT accepts RSA >= 2048 bits or ECDSA P-256/P-384/P-521, signed with "
        "SHA-256/384/512)"))
        << r.describe();
  }
  EXPECT_EQ(parse_profile("aws"), profile::aws);
  EXPECT_EQ(parse_profile("strict"), profile::strict);
  EXPECT_EQ(parse_profile("lax"), std::nullopt);
  EXPECT_EQ(to_string(profile::strict), "strict");
}

TEST_F(Verifier, SeveralCasWithOneSubject) {
  const auto twin = test::make_ca("Root");  // same subject, other key
  const auto leaf = test::make_leaf("device-2", twin);
  EXPECT_EQ(v_.verify(ders({&leaf.cert})).error(), error::untrusted);
  v_.add_trusted(twin.cert).value();
  auto r = v_.verify(ders({&leaf.cert}));
  ASSERT_TRUE(r) << r.describe();
  EXPECT_EQ(r->anchor, twin.cert);
  auto first = v_.verify(ders({&leaf_.cert, &inter_.cert}));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->anchor, root_.cert);
}

TEST_F(Verifier, TrustCanBeRemoved) {
  EXPECT_EQ(v_.size(), 1u);
  EXPECT_NE(v_.find_trusted(root_.cert.id()), nullptr);
  v_.add_trusted(root_.cert).value();  // no-op
  EXPECT_EQ(v_.size(), 1u);
  EXPECT_FALSE(v_.remove_trusted("nope"));
  EXPECT_TRUE(v_.remove_trusted(root_.cert.id()));
  EXPECT_EQ(v_.find_trusted(root_.cert.id()), nullptr);
  EXPECT_EQ(v_.verify(ders({&leaf_.cert, &inter_.cert})).error(), error::untrusted);
}

TEST_F(Verifier, HostileChains) {
  EXPECT_EQ(v_.verify(std::vector<bytes_view>{}).error(), error::no_certificate);
  std::vector<bytes_view> many(11, leaf_.cert.der());
  EXPECT_EQ(v_.verify(many).error(), error::too_many_certificates);
  std::array<bytes_view, 2> junk{leaf_.cert.der(), as_bytes("junk")};
  EXPECT_EQ(v_.verify(junk).error(), error::invalid_der);
  EXPECT_EQ(v_.verify(ders({&leaf_.cert}), {.limits = {.max_certificate_size = 10}}).error(),
            error::too_large);
}

}  // namespace
}  // namespace iotblocks::x509
