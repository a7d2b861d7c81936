#include <iotblocks/net/tcp_client.hpp>

#include "net/asio_util.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <stdexcept>

namespace iotblocks::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

struct exchange_state {
  std::string reply;
  boost::system::error_code ec;
  std::error_code verdict;  // decided by the layer (expect, size, closed)
  bool done = false;
};

bool reply_complete(const std::string& reply, const tcp_exchange_options& o) {
  if (!o.expect.empty()) return reply.find(o.expect) != std::string::npos;
  return reply.find_first_of("\r\n") != std::string::npos;
}

asio::awaitable<void> run(std::string host, std::uint16_t port, std::string_view payload,
                          const tcp_exchange_options& o, exchange_state& st) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver{ex};
  const auto endpoints = co_await resolver.async_resolve(
      host, std::to_string(port), asio::redirect_error(asio::use_awaitable, st.ec));
  if (st.ec) co_return;
  beast::tcp_stream stream{ex};
  stream.expires_after(o.connect_timeout);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, st.ec));
  if (st.ec) co_return;
  stream.expires_after(o.reply_timeout);
  co_await asio::async_write(stream, asio::buffer(payload.data(), payload.size()),
                             asio::redirect_error(asio::use_awaitable, st.ec));
  if (st.ec || !o.read_reply) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return;
  }
  std::array<char, 4096> buffer{};
  for (;;) {
    const std::size_t n = co_await stream.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, st.ec));
    st.reply.append(buffer.data(), n);
    if (st.reply.size() > o.max_reply) {
      st.ec = {};
      st.verdict = error::response_too_large;
      co_return;
    }
    if (reply_complete(st.reply, o)) {
      st.ec = {};
      co_return;
    }
    if (st.ec == asio::error::eof) {
      st.ec = {};
      if (st.reply.empty()) {
        st.verdict = error::connection_closed;
      } else if (!o.expect.empty()) {
        st.verdict = error::unexpected_reply;
      }
      co_return;
    }
    if (st.ec) {
      if (st.ec == beast::error::timeout && !o.expect.empty() && !st.reply.empty()) {
        st.ec = {};
        st.verdict = error::unexpected_reply;
      }
      co_return;
    }
  }
}

}  // namespace

std::string tcp_client::exchange(std::string_view host, std::uint16_t port,
                                 std::string_view payload, const tcp_exchange_options& options,
                                 std::error_code& ec) const {
  ec = {};
  if (host.empty() || port == 0) {
    ec = error::invalid_argument;
    return {};
  }
  asio::io_context ioc{1};
  exchange_state st;
  asio::co_spawn(ioc, run(std::string(host), port, payload, options, st),
                 [&](std::exception_ptr e) {
                   st.done = true;
                   if (e && !st.ec) st.ec = asio::error::fault;
                 });
  ioc.run_for(options.connect_timeout + options.reply_timeout + std::chrono::milliseconds(250));
  if (!st.done) {
    ec = error::timeout;
  } else if (st.ec) {
    ec = detail::to_std(st.ec);
  } else {
    ec = st.verdict;
  }
  return std::move(st.reply);
}

std::string tcp_client::exchange(std::string_view host, std::uint16_t port,
                                 std::string_view payload,
                                 const tcp_exchange_options& options) const {
  std::error_code ec;
  auto reply = exchange(host, port, payload, options, ec);
  if (ec) throw std::system_error(ec, "tcp exchange with " + std::string(host));
  return reply;
}

}  // namespace iotblocks::net
