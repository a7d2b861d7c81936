// Private: small helpers shared by the Asio-based clients.
#pragma once

#include <iotblocks/net/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/system/error_code.hpp>

#include <system_error>

namespace iotblocks::net::detail {

/// Asio/Beast error to std::error_code; Beast's timeout becomes error::timeout.
inline std::error_code to_std(const boost::system::error_code& e) {
  if (e == boost::beast::error::timeout || e == boost::asio::error::timed_out)
    return error::timeout;
  if (e == boost::asio::error::operation_aborted) return error::timeout;
  return static_cast<std::error_code>(e);
}

}  // namespace iotblocks::net::detail
