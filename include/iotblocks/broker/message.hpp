// An application message as the broker routes it.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/mqtt/properties.hpp>

#include <cstdint>
#include <string>

IOTBLOCKS_API_BEGIN

namespace iotblocks::broker {

struct message {
  std::string topic;
  byte_buffer payload;
  std::uint8_t qos = 0;
  bool retain = false;
  mqtt::properties properties;  ///< MQTT 5 properties forwarded to subscribers
  std::string publisher;        ///< client id, empty for messages of the broker's owner
  /// When the broker accepted it: milliseconds since the Unix epoch (a retained
  /// message's last-modified time; 0 for one restored from a store without it).
  std::int64_t received_ms = 0;
};

}  // namespace iotblocks::broker

IOTBLOCKS_API_END
