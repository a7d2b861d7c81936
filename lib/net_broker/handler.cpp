#include <iotblocks/net_broker/handler.hpp>

namespace iotblocks::net_broker {

namespace {

// A net connection as the broker sees it. The net connection's `user` slot
// holds it until on_close, and it holds the net connection, whose peer info
// the broker reads (the same type: no copy).
class bound final : public broker::connection {
 public:
  explicit bound(net::connection_ptr c) : c_(std::move(c)) {}
  std::uint64_t id() const noexcept override { return c_->id(); }
  const broker::peer_info& peer() const noexcept override { return c_->peer(); }
  void send(bytes_view head, broker::shared_bytes body) override {
    c_->send(head, std::move(body));
  }
  void close() override { c_->close(); }
  void set_protocol(mqtt::protocol_version v) override { c_->set_protocol(v); }
  void set_idle_timeout(std::chrono::milliseconds t) override { c_->set_idle_timeout(t); }
  void post(std::function<void()> fn) override { c_->post(std::move(fn)); }

 private:
  net::connection_ptr c_;
};

std::shared_ptr<bound> bound_of(const net::connection_ptr& c) {
  if (!c->user) c->user = std::make_shared<bound>(c);
  return std::static_pointer_cast<bound>(c->user);
}

}  // namespace

void handler::on_open(const net::connection_ptr& c) { (void)bound_of(c); }

void handler::on_packet(const net::connection_ptr& c, const mqtt::packet_view& p) {
  broker_.on_packet(bound_of(c), p);
}

void handler::on_protocol_error(const net::connection_ptr& c, mqtt::reason_code reason,
                                const failure& why) {
  if (protocol_error) protocol_error(c->peer(), reason, why);
  broker_.on_protocol_error(bound_of(c), reason, c->protocol(), why.describe());
}

void handler::on_close(const net::connection_ptr& c, std::error_code) {
  if (!c->user) return;
  auto b = bound_of(c);
  c->user.reset();  // the net connection no longer keeps its broker side alive
  broker_.on_close(b);
}

}  // namespace iotblocks::net_broker
