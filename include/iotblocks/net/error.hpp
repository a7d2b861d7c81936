// Error codes of the network layer (category "iotblocks.net"). Failures of the
// operating system and of TLS keep their own codes (Asio's system and SSL
// categories); these name what the layer itself decides.
//
//   std::error_code ec;
//   client.send(request, ec);
//   if (ec == net::error::timeout) retry_later();
#pragma once

#include <iotblocks/core/export.hpp>

#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::net {

enum class error {
  invalid_url = 1,     ///< a URL is not http(s)://host[:port][/target]
  timeout,             ///< the exchange did not finish within its timeout
  response_too_large,  ///< a response or reply exceeds the configured maximum
  unexpected_reply,    ///< a TCP reply did not contain the expected text
  connection_closed,   ///< the peer closed the connection before replying
  invalid_argument,    ///< a request field is malformed (method, header, port)
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace iotblocks::net

template <>
struct std::is_error_code_enum<iotblocks::net::error> : std::true_type {};

IOTBLOCKS_API_END
