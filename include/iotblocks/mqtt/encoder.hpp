// MQTT encoder: exact size first, then bytes into a caller's buffer, a growable
// buffer, or a scatter/gather pair that leaves a large payload where it is.
//
//   mqtt::publish_view p{.qos = 1, .topic = "/topic/Greenhouse/LuxSensors/probe_1",
//                        .packet_id = 7, .payload = bytes};
//   std::error_code ec;
//   std::size_t n = mqtt::encoded_size(p, mqtt::protocol_version::v3_1_1, ec);   // 143
//   mqtt::encode(p, mqtt::protocol_version::v3_1_1, out_span, ec);   // writes n bytes
//
//   // gather: header bytes in `head`, payload untouched
//   auto parts = mqtt::encode_gather(p, v, head, ec);   // {head bytes, p.payload}
//
// The encoder writes what it is given in the shape the version defines and
// checks only what the wire cannot represent (error::not_encodable: a string or
// binary field over 65,535 bytes, QoS above 2, AUTH before 5.0; packet_too_large:
// over 268,435,455 bytes of remaining length). It does not re-validate semantics,
// so it can also produce the malformed packets tests need. A CONNECT is encoded
// in its own `version`; the `v` argument is ignored for it.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/mqtt/packet.hpp>

#include <array>
#include <cstddef>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::mqtt {

/// Exact encoded size of `p` for protocol `v`; 0 with ec set if it cannot be encoded.
std::size_t encoded_size(const packet_view& p, protocol_version v, std::error_code& ec) noexcept;
std::size_t encoded_size(const packet& p, protocol_version v, std::error_code& ec) noexcept;
std::size_t encoded_size(const publish_view& p, protocol_version v, std::error_code& ec) noexcept;

/// Writes `p` at the start of `out`; returns the bytes written (0 on error;
/// error::buffer_too_small if `out` is shorter than encoded_size()).
std::size_t encode(const packet_view& p, protocol_version v, mutable_bytes_view out,
                   std::error_code& ec) noexcept;
std::size_t encode(const packet& p, protocol_version v, mutable_bytes_view out,
                   std::error_code& ec) noexcept;
std::size_t encode(const publish_view& p, protocol_version v, mutable_bytes_view out,
                   std::error_code& ec) noexcept;

/// Appends `p` to `out` (which grows by exactly encoded_size()).
std::error_code encode(const packet_view& p, protocol_version v, byte_buffer& out);
std::error_code encode(const packet& p, protocol_version v, byte_buffer& out);
std::error_code encode(const publish_view& p, protocol_version v, byte_buffer& out);

/// Size of everything in a PUBLISH before its payload.
std::size_t publish_head_size(const publish_view& p, protocol_version v,
                              std::error_code& ec) noexcept;
/// Writes everything in a PUBLISH before its payload; the packet on the wire is
/// these bytes followed by p.payload. Returns the bytes written.
std::size_t encode_publish_head(const publish_view& p, protocol_version v, mutable_bytes_view head,
                                std::error_code& ec) noexcept;
/// Scatter/gather form: {head (stored in `storage`, replaced), p.payload}.
std::array<bytes_view, 2> encode_gather(const publish_view& p, protocol_version v,
                                        byte_buffer& storage, std::error_code& ec);

/// A view of an owning PUBLISH (valid while `p` is unchanged).
publish_view as_view(const publish& p) noexcept;

}  // namespace iotblocks::mqtt

IOTBLOCKS_API_END
