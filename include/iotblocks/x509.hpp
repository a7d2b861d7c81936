// iotblocks x509: certificates as values, strict chain verification through
// OpenSSL, and key and certificate issuance for test CAs and device certificates.
#pragma once

#include <iotblocks/x509/certificate.hpp>
#include <iotblocks/x509/error.hpp>
#include <iotblocks/x509/issue.hpp>
#include <iotblocks/x509/verifier.hpp>
