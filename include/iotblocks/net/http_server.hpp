// A small HTTP/1.1 server (Beast) with prefix routing, for the gateway's REST
// endpoints. Requests are read whole (bounded body), handled synchronously on
// the server's thread, answered, and the connection kept alive when asked.
//
//   net::http_server s;
//   s.route("GET", "/health", [](const net::incoming_request&) {
//     return net::http_reply{200, R"({"status":"ok"})"};
//   });
//   auto port = s.listen({.port = 0}).value();
//   s.start();   // returns at once; s.stop() joins the threads
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::net {

struct incoming_request {
  std::string method;  ///< "GET", "POST", ...
  std::string path;    ///< target before '?', percent-decoded
  std::string query;   ///< target after '?', raw
  std::string body;
  std::string authorization;  ///< the Authorization header
  std::string content_type;
  std::string remote_address;
  std::string if_none_match;  ///< the If-None-Match header (conditional GET)
  std::string raw_path;       ///< target before '?', as sent (not decoded; for signatures)
  std::vector<std::pair<std::string, std::string>> headers;  ///< every header, as received

  /// The query parameter `key` (percent-decoded), or empty.
  std::string query_param(std::string_view key) const;
};

struct http_reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  /// Extra response headers (ETag, Cache-Control, Location, ...).
  std::vector<std::pair<std::string, std::string>> headers = {};
};

using http_route = std::function<http_reply(const incoming_request&)>;

struct http_server_options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;                  ///< 0 picks a free port
  std::size_t threads = 1;                    ///< io_context threads
  std::size_t max_body_bytes = 256 * 1024;    ///< larger bodies get 413
  std::size_t max_connections = 1024;         ///< further accepts are closed at once
  std::chrono::milliseconds timeout{30'000};  ///< per request (read + write)
};

/// Distinct objects: safe. Shared objects: unsafe; routes must be added before start().
class http_server {
 public:
  http_server();
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Requests whose method is `method` ("*": any) and whose path equals `prefix` or
  /// starts with `prefix` + "/" go to `fn`; the longest prefix wins. Unknown paths: 404.
  void route(std::string method, std::string prefix, http_route fn);
  /// Requests for which `when` is true go to `fn`, before any prefix route (e.g. the
  /// AWS-signed requests of the gateway's AWS API, whatever their path).
  void route_if(std::function<bool(const incoming_request&)> when, http_route fn);
  /// Binds; returns the bound port.
  result<std::uint16_t> listen(const http_server_options& options);
  void start();
  void stop();

  struct impl;  ///< implementation detail

 private:
  std::unique_ptr<impl> impl_;
};

/// Percent-decodes `s` ('+' stays '+'); malformed escapes are kept as is.
std::string percent_decode(std::string_view s);

}  // namespace iotblocks::net

IOTBLOCKS_API_END
