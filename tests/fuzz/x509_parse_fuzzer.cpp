// x509 parsing: certificates and chains in PEM and DER, and CRLs. Nothing may
// crash; whatever parses must re-encode to the same certificate (DER and PEM
// round trip, same id), and a parsed chain is run through the strict verifier
// with its last certificate trusted.
#include <iotblocks/x509.hpp>

#include <cstdlib>
#include <string_view>

namespace {

void check_roundtrip(const iotblocks::x509::certificate& c) {
  using iotblocks::x509::certificate;
  auto der = certificate::from_der(c.der());
  if (!der || der->id() != c.id()) std::abort();
  auto pem = certificate::from_pem(c.pem());
  if (!pem || pem->id() != c.id()) std::abort();
  if (c.id().size() != 64) std::abort();
  (void)c.subject().to_string();
  (void)c.issuer().to_string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace x509 = iotblocks::x509;
  const iotblocks::bytes_view bytes{reinterpret_cast<const std::byte*>(data), size};
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  const x509::parse_limits limits{.max_input_size = 1 << 16, .max_chain_length = 4};

  if (auto chain = x509::parse_chain(bytes, limits)) {
    for (const auto& c : *chain) check_roundtrip(c);
    x509::verifier v;
    if (v.add_trusted(chain->back())) {
      (void)v.verify(*chain, {.at = chain->front().not_before()});
    }
  }
  if (auto chain = x509::parse_pem_chain(text, limits)) {
    for (const auto& c : *chain) check_roundtrip(c);
  }
  if (auto ders = x509::pem_to_der(text, limits)) {
    for (const auto& der : *ders) (void)x509::certificate::from_der(der, limits);
  }
  if (auto c = x509::crl::from_der(bytes, limits)) {
    auto again = x509::crl::from_pem(c->pem());
    if (!again) std::abort();
    (void)c->revoked_serials();
  }
  (void)x509::crl::from_pem(text, limits);
  return 0;
}
