#include <iotblocks/core/error.hpp>
#include <iotblocks/net/error.hpp>

namespace iotblocks::net {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::invalid_url: return "invalid URL (expected http(s)://host[:port][/target])";
    case error::timeout: return "the exchange timed out";
    case error::response_too_large: return "the response exceeds the configured maximum";
    case error::unexpected_reply: return "the reply does not contain the expected text";
    case error::connection_closed: return "the peer closed the connection before replying";
    case error::invalid_argument: return "invalid request field";
  }
  return "unknown iotblocks.net error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return detail::lasting_category<&message>("iotblocks.net");
}

}  // namespace iotblocks::net
