// What a rule evaluates: one MQTT message and its context, from the broker (or
// an HTTP publish) to the rules engine (rules::message is this type) and the
// SQL functions. Every field is a view that must stay valid for the duration
// of the evaluation (or dispatch) call only.
//
//   sql::message m;
//   m.topic = "sensors/probe_1/lux";
//   m.payload = iotblocks::as_bytes(R"({"lux":36250})");
//   m.client_id = "probe_1";
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::sql {

/// An MQTT 5 user property (name, value); names may repeat.
struct user_property {
  std::string_view name;
  std::string_view value;
};

/// A message and its context, as the rule functions see it.
struct message {
  std::string_view topic;                      ///< topic() and topic(n)
  bytes_view payload;                          ///< JSON or any bytes
  std::optional<std::string_view> client_id;   ///< clientid(); "n/a" when absent
  std::optional<std::string_view> principal;   ///< principal()
  std::optional<std::string_view> source_ip;   ///< sourceip()
  std::optional<std::string_view> trace_id;    ///< traceid(); Undefined when absent
  std::optional<std::string_view> account_id;  ///< accountid()
  /// timestamp() in Unix milliseconds; the evaluator's clock when absent.
  std::optional<std::int64_t> timestamp_ms;
  std::uint8_t qos = 0;  ///< the PUBLISH's QoS (rules' message records keep it)

  // MQTT 5 PUBLISH properties for get_mqtt_property() and get_user_properties().
  std::optional<std::uint8_t> payload_format_indicator;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> response_topic;
  std::optional<bytes_view> correlation_data;
  std::optional<std::uint32_t> message_expiry_interval;
  std::span<const user_property> user_properties;
};

}  // namespace iotblocks::sql

IOTBLOCKS_API_END
