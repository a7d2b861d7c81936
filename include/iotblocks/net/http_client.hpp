// A small HTTP/1.1 client over Boost.Beast with TLS through OpenSSL: one
// request, one response, within a deadline. Used by the rules engine's `http`
// action and by webhook subscriptions; anything that needs to POST a payload
// somewhere and know whether it arrived.
//
//   net::http_client client;
//   client.timeout(std::chrono::seconds(5)).ca_file("ca.pem");
//   net::http_request req{.method = "POST", .url = "https://127.0.0.1:8443/ingest",
//                         .headers = {{"content-type", "application/json"}},
//                         .body = R"({"lux":36250})"};
//   std::error_code ec;
//   net::http_response res = client.send(req, ec);   // ec: timeout, refused, TLS, ...
//   if (!ec && res.status / 100 == 2) ok();
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/net/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::net {

/// The parts of an http:// or https:// URL. Views into the parsed text.
struct url_parts {
  bool tls = false;
  std::string_view host;    ///< name or address, IPv6 without brackets
  std::uint16_t port = 0;   ///< explicit, or 80 / 443
  std::string_view target;  ///< path and query, "/" when absent
};

/// Splits an absolute http(s) URL. Errors: error::invalid_url with the offset of the fault.
result<url_parts> parse_url(std::string_view url);

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request {
  std::string method = "POST";
  std::string url;
  header_list headers;  ///< sent as given (Host, Content-Length and User-Agent are added)
  std::string body;
};

struct http_response {
  unsigned status = 0;
  header_list headers;
  std::string body;

  /// The first header named `name` (case-insensitive), or empty.
  std::string_view header(std::string_view name) const noexcept;
};

/// Sends requests, each on its own connection and I/O context (no keep-alive pool).
/// Distinct objects: safe. Shared objects: safe (settings must not change while sending).
class http_client {
 public:
  http_client();
  ~http_client();
  http_client(http_client&&) noexcept;
  http_client& operator=(http_client&&) noexcept;

  /// Deadline of one whole exchange: resolve, connect, handshake, write, read. Default 10 s.
  http_client& timeout(std::chrono::milliseconds t) noexcept;
  std::chrono::milliseconds timeout() const noexcept;
  /// Largest response body accepted. Default 1 MiB.
  http_client& max_body_size(std::size_t n) noexcept;
  /// Verify the server's certificate chain and host name. Default true.
  http_client& verify_peer(bool on) noexcept;
  /// Trust the CA certificates in this PEM file (in addition to the system's).
  /// Errors: the OpenSSL error of loading the file.
  result<void> ca_file(const std::string& path);
  /// Trust these PEM-encoded CA certificates (in addition to the system's).
  result<void> ca_pem(std::string_view pem);

  /// Sends `req` and reads the response. Any status is a response, not an error.
  http_response send(const http_request& req, std::error_code& ec) const;
  /// Like the above; throws std::system_error.
  http_response send(const http_request& req) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::net

IOTBLOCKS_API_END
