// Shared by the mqtt fuzzers: the first input byte configures the decoder.
//   bit 0    role (0 server, 1 client)
//   bits 1-2 version preset: 0 none (a server learns it from CONNECT), 1 3.1, 2 3.1.1, 3 5.0
//   bit 3    small limits (packet 512 B, topic 32 B / 4 levels, 4 properties, 2 user
//            properties, 3 filters, topic alias maximum 4)
//   bit 4    validate UTF-8 payloads
#pragma once

#include <iotblocks/mqtt.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace iotblocks::mqtt::fuzz {

inline decoder make_decoder(std::uint8_t config) {
  decoder d{(config & 1) ? role::client : role::server};
  switch ((config >> 1) & 3) {
    case 1: d.protocol(protocol_version::v3_1); break;
    case 2: d.protocol(protocol_version::v3_1_1); break;
    case 3: d.protocol(protocol_version::v5); break;
    default: break;
  }
  if (config & 8) {
    d.max_packet_size(512)
        .max_topic_length(32)
        .max_topic_levels(4)
        .max_properties(4)
        .max_user_properties(2)
        .max_subscriptions(3)
        .topic_alias_maximum(4);
  }
  d.validate_payload_utf8((config & 16) != 0);
  return d;
}

inline void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace iotblocks::mqtt::fuzz
