// Private: checks of strict mode that OpenSSL 3.0's X509_STRICT leaves out,
// run on a chain X509_verify_cert has built and accepted.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/x509/verifier.hpp>

#include <openssl/x509.h>

namespace iotblocks::x509::strict {

/// Extra RFC 5280 / CA/B Forum checks on the built chain (leaf first, anchor last).
result<void> check_chain(STACK_OF(X509) * chain, const verify_options& options);

}  // namespace iotblocks::x509::strict
