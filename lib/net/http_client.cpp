#include <iotblocks/net/http_client.hpp>

#include "net/asio_util.hpp"

#include <openssl/ssl.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace iotblocks::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
  });
}

bool is_field_value(std::string_view s) noexcept {
  return s.find_first_of("\r\n") == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

struct exchange_state {
  http::request<http::string_body> request;
  http_response response;
  boost::system::error_code ec;
  bool done = false;
};

template <class Stream>
asio::awaitable<void> do_http(Stream& stream, exchange_state& st, std::size_t max_body) {
  co_await http::async_write(stream, st.request, asio::redirect_error(asio::use_awaitable, st.ec));
  if (st.ec) co_return;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  co_await http::async_read(stream, buffer, parser,
                            asio::redirect_error(asio::use_awaitable, st.ec));
  if (st.ec) co_return;
  auto& res = parser.get();
  st.response.status = res.result_int();
  for (const auto& field : res) {
    st.response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  st.response.body = std::move(res.body());
}

}  // namespace

result<url_parts> parse_url(std::string_view url) {
  url_parts out;
  std::string_view rest;
  auto starts_with_ci = [&](std::string_view prefix) {
    return url.size() >= prefix.size() && iequals(url.substr(0, prefix.size()), prefix);
  };
  if (starts_with_ci("https://")) {
    out.tls = true;
    out.port = 443;
    rest = url.substr(8);
  } else if (starts_with_ci("http://")) {
    out.port = 80;
    rest = url.substr(7);
  } else {
    return {error::invalid_url, "URL must start with http:// or https://", at_offset(0)};
  }
  const std::size_t base = url.size() - rest.size();
  for (std::size_t i = 0; i < url.size(); ++i) {
    const auto c = static_cast<unsigned char>(url[i]);
    if (c <= 0x20 || c == 0x7F) {
      return {error::invalid_url, "URL contains a space or control character", at_offset(i)};
    }
  }
  const std::size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? std::string_view{"/"} : rest.substr(slash);
  if (!out.target.empty() && out.target.front() != '/') {
    return {error::invalid_url, "URL target must start with '/'", at_offset(base + slash)};
  }
  if (const auto hash = out.target.find('#'); hash != std::string_view::npos) {
    out.target = out.target.substr(0, hash);
    if (out.target.empty()) out.target = "/";
  }
  if (authority.find('@') != std::string_view::npos) {
    return {error::invalid_url, "user information in URLs is not supported", at_offset(base)};
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return {error::invalid_url, "unterminated IPv6 address", at_offset(base)};
    }
    out.host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return {error::invalid_url, "unexpected text after IPv6 address",
                at_offset(base + close + 1)};
      }
      port_text = after.substr(1);
      if (port_text.empty()) return {error::invalid_url, "empty port", at_offset(base + close + 2)};
    }
  } else {
    const auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return {error::invalid_url, "empty port", at_offset(base + colon + 1)};
    }
  }
  if (out.host.empty()) return {error::invalid_url, "URL has no host", at_offset(base)};
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [p, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || p != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return {error::invalid_url, "port must be 1..65535",
              at_offset(static_cast<std::size_t>(port_text.data() - url.data()))};
    }
    out.port = static_cast<std::uint16_t>(port);
  }
  return out;
}

std::string_view http_response::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

struct http_client::impl {
  std::chrono::milliseconds timeout{10000};
  std::size_t max_body = 1024 * 1024;
  bool verify = true;
  ssl::context ctx{ssl::context::tls_client};

  impl() {
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    boost::system::error_code ignored;
    ctx.set_default_verify_paths(ignored);
  }

  asio::awaitable<void> run(const url_parts& u, exchange_state& st,
                            steady::time_point deadline) const {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver{ex};
    const auto endpoints =
        co_await resolver.async_resolve(std::string(u.host), std::to_string(u.port),
                                        asio::redirect_error(asio::use_awaitable, st.ec));
    if (st.ec) co_return;
    beast::tcp_stream stream{ex};
    stream.expires_at(deadline);
    co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, st.ec));
    if (st.ec) co_return;
    if (!u.tls) {
      co_await do_http(stream, st, max_body);
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> tls{std::move(stream), const_cast<ssl::context&>(ctx)};
    const std::string host{u.host};
    boost::system::error_code addr_ec;
    asio::ip::make_address(host, addr_ec);
    if (addr_ec) SSL_set_tlsext_host_name(tls.native_handle(), host.c_str());  // SNI for names only
    if (verify) {
      tls.set_verify_mode(ssl::verify_peer);
      tls.set_verify_callback(ssl::host_name_verification(host));
    } else {
      tls.set_verify_mode(ssl::verify_none);
    }
    co_await tls.async_handshake(ssl::stream_base::client,
                                 asio::redirect_error(asio::use_awaitable, st.ec));
    if (st.ec) co_return;
    co_await do_http(tls, st, max_body);
    if (st.ec) co_return;
    // Close politely but briefly; a peer that does not answer close_notify is not an error.
    beast::get_lowest_layer(tls).expires_after(std::chrono::milliseconds(200));
    boost::system::error_code ignored;
    co_await tls.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
  }
};

http_client::http_client() : impl_(std::make_unique<impl>()) {}
http_client::~http_client() = default;
http_client::http_client(http_client&&) noexcept = default;
http_client& http_client::operator=(http_client&&) noexcept = default;

http_client& http_client::timeout(std::chrono::milliseconds t) noexcept {
  impl_->timeout = t;
  return *this;
}
std::chrono::milliseconds http_client::timeout() const noexcept { return impl_->timeout; }
http_client& http_client::max_body_size(std::size_t n) noexcept {
  impl_->max_body = n;
  return *this;
}
http_client& http_client::verify_peer(bool on) noexcept {
  impl_->verify = on;
  return *this;
}

result<void> http_client::ca_file(const std::string& path) {
  boost::system::error_code ec;
  impl_->ctx.load_verify_file(path, ec);
  if (ec) return {static_cast<std::error_code>(ec), "cannot load CA file " + path};
  return {};
}

result<void> http_client::ca_pem(std::string_view pem) {
  boost::system::error_code ec;
  impl_->ctx.add_certificate_authority(asio::buffer(pem.data(), pem.size()), ec);
  if (ec) return {static_cast<std::error_code>(ec), "cannot load CA certificate"};
  return {};
}

http_response http_client::send(const http_request& req, std::error_code& ec) const {
  ec = {};
  auto u = parse_url(req.url);
  if (!u) {
    ec = u.error();
    return {};
  }
  if (!is_token(req.method)) {
    ec = error::invalid_argument;
    return {};
  }
  exchange_state st;
  st.request.version(11);
  st.request.method_string(req.method);
  st.request.target(beast::string_view(u->target.data(), u->target.size()));
  const bool default_port = u->port == (u->tls ? 443 : 80);
  std::string host = u->host.find(':') != std::string_view::npos ? "[" + std::string(u->host) + "]"
                                                                 : std::string(u->host);
  if (!default_port) host += ":" + std::to_string(u->port);
  st.request.set(http::field::host, host);
  st.request.set(http::field::user_agent, "iotblocks");
  for (const auto& [name, value] : req.headers) {
    if (!is_token(name) || !is_field_value(value)) {
      ec = error::invalid_argument;
      return {};
    }
    st.request.insert(name, value);
  }
  st.request.body() = req.body;
  st.request.prepare_payload();

  asio::io_context ioc{1};
  const auto deadline = steady::now() + impl_->timeout;
  asio::co_spawn(ioc, impl_->run(*u, st, deadline), [&](std::exception_ptr e) {
    st.done = true;
    if (e && !st.ec) st.ec = asio::error::fault;
  });
  // The tcp_stream deadline bounds connect and I/O; this bounds name resolution too.
  ioc.run_until(deadline + std::chrono::milliseconds(250));
  if (!st.done) {
    ec = error::timeout;
    return {};
  }
  if (st.ec) {
    ec = st.ec == http::error::body_limit ? std::error_code(error::response_too_large)
                                          : detail::to_std(st.ec);
    return {};
  }
  return std::move(st.response);
}

http_response http_client::send(const http_request& req) const {
  std::error_code ec;
  auto res = send(req, ec);
  if (ec) throw std::system_error(ec, "http " + req.method + " " + req.url);
  return res;
}

}  // namespace iotblocks::net
