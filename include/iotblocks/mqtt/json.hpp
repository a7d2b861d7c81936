// MQTT packets as JSON, one object per packet: the shape the CLI prints and
// reads (docs/mqtt.md lists every field). Decoding and re-encoding through JSON
// is lossless, so `iotblocks mqtt decode | iotblocks mqtt encode` gives back
// the same bytes.
//
//   std::string j = mqtt::to_json(d.get(), mqtt::protocol_version::v5);
//   // {"type":"publish","qos":1,"packet_id":7,"topic":"a/b","payload":"hi"}
//   mqtt::packet p = mqtt::packet_from_json(j).value();
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/mqtt/packet.hpp>

#include <string>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::mqtt {

/// One packet as a compact JSON object. `v` decides which fields exist (a CONNECT
/// uses its own version). Binary fields are strings when they are valid UTF-8
/// without U+0000, otherwise base64 under the key with a "_base64" suffix.
std::string to_json(const packet_view& p, protocol_version v);
std::string to_json(const packet& p, protocol_version v);

#if IOTBLOCKS_EXCEPTIONS
/// Parses one packet object. Unknown keys, wrong types and out-of-range numbers
/// are errors (core::error::invalid_json or invalid_argument, with the position).
/// Only in builds with exceptions (not part of the firmware codec).
result<packet> packet_from_json(std::string_view json);
#endif

}  // namespace iotblocks::mqtt

IOTBLOCKS_API_END
