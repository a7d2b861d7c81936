// The I/O the rules engine needs, as interfaces it is given: an HTTP exchange
// (the `http` action, webhook subscriptions) and a TCP command exchange (the
// `command` action, TCP command subscriptions). The rules component opens no
// socket itself; iotblocks::net_rules implements both over Asio, and a firmware
// loop or a test can give its own.
//
//   rules::engine_options o;
//   o.http = std::make_shared<net_rules::http_client_transport>();
//   o.command = std::make_shared<net_rules::tcp_command_transport>();
//   rules::engine engine{o};   // without them: http and command actions fail
//                              // with error::no_such_destination
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/rules/error.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::rules {

/// One HTTP request as an action or a webhook builds it. Owning.
struct http_request {
  std::string method = "POST";
  std::string url;  ///< absolute http:// or https:// URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Deadline of the whole exchange (the rule's timeoutMs); none: the transport's default.
  std::optional<std::chrono::milliseconds> timeout;
};

struct http_response {
  unsigned status = 0;
  std::string body;
};

/// Sends HTTP requests for the engine. send() blocks and is called from the engine's
/// workers: implementations must be thread-safe.
class http_transport {
 public:
  virtual ~http_transport() = default;
  /// Sends `req` and returns the response, whatever its status. Errors:
  /// error::invalid_action when the request itself is malformed (URL, header): not
  /// retried; any other error (timeout, refused, TLS) is retried.
  virtual result<http_response> send(const http_request& req) = 0;
};

/// One exchange with a device listening on TCP. Views, valid during exchange().
struct command_request {
  std::string_view host;
  std::uint16_t port = 0;
  std::string_view payload;
  std::string_view expect;  ///< the reply must contain this; empty: the first line
  bool read_reply = true;   ///< false: send and close (fire and forget)
  /// Connect, and then write and read the reply, each within this; none: the transport's default.
  std::optional<std::chrono::milliseconds> timeout;
};

/// Sends TCP commands for the engine. exchange() blocks and is called from the
/// engine's workers: implementations must be thread-safe.
class command_transport {
 public:
  virtual ~command_transport() = default;
  /// Sends the payload and returns the reply. Errors: error::invalid_action (the
  /// request is malformed) and error::action_failed (the device answered without
  /// `expect`; the message quotes the reply) are not retried; any other error is.
  virtual result<std::string> exchange(const command_request& req) = 0;
};

}  // namespace iotblocks::rules

IOTBLOCKS_API_END
