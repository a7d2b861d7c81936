// Private: the checks of profile::aws that OpenSSL's default path validation
// does not make: AWS IoT Core's key and signature algorithms.
#pragma once

#include <iotblocks/core/result.hpp>

#include <openssl/x509.h>

namespace iotblocks::x509::aws_profile {

/// RSA ≥ 2048 bits (RSA or RSASSA-PSS keys) or ECDSA on P-256, P-384, P-521;
/// the certificate signed with SHA-256/384/512 and RSA, RSASSA-PSS or ECDSA.
/// `depth` names the certificate's place in the chain in the message.
result<void> check_certificate(X509* x, int depth);

}  // namespace iotblocks::x509::aws_profile
