// Private: a strict PEM block scanner (RFC 7468) with positions for errors.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace iotblocks::x509::pem {

struct block {
  std::string_view label;  ///< e.g. "CERTIFICATE"
  byte_buffer der;
  std::size_t offset = 0;  ///< of "-----BEGIN"
};

/// Every PEM block of `text` (text between blocks is ignored), decoding at
/// most `max_blocks` blocks of at most `max_der` bytes each. Blocks whose label
/// is not `label` are an error (x509::error::unexpected_pem_block).
result<std::vector<block>> scan(std::string_view text, std::string_view label,
                                std::size_t max_blocks, std::size_t max_der);

/// PEM text of `der` under `label`, 64 characters a line.
std::string encode(bytes_view der, std::string_view label);

}  // namespace iotblocks::x509::pem
