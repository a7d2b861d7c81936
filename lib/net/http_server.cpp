// Beast HTTP server: one coroutine per connection, prefix routing.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/error.hpp>
#include <iotblocks/net/http_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <thread>
#include <vector>

namespace iotblocks::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string percent_decode(std::string_view s) { return percent_decode_lenient(s); }

std::string incoming_request::query_param(std::string_view key) const {
  std::string_view q = query;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key)
      return eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return {};
}

struct route_entry {
  std::string method, prefix;
  http_route fn;
};

struct http_server::impl {
  asio::io_context io;
  std::unique_ptr<tcp::acceptor> acceptor;
  http_server_options options;
  std::vector<route_entry> routes;
  std::vector<std::pair<std::function<bool(const incoming_request&)>, http_route>> conditional;
  std::vector<std::thread> threads;
  std::atomic<std::size_t> open{0};
  bool started = false;

  http_reply dispatch(const incoming_request& r) const {
    for (const auto& [when, fn] : conditional) {
      if (when(r)) return call(fn, r);
    }
    const route_entry* best = nullptr;
    bool path_known = false;
    for (const auto& e : routes) {
      const bool match =
          r.path == e.prefix || (r.path.starts_with(e.prefix) &&
                                 (e.prefix.ends_with('/') || r.path[e.prefix.size()] == '/'));
      if (!match) continue;
      path_known = true;
      if (e.method != "*" && e.method != r.method) continue;
      if (best == nullptr || e.prefix.size() > best->prefix.size()) best = &e;
    }
    if (best == nullptr) {
      return path_known ? http_reply{405, R"({"message":"method not allowed"})"}
                        : http_reply{404, R"({"message":"not found"})"};
    }
    return call(best->fn, r);
  }

  static http_reply call(const http_route& fn, const incoming_request& r) {
    try {
      return fn(r);
    } catch (const std::exception&) {
      return {500, std::string(R"({"message":"internal error"})")};
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    struct guard {
      std::atomic<std::size_t>& n;
      ~guard() { --n; }
    } g{open};
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    std::string remote;
    boost::system::error_code ec;
    auto ep = stream.socket().remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
    for (;;) {
      stream.expires_after(options.timeout);
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(16 * 1024);
      auto [rec, n] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      (void)n;
      http::response<http::string_body> res;
      bool keep = false;
      if (rec == http::error::body_limit) {
        res.result(413);
        res.body() = R"({"message":"body too large"})";
        res.set(http::field::content_type, "application/json");
      } else if (rec) {
        co_return;
      } else {
        auto& req = parser.get();
        incoming_request r;
        r.method = std::string(req.method_string());
        const std::string_view target = req.target();
        const auto qm = target.find('?');
        r.raw_path = std::string(target.substr(0, qm));
        r.path = percent_decode(r.raw_path);
        if (qm != std::string_view::npos) r.query = std::string(target.substr(qm + 1));
        r.body = std::move(req.body());
        r.authorization = std::string(req[http::field::authorization]);
        r.content_type = std::string(req[http::field::content_type]);
        r.remote_address = remote;
        r.if_none_match = std::string(req[http::field::if_none_match]);
        for (const auto& f : req) r.headers.emplace_back(f.name_string(), f.value());
        keep = req.keep_alive();
        const http_reply reply = dispatch(r);
        res.result(static_cast<unsigned>(reply.status));
        res.body() = reply.body;
        res.set(http::field::content_type, reply.content_type);
        for (const auto& [name, value] : reply.headers) res.set(name, value);
        res.version(req.version());
      }
      res.set(http::field::server, "iotblocks");
      res.keep_alive(keep);
      res.prepare_payload();
      auto [wec, w] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      (void)w;
      if (wec || !keep) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        continue;
      }
      if (open.load() >= options.max_connections) continue;  // socket closes here
      ++open;
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }
};

http_server::http_server() : impl_(std::make_unique<impl>()) {}
http_server::~http_server() { stop(); }

void http_server::route_if(std::function<bool(const incoming_request&)> when, http_route fn) {
  impl_->conditional.emplace_back(std::move(when), std::move(fn));
}

void http_server::route(std::string method, std::string prefix, http_route fn) {
  impl_->routes.push_back({std::move(method), std::move(prefix), std::move(fn)});
}

result<std::uint16_t> http_server::listen(const http_server_options& options) {
  impl_->options = options;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec)
    return failure{core::error::invalid_argument, "bad listen address: " + options.address, {}};
  auto acc = std::make_unique<tcp::acceptor>(impl_->io);
  const tcp::endpoint ep{address, options.port};
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return failure{ec,
                   "http listen on " + options.address + ":" + std::to_string(options.port) + ": " +
                       ec.message(),
                   {}};
  }
  const auto port = acc->local_endpoint().port();
  impl_->acceptor = std::move(acc);
  return port;
}

void http_server::start() {
  if (impl_->started || !impl_->acceptor) return;
  impl_->started = true;
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  const std::size_t n = impl_->options.threads == 0 ? 1 : impl_->options.threads;
  for (std::size_t i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->io.run(); });
}

void http_server::stop() {
  if (!impl_) return;
  if (impl_->acceptor) {
    asio::post(impl_->io, [this] {
      boost::system::error_code ignored;
      impl_->acceptor->close(ignored);
    });
  }
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->started = false;
}

}  // namespace iotblocks::net
