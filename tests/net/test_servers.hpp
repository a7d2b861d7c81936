// Test counterparts on 127.0.0.1 for the net and rules tests: a Beast HTTP(S)
// server, a TCP listener that answers like an Ethernet-to-infrared blaster, and
// a self-signed certificate made with OpenSSL. Each server runs its own
// io_context on its own thread and stops in its destructor.
#pragma once

#include "core/recorder.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace iotblocks::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

/// A self-signed certificate for 127.0.0.1 (subjectAltName IP) with its P-256 key, as PEM.
struct test_certificate {
  std::string cert_pem;
  std::string key_pem;

  static test_certificate make(const std::string& ip = "127.0.0.1") {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (!key) throw std::runtime_error("EVP_EC_gen failed");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4711);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("iotblocks test"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    const std::string san = "IP:" + ip;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_EXTENSION* bc =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, bc, -1);
    X509_EXTENSION_free(bc);
    X509_sign(x, key, EVP_sha256());
    test_certificate out;
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    out.cert_pem.assign(data, static_cast<std::size_t>(n));
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
    n = BIO_get_mem_data(b, &data);
    out.key_pem.assign(data, static_cast<std::size_t>(n));
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
  }
};

/// Runs an io_context on a thread; stops and joins on destruction.
class io_thread {
 public:
  io_thread() = default;
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;
  ~io_thread() { stop(); }
  asio::io_context& context() { return ioc_; }
  void start() {
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void stop() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  asio::io_context ioc_{1};
  std::thread thread_;
};

struct recorded_request {
  std::string method;
  std::string target;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (beast::iequals(k, name)) return v;
    }
    return {};
  }
};

/// What the server answers; `hang` keeps the connection open without answering.
struct canned_response {
  unsigned status = 200;
  std::string body = "ok";
  bool hang = false;
};

/// An HTTP/1.1 server on 127.0.0.1:<ephemeral>, optionally over TLS.
class http_server {
 public:
  using handler = std::function<canned_response(const recorded_request&)>;

  explicit http_server(handler h = {}, const test_certificate* cert = nullptr)
      : handler_(std::move(h)),
        acceptor_(io_.context(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    if (cert) {
      tls_.emplace(ssl::context::tls_server);
      tls_->use_certificate_chain(asio::buffer(cert->cert_pem));
      tls_->use_private_key(asio::buffer(cert->key_pem), ssl::context::pem);
    }
    asio::co_spawn(io_.context(), accept_loop(), asio::detached);
    io_.start();
  }
  ~http_server() { io_.stop(); }

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& target = "/") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + target;
  }
  recorder<recorded_request>& requests() { return requests_; }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(io_.context(), session(std::move(s)), asio::detached);
    }
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream) {
    beast::flat_buffer buffer;
    for (;;) {
      boost::system::error_code ec;
      http::request<http::string_body> req;
      co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      recorded_request r{
          std::string(req.method_string()), std::string(req.target()), req.body(), {}};
      for (const auto& f : req)
        r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      canned_response c = handler_ ? handler_(r) : canned_response{};
      requests_.add(std::move(r));
      if (c.hang) {
        asio::steady_timer t{io_.context(), std::chrono::seconds(60)};
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_return;
      }
      http::response<http::string_body> res{static_cast<http::status>(c.status), 11};
      res.set(http::field::content_type, "text/plain");
      res.body() = c.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !req.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> session(tcp::socket s) {
    if (!tls_) {
      co_await serve(s);
      boost::system::error_code ignored;
      s.shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    ssl::stream<tcp::socket> stream{std::move(s), *tls_};
    boost::system::error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    co_await serve(stream);
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }

  handler handler_;
  std::optional<ssl::context> tls_;
  io_thread io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = acceptor_.local_endpoint().port();
  recorder<recorded_request> requests_;
};

/// A TCP listener standing in for an Ethernet-to-infrared blaster: reads one
/// command up to CR, records it, answers `reply` (empty: stays silent), closes.
class command_listener {
 public:
  explicit command_listener(std::string reply = "completeir,1:1,15\r")
      : reply_(std::move(reply)),
        acceptor_(io_.context(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io_.context(), accept_loop(), asio::detached);
    io_.start();
  }
  ~command_listener() { io_.stop(); }
  std::uint16_t port() const { return port_; }
  recorder<std::string>& commands() { return commands_; }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(io_.context(), session(std::move(s)), asio::detached);
    }
  }
  asio::awaitable<void> session(tcp::socket s) {
    std::string line;
    boost::system::error_code ec;
    co_await asio::async_read_until(s, asio::dynamic_buffer(line), '\r',
                                    asio::redirect_error(asio::use_awaitable, ec));
    commands_.add(line);
    if (ec) co_return;
    if (reply_.empty()) {
      asio::steady_timer t{io_.context(), std::chrono::seconds(60)};
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }
    co_await asio::async_write(s, asio::buffer(reply_),
                               asio::redirect_error(asio::use_awaitable, ec));
    s.shutdown(tcp::socket::shutdown_both, ec);
  }

  std::string reply_;
  io_thread io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = acceptor_.local_endpoint().port();
  recorder<std::string> commands_;
};

}  // namespace iotblocks::testing
