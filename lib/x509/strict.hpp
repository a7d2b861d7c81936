// Private: checks of strict mode that OpenSSL 3.0's X509_STRICT leaves out,
// run on a chain X509_verify_cert has built and accepted.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/x509/verifier.hpp>

#include <openssl/x509.h>

namespace iotblocks::x509::strict {

/// Extra RFC 5280 / CA/B Forum checks of one certificate at `depth` of a built
/// chain (0 = leaf); `anchor` when it is the chain's last (trusted) certificate.
result<void> check_certificate(X509* x, int depth, bool leaf, bool anchor);

}  // namespace iotblocks::x509::strict
