#include "broker/memory_client.hpp"

namespace iotblocks::broker::testing {

client::client(harness& h, mqtt::protocol_version v) : h_(h), conn_(h.open()), version_(v) {
  client_decoder_.protocol(v);
}

void client::send_bytes(bytes_view b) {
  std::error_code ec;
  while (!b.empty() && !conn_->closed()) {
    b = b.subspan(server_decoder_.put(b, ec));
    if (server_decoder_.has_packet()) {
      h_.b->on_packet(conn_, server_decoder_.get());
      if (auto v = conn_->protocol()) server_decoder_.protocol(*v);
      continue;
    }
    if (ec != mqtt::error::need_more) {
      h_.b->on_protocol_error(conn_, server_decoder_.reason(), server_decoder_.protocol(),
                              server_decoder_.last_failure().describe());
      conn_->close();  // what the transport does after a protocol error
      break;
    }
  }
  h_.settle();
}

void client::send(const mqtt::packet& p) {
  byte_buffer out;
  ASSERT_FALSE(mqtt::encode(p, version_, out));
  send_bytes(bytes_view{out});
}

mqtt::connack client::connect(const std::string& id, bool clean, std::uint32_t expiry) {
  mqtt::connect c;
  c.client_id = id;
  c.clean_start = clean;
  if (expiry != 0 && version_ == mqtt::protocol_version::v5) {
    c.properties.set_session_expiry_interval(expiry);
  }
  return connect(std::move(c));
}

mqtt::connack client::connect(mqtt::connect c) {
  c.version = version_;
  send(mqtt::packet{std::move(c)});
  auto ack = next_of<mqtt::connack>();
  EXPECT_TRUE(ack) << "no CONNACK";
  if (ack) return *ack;
  mqtt::connack none;
  none.reason = mqtt::reason_code::unspecified_error;
  return none;
}

mqtt::reason_code client::subscribe(const std::string& filter, std::uint8_t qos,
                                    std::uint32_t identifier) {
  mqtt::subscribe s;
  s.packet_id = next_id();
  s.subscriptions.push_back({filter, mqtt::subscribe_options{.qos = qos}});
  if (identifier != 0) s.properties.add_subscription_identifier(identifier);
  send(mqtt::packet{std::move(s)});
  auto ack = next_of<mqtt::suback>();
  EXPECT_TRUE(ack && ack->reason_codes.size() == 1) << "no SUBACK";
  return ack && !ack->reason_codes.empty() ? ack->reason_codes[0]
                                           : mqtt::reason_code::unspecified_error;
}

void client::publish(const std::string& topic, const std::string& payload, std::uint8_t qos,
                     bool retain, mqtt::properties props, bool complete) {
  mqtt::publish p;
  p.topic = topic;
  p.payload = to_buffer(payload);
  p.qos = qos;
  p.retain = retain;
  p.properties = std::move(props);
  if (qos > 0) p.packet_id = next_id();
  const auto id = p.packet_id;
  send(mqtt::packet{std::move(p)});
  if (qos == 2 && complete) {
    if (auto rec = next_of<mqtt::pubrec>(); rec && rec->packet_id == id) {
      send(ack_of<mqtt::pubrel>(id));
    }
  }
}

void client::disconnect(mqtt::reason_code r) {
  mqtt::disconnect d;
  d.reason = r;
  send(mqtt::packet{d});
  conn_->close();
  h_.settle();
}

void client::drop() {
  conn_->close();
  h_.settle();
}

std::optional<mqtt::packet> client::next() {
  auto more = conn_->take();
  in_.insert(in_.end(), more.begin(), more.end());
  if (in_.empty()) return std::nullopt;
  std::error_code ec;
  const auto used = client_decoder_.put(bytes_view{in_}, ec);
  if (!client_decoder_.has_packet()) {
    ADD_FAILURE() << "the broker wrote bytes that are not a whole packet: " << ec.message();
    in_.clear();
    return std::nullopt;
  }
  auto p = mqtt::to_owning(client_decoder_.get());
  in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(used));
  return p;
}

std::vector<mqtt::publish> client::publishes(bool ack) {
  std::vector<mqtt::publish> out;
  while (auto p = next()) {
    if (auto* rel = std::get_if<mqtt::pubrel>(&*p); rel != nullptr && ack) {
      send(ack_of<mqtt::pubcomp>(rel->packet_id));
      continue;
    }
    auto* pub = std::get_if<mqtt::publish>(&*p);
    if (pub == nullptr) continue;
    if (ack && pub->qos == 1) send(ack_of<mqtt::puback>(pub->packet_id));
    if (ack && pub->qos == 2) send(ack_of<mqtt::pubrec>(pub->packet_id));
    out.push_back(std::move(*pub));
  }
  return out;
}

}  // namespace iotblocks::broker::testing
