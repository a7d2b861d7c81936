// The logic of a thermostat's firmware, free of I/O: the same code runs on a
// Cortex-M4 (main.cpp, stm32f405.ld) and on the host (thermostat_test.cpp).
//
//   thermostat::device dev{"thermostat-7"};
//   dev.start(out);                       // CONNECT: send `out` to the broker
//   dev.receive(bytes_from_broker, now, out);  // CONNACK -> SUBSCRIBE, delta -> report
//   dev.sample(2150, out);                // 21.50 °C: PEWMA score, telemetry PUBLISH
//
// Received: the shadow's update/delta (applied to the device's own shadow document
// as reported state, then reported back) and commands on cmd/<thing>/# ("reset"
// restarts the anomaly model). Sent: CONNECT, SUBSCRIBE, PUBACK, the shadow update,
// telemetry on dt/<thing>/temperature.
#pragma once

#include <iotblocks/anomaly/pewma.hpp>
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/mqtt/decoder.hpp>
#include <iotblocks/mqtt/packet.hpp>
#include <iotblocks/shadow/document.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace thermostat {

/// One device. Distinct objects: safe. Shared objects: unsafe.
class device {
 public:
  explicit device(std::string_view thing);

  /// Appends the CONNECT (MQTT 5, clean start, client id = the thing name).
  std::error_code start(iotblocks::byte_buffer& out);

  /// Bytes from the broker, in any chunks: acts on every complete packet and appends
  /// what to send to `out`. `now`: seconds, for the shadow's metadata. A malformed
  /// stream gives the decoder's error (the connection is then to be closed).
  std::error_code receive(iotblocks::bytes_view in, std::int64_t now, iotblocks::byte_buffer& out);

  /// One temperature sample in hundredths of a degree: scored by PEWMA, published on
  /// dt/<thing>/temperature as {"centi_celsius":N,"score_permille":N,"anomaly":B}.
  std::error_code sample(std::int32_t centi_celsius, iotblocks::byte_buffer& out);

  bool subscribed() const noexcept { return subscribed_; }
  /// The setpoint the shadow last set, in hundredths of a degree (0: none yet).
  std::int32_t setpoint() const noexcept { return setpoint_; }
  std::uint32_t deltas_applied() const noexcept { return deltas_; }
  std::uint32_t anomalies() const noexcept { return anomalies_; }
  /// The device's own shadow document (its reported state and metadata).
  const iotblocks::shadow::document& shadow() const noexcept { return shadow_; }

 private:
  std::error_code on_packet(const iotblocks::mqtt::packet_view& p, std::int64_t now,
                            iotblocks::byte_buffer& out);
  std::error_code on_delta(std::string_view payload, std::int64_t now, iotblocks::byte_buffer& out);
  std::error_code publish(std::string topic, std::string payload, std::uint8_t qos,
                          iotblocks::byte_buffer& out);
  std::uint16_t next_packet_id() noexcept;

  std::string thing_;
  std::string delta_filter_, command_filter_, update_topic_, telemetry_topic_;
  iotblocks::mqtt::decoder decoder_{iotblocks::mqtt::role::client};
  iotblocks::anomaly::pewma model_;
  iotblocks::anomaly::pewma_state model_state_;
  iotblocks::shadow::document shadow_;
  std::uint16_t packet_id_ = 0;
  bool subscribed_ = false;
  std::int32_t setpoint_ = 0;
  std::uint32_t deltas_ = 0;
  std::uint32_t anomalies_ = 0;
};

/// What the example's broker sends, in order: CONNACK, SUBACK for both filters, a
/// delta setting "setpoint" to 2250 and "fan" to "auto" (QoS 1), a "reset" command
/// (QoS 0) and a PUBLISH on a topic the device did not subscribe to.
iotblocks::byte_buffer broker_script(std::string_view thing);

}  // namespace thermostat
