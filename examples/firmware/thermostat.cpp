// See thermostat.hpp.
#include "thermostat.hpp"

#include <iotblocks/core/error.hpp>
#include <iotblocks/mqtt/encoder.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <cmath>
#include <utility>
#include <variant>

namespace thermostat {

namespace mqtt = iotblocks::mqtt;
namespace anomaly = iotblocks::anomaly;

namespace {

constexpr auto version = mqtt::protocol_version::v5;

void append_int(std::string& s, std::int64_t v) {
  char digits[24];
  s.append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr);
}

}  // namespace

device::device(std::string_view thing)
    : thing_(thing),
      delta_filter_("$aws/things/" + thing_ + "/shadow/update/delta"),
      command_filter_("cmd/" + thing_ + "/#"),
      update_topic_("$aws/things/" + thing_ + "/shadow/update"),
      telemetry_topic_("dt/" + thing_ + "/temperature"),
      model_(*anomaly::pewma::create()) {}

std::error_code device::start(iotblocks::byte_buffer& out) {
  mqtt::connect c;
  c.client_id = thing_;
  c.keep_alive = 60;
  return mqtt::encode(mqtt::packet{std::move(c)}, version, out);
}

std::error_code device::receive(iotblocks::bytes_view in, std::int64_t now,
                                iotblocks::byte_buffer& out) {
  std::error_code handled, ec;
  decoder_.put_all(
      in,
      [&](const mqtt::packet_view& p) {
        if (!handled) handled = on_packet(p, now, out);
      },
      ec);
  return ec ? ec : handled;
}

std::error_code device::on_packet(const mqtt::packet_view& p, std::int64_t now,
                                  iotblocks::byte_buffer& out) {
  if (const auto* ack = std::get_if<mqtt::connack_view>(&p)) {
    if (ack->reason != mqtt::reason_code::success) return mqtt::error::packet_unexpected;
    mqtt::subscribe s;
    s.packet_id = next_packet_id();
    s.subscriptions = {{delta_filter_, {.qos = 1}}, {command_filter_, {.qos = 0}}};
    return mqtt::encode(mqtt::packet{std::move(s)}, version, out);
  }
  if (const auto* ack = std::get_if<mqtt::suback_view>(&p)) {
    subscribed_ = true;
    for (const auto reason : ack->reason_codes) {
      if (static_cast<std::uint8_t>(reason) >= 0x80) subscribed_ = false;
    }
    return {};
  }
  const auto* pub = std::get_if<mqtt::publish_view>(&p);
  if (pub == nullptr) return {};  // PUBACKs of our updates, PINGRESP
  std::error_code ec;
  const std::string_view payload = iotblocks::as_string_view(pub->payload);
  if (iotblocks::topic::matches(delta_filter_, pub->topic)) {
    ec = on_delta(payload, now, out);
  } else if (iotblocks::topic::matches(command_filter_, pub->topic) && payload == "reset") {
    model_state_ = {};
  }
  if (!ec && pub->qos == 1) {
    mqtt::puback ack;
    ack.packet_id = pub->packet_id;
    ec = mqtt::encode(mqtt::packet{ack}, version, out);
  }
  return ec;
}

// {"version":N,"timestamp":T,"state":{...},"metadata":{...}}: the device takes the
// desired state as it is, records it as reported in its own shadow document, and
// reports it back on $aws/things/<thing>/shadow/update.
std::error_code device::on_delta(std::string_view payload, std::int64_t now,
                                 iotblocks::byte_buffer& out) {
  rapidjson::Document delta;
  delta.Parse(payload.data(), payload.size());
  if (delta.HasParseError() || !delta.IsObject()) return iotblocks::core::error::invalid_json;
  const auto state = delta.FindMember("state");
  if (state == delta.MemberEnd() || !state->value.IsObject()) {
    return iotblocks::core::error::invalid_json;
  }
  if (const auto sp = state->value.FindMember("setpoint");
      sp != state->value.MemberEnd() && sp->value.IsInt()) {
    setpoint_ = sp->value.GetInt();
  }
  rapidjson::StringBuffer text;
  rapidjson::Writer<rapidjson::StringBuffer> writer(text);
  state->value.Accept(writer);
  std::string report = R"({"state":{"reported":)";
  report.append(text.GetString(), text.GetSize());
  report += "}}";
  auto outcome = shadow_.update(report, now);
  if (!outcome.accepted()) return outcome.error;
  ++deltas_;
  return publish(update_topic_, std::move(report), 1, out);
}

std::error_code device::sample(std::int32_t centi_celsius, iotblocks::byte_buffer& out) {
  anomaly::point_result r;
  if (auto ec = model_.update(model_state_, centi_celsius / 100.0, r)) return ec;
  if (r.anomaly) ++anomalies_;
  std::string payload = R"({"centi_celsius":)";
  append_int(payload, centi_celsius);
  payload += R"(,"score_permille":)";
  append_int(payload, std::lround(r.score * 1000));
  payload += r.anomaly ? R"(,"anomaly":true})" : R"(,"anomaly":false})";
  return publish(telemetry_topic_, std::move(payload), 0, out);
}

std::error_code device::publish(std::string topic, std::string payload, std::uint8_t qos,
                                iotblocks::byte_buffer& out) {
  mqtt::publish p;
  p.qos = qos;
  p.topic = std::move(topic);
  if (qos > 0) p.packet_id = next_packet_id();
  p.payload = iotblocks::to_buffer(payload);
  return mqtt::encode(mqtt::packet{std::move(p)}, version, out);
}

std::uint16_t device::next_packet_id() noexcept {
  if (++packet_id_ == 0) packet_id_ = 1;
  return packet_id_;
}

iotblocks::byte_buffer broker_script(std::string_view thing_name) {
  const std::string thing(thing_name);
  iotblocks::byte_buffer out;
  auto add = [&](mqtt::packet p) { (void)mqtt::encode(p, version, out); };
  add(mqtt::connack{});
  mqtt::suback granted;
  granted.packet_id = 1;
  granted.reason_codes = {mqtt::reason_code::granted_qos_1, mqtt::reason_code::success};
  add(std::move(granted));
  mqtt::publish delta;
  delta.qos = 1;
  delta.packet_id = 1;
  delta.topic = "$aws/things/" + thing + "/shadow/update/delta";
  delta.payload = iotblocks::to_buffer(
      R"({"version":2,"timestamp":1700000000,"state":{"setpoint":2250,"fan":"auto"},)"
      R"("metadata":{"setpoint":{"timestamp":1700000000},"fan":{"timestamp":1700000000}}})");
  add(std::move(delta));
  mqtt::publish reset;
  reset.topic = "cmd/" + thing + "/anomaly";
  reset.payload = iotblocks::to_buffer(std::string_view{"reset"});
  add(std::move(reset));
  mqtt::publish other;
  other.topic = "cmd/another-thing/anomaly";
  other.payload = iotblocks::to_buffer(std::string_view{"reset"});
  add(std::move(other));
  return out;
}

}  // namespace thermostat
