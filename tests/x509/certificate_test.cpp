#include <iotblocks/x509/certificate.hpp>

#include "x509/test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace iotblocks::x509 {
namespace {

using test::read_file;
using ::testing::ElementsAre;

const std::string data_dir = "tests/data/x509/";

TEST(Certificate, ReadsEveryFieldOfTheVector) {
  const auto c = certificate::from_pem(read_file(data_dir + "device.pem")).value();
  EXPECT_EQ(c.id(), "d99fbbbc5626ef64b7f6aebc353e2527e3138ec6b4a220146a2abd43acd5cc68");
  EXPECT_EQ(c.version(), 3);
  EXPECT_EQ(c.common_name(), "device-0001");
  EXPECT_EQ(c.subject().get("C"), "DE");
  EXPECT_EQ(c.subject().get("ST"), "Berlin");
  EXPECT_EQ(c.subject().get("L"), "Berlin");
  EXPECT_EQ(c.subject().get("O"), "Acme GmbH");
  EXPECT_EQ(c.subject().get("OU"), "Devices");
  EXPECT_EQ(c.subject().get("serialNumber"), "SN-123");
  EXPECT_EQ(c.subject().get("emailAddress"), "ops@example.com");
  EXPECT_EQ(c.subject().get("DC"), "");
  EXPECT_EQ(c.subject().to_string(),
            "emailAddress=ops@example.com,serialNumber=SN-123,CN=device-0001,OU=Devices,"
            "O=Acme GmbH,L=Berlin,ST=Berlin,C=DE");
  EXPECT_EQ(c.issuer().to_string(), "CN=Acme Test Root,O=Acme GmbH,C=DE");
  EXPECT_EQ(c.serial(), "123456789abcdef");
  const auto& san = c.subject_alt_names();
  EXPECT_THAT(san.dns, ElementsAre("device-0001.example.com", "*.things.example.com"));
  EXPECT_THAT(san.ip, ElementsAre("192.0.2.7", "2001:db8::1"));
  EXPECT_THAT(san.email, ElementsAre("device@example.com"));
  EXPECT_THAT(san.uri, ElementsAre("urn:acme:device:0001"));
  EXPECT_EQ(to_unix_ms(c.not_before()), 1795680501000);
  EXPECT_EQ(to_unix_ms(c.not_after()), 4949280501000);
  EXPECT_TRUE(c.valid_at(from_unix_ms(1795680501000)));
  EXPECT_FALSE(c.valid_at(from_unix_ms(1795680500000)));
  EXPECT_EQ(c.public_key_type(), key_type::ec);
  EXPECT_EQ(c.public_key_bits(), 256);
  EXPECT_EQ(c.curve(), "prime256v1");
  EXPECT_EQ(c.signature_algorithm(), "ecdsa-with-SHA256");
  EXPECT_FALSE(c.is_ca());
  EXPECT_EQ(c.path_length(), std::nullopt);
  EXPECT_EQ(c.key_usages(), std::optional<std::uint32_t>{digital_signature});
  EXPECT_THAT(c.extended_key_usages(), ElementsAre("clientAuth"));
  EXPECT_EQ(c.subject_key_id(), "aba68b897119e282da16ce582723fbeb618fe29d");
  EXPECT_EQ(c.authority_key_id(), "3fe028232cce873aafc451c639f9e6bb9565a68b");
  EXPECT_FALSE(c.self_issued());
}

TEST(Certificate, PemAndDerAreTheSameCertificate) {
  const auto pem = certificate::from_pem(read_file(data_dir + "device.pem")).value();
  const auto der = certificate::from_der(as_bytes(read_file(data_dir + "device.der"))).value();
  EXPECT_EQ(pem, der);
  EXPECT_EQ(as_string_view(der.der()), read_file(data_dir + "device.der"));
  EXPECT_EQ(pem.pem(), read_file(data_dir + "device.pem"));
  EXPECT_EQ(certificate_id(der.der()), der.id());
  auto again = certificate::from_native(pem.native_handle()).value();
  EXPECT_EQ(again.id(), pem.id());
}

TEST(Certificate, ChainFileWithTextAroundTheBlocks) {
  const auto chain = parse_pem_chain(read_file(data_dir + "chain.pem")).value();
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].common_name(), "device-0001");
  EXPECT_EQ(chain[1].common_name(), "Acme Test Root");
  EXPECT_TRUE(chain[1].is_ca());
  EXPECT_TRUE(chain[1].self_issued());
  EXPECT_EQ(chain[1].key_usages(), std::optional<std::uint32_t>{key_cert_sign | crl_sign});
  EXPECT_TRUE(chain[0].issued_by(chain[1]));
  EXPECT_FALSE(chain[1].issued_by(chain[0]));
  EXPECT_TRUE(chain[1].issued_by(chain[1]));
  const auto ders = pem_to_der(read_file(data_dir + "chain.pem")).value();
  ASSERT_EQ(ders.size(), 2u);
  EXPECT_EQ(as_string_view(ders[0]), read_file(data_dir + "device.der"));
}

TEST(Certificate, ConcatenatedDerAndAutodetection) {
  const auto root = certificate::from_pem(read_file(data_dir + "root.pem")).value();
  std::string both = read_file(data_dir + "device.der");
  both.append(as_string_view(root.der()));
  const auto chain = parse_chain(both).value();
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[1], root);
  EXPECT_EQ(parse_chain(read_file(data_dir + "chain.pem")).value().size(), 2u);
}

TEST(Certificate, LegacyVersion1Certificate) {
  const auto c = certificate::from_pem(read_file(data_dir + "v1_rsa.pem")).value();
  EXPECT_EQ(c.version(), 1);
  EXPECT_EQ(c.public_key_type(), key_type::rsa);
  EXPECT_EQ(c.public_key_bits(), 2048);
  EXPECT_EQ(c.curve(), "");
  EXPECT_EQ(c.serial(), "7");
  EXPECT_EQ(c.key_usages(), std::nullopt);
  EXPECT_TRUE(c.extended_key_usages().empty());
  EXPECT_TRUE(c.subject_alt_names().empty());
  EXPECT_EQ(c.signature_algorithm(), "ecdsa-with-SHA256");  // signed by the P-256 root
}

TEST(Certificate, RejectsNonCanonicalDer) {
  auto r = certificate::from_der(as_bytes(read_file(data_dir + "device_ber.der")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::not_canonical_der);
}

TEST(Certificate, PemErrorsCarryPositions) {
  auto bad = certificate::from_pem(read_file(data_dir + "bad_base64.pem"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), error::invalid_pem);
  EXPECT_EQ(bad.fail().where.line, 2u);
  EXPECT_EQ(bad.fail().where.column, 5u);

  auto truncated = certificate::from_pem(read_file(data_dir + "truncated.pem"));
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error(), error::invalid_pem);
  EXPECT_EQ(truncated.fail().where.line, 1u);

  auto key = parse_pem_chain(read_file(data_dir + "private_key_block.pem"));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), error::unexpected_pem_block);

  EXPECT_EQ(certificate::from_pem("hello").error(), error::no_certificate);
  EXPECT_EQ(parse_pem_chain("").error(), error::no_certificate);
  EXPECT_EQ(certificate::from_pem(read_file(data_dir + "chain.pem")).error(),
            error::too_many_certificates);
  EXPECT_EQ(
      certificate::from_pem("-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----").error(),
      error::invalid_der);
  EXPECT_EQ(certificate::from_pem("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n"
                                  "-----END CERTIFICATE-----")
                .error(),
            error::invalid_pem);
}

TEST(Certificate, DerErrors) {
  EXPECT_EQ(certificate::from_der({}).error(), error::no_certificate);
  EXPECT_EQ(certificate::from_der(as_bytes("\x30\x03\x02\x01\x01")).error(), error::invalid_der);
  std::string trailing = read_file(data_dir + "device.der") + "x";
  auto r = certificate::from_der(as_bytes(trailing));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::invalid_der);
  EXPECT_EQ(r.fail().where.offset, 710u);
  // Every truncation of a valid certificate fails cleanly.
  const std::string der = read_file(data_dir + "device.der");
  for (std::size_t n = 0; n < der.size(); ++n) {
    EXPECT_FALSE(certificate::from_der(as_bytes(std::string_view{der}.substr(0, n))));
  }
}

TEST(Certificate, LimitsAreEnforced) {
  const std::string chain = read_file(data_dir + "chain.pem");
  EXPECT_EQ(parse_pem_chain(chain, {.max_chain_length = 1}).error(), error::too_many_certificates);
  EXPECT_EQ(parse_pem_chain(chain, {.max_input_size = 100}).error(), error::too_large);
  EXPECT_EQ(parse_pem_chain(chain, {.max_certificate_size = 500}).error(), error::too_large);
  EXPECT_EQ(certificate::from_der(as_bytes(read_file(data_dir + "device.der")),
                                  {.max_certificate_size = 709})
                .error(),
            error::too_large);
  std::string three = read_file(data_dir + "device.der");
  three += three + three;
  EXPECT_EQ(parse_der_chain(as_bytes(three), {.max_chain_length = 2}).error(),
            error::too_many_certificates);
}

TEST(Certificate, NameEscaping) {
  distinguished_name n{{{"CN", " a,b+c "}, {"O", "#x\"y\\z"}}};
  EXPECT_EQ(n.to_string(), "O=\\#x\\\"y\\\\z,CN=\\ a\\,b\\+c\\ ");
  EXPECT_THAT(n.get_all("CN"), ElementsAre(" a,b+c "));
}

TEST(Certificate, ErrorCategory) {
  std::error_code ec = error::expired;
  EXPECT_STREQ(ec.category().name(), "iotblocks.x509");
  EXPECT_EQ(ec.message(), "certificate has expired");
}

}  // namespace
}  // namespace iotblocks::x509
