// The rules engine's transports over Asio: net's HTTP(S) client for http actions
// and webhooks, net's TCP client for command actions and TCP command sinks. The
// rules component defines the interfaces (rules/transport.hpp) and opens no
// socket; link iotblocks::net_rules and hand these to the engine.
//
//   net_rules::http_options h;
//   h.timeout = std::chrono::seconds(5);
//   h.ca_pem = read_file("ca.pem");            // extra trusted CAs for https:// URLs
//   rules::engine_options o;
//   o.http = std::make_shared<net_rules::http_client_transport>(h);
//   o.command = std::make_shared<net_rules::tcp_command_transport>();
//   rules::engine engine{o};
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/rules/transport.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

IOTBLOCKS_API_BEGIN

namespace iotblocks::net_rules {

/// Settings of http_client_transport. Defaults in brackets.
struct http_options {
  std::chrono::milliseconds timeout{10'000};  ///< [10 s] when the request names none
  std::size_t max_body_size = 1024 * 1024;    ///< [1 MiB] largest response body
  bool verify_peer = true;                    ///< [true] check the server's chain and name
  std::string ca_pem;                         ///< extra trusted CA certificates (PEM)
};

/// rules::http_transport over net::http_client: one connection per request, one
/// client per distinct timeout (kept once made). Distinct objects: safe. Shared objects: safe.
class http_client_transport final : public rules::http_transport {
 public:
  /// Throws std::system_error (OpenSSL's error) when `options.ca_pem` does not load.
  explicit http_client_transport(http_options options = {});
  ~http_client_transport() override;
  /// Errors: rules::error::invalid_action for a malformed URL or field (message from
  /// net), net's and the socket's and TLS errors otherwise.
  result<rules::http_response> send(const rules::http_request& req) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Settings of tcp_command_transport. Defaults in brackets.
struct command_options {
  std::chrono::milliseconds timeout{
      5'000};                         ///< [5 s] connect, then reply, when the request names none
  std::size_t max_reply = 64 * 1024;  ///< [64 KiB] longest reply read
};

/// rules::command_transport over net::tcp_client: one connection per exchange.
/// Distinct objects: safe. Shared objects: safe.
class tcp_command_transport final : public rules::command_transport {
 public:
  explicit tcp_command_transport(command_options options = {});
  /// Errors: rules::error::invalid_action (malformed request), rules::error::action_failed
  /// (a reply without `expect`, quoted in the message), net's and the socket's errors.
  result<std::string> exchange(const rules::command_request& req) override;

 private:
  command_options options_;
};

}  // namespace iotblocks::net_rules

IOTBLOCKS_API_END
