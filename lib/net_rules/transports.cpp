#include <iotblocks/net/http_client.hpp>
#include <iotblocks/net/tcp_client.hpp>
#include <iotblocks/net_rules/transports.hpp>

#include <fmt/format.h>

#include <map>
#include <mutex>

namespace iotblocks::net_rules {
namespace {

// net's errors that no retry can fix are rules::error::invalid_action for the engine.
bool malformed(std::error_code ec) {
  return ec == net::error::invalid_url || ec == net::error::invalid_argument;
}

}  // namespace

// net::http_client's deadline is a setting of the client, so there is one client per
// timeout that requests name (rules use a handful), each configured once.
struct http_client_transport::impl {
  http_options options;
  std::mutex m;
  std::map<std::chrono::milliseconds, std::unique_ptr<net::http_client>> clients;

  result<const net::http_client*> client(std::chrono::milliseconds timeout) {
    std::lock_guard lock{m};
    auto& c = clients[timeout];
    if (!c) {
      auto fresh = std::make_unique<net::http_client>();
      fresh->timeout(timeout).max_body_size(options.max_body_size).verify_peer(options.verify_peer);
      if (!options.ca_pem.empty()) {
        if (auto ok = fresh->ca_pem(options.ca_pem); !ok) {
          clients.erase(timeout);
          return ok.fail();
        }
      }
      c = std::move(fresh);
    }
    return c.get();
  }
};

http_client_transport::http_client_transport(http_options options)
    : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  // The client of the default timeout now: a ca_pem that does not load fails here.
  if (auto c = impl_->client(impl_->options.timeout); !c) throw_failure(c.fail());
}

http_client_transport::~http_client_transport() = default;

result<rules::http_response> http_client_transport::send(const rules::http_request& req) {
  auto client = impl_->client(req.timeout.value_or(impl_->options.timeout));
  if (!client) return client.fail();
  net::http_request r;
  r.method = req.method;
  r.url = req.url;
  r.headers = req.headers;
  r.body = req.body;
  std::error_code ec;
  auto res = (*client)->send(r, ec);
  if (ec) return {malformed(ec) ? make_error_code(rules::error::invalid_action) : ec, ec.message()};
  return rules::http_response{res.status, std::move(res.body)};
}

tcp_command_transport::tcp_command_transport(command_options options)
    : options_(std::move(options)) {}

result<std::string> tcp_command_transport::exchange(const rules::command_request& req) {
  net::tcp_exchange_options o;
  o.connect_timeout = req.timeout.value_or(options_.timeout);
  o.reply_timeout = o.connect_timeout;
  o.expect = std::string(req.expect);
  o.read_reply = req.read_reply;
  o.max_reply = options_.max_reply;
  std::error_code ec;
  auto reply = net::tcp_client{}.exchange(req.host, req.port, req.payload, o, ec);
  if (!ec) return reply;
  for (char& c : reply) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  std::string why = fmt::format("{} (reply \"{}\")", ec.message(), reply.substr(0, 80));
  if (malformed(ec)) return {rules::error::invalid_action, std::move(why)};
  if (ec == net::error::unexpected_reply) return {rules::error::action_failed, std::move(why)};
  return {ec, std::move(why)};
}

}  // namespace iotblocks::net_rules
