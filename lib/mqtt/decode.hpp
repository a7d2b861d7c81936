// Private: decoding and validating one packet body, given its fixed header.
#pragma once

#include <iotblocks/mqtt/decoder.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace iotblocks::mqtt::detail {

struct body_context {
  std::optional<protocol_version> version;  // empty only for a server's first CONNECT
  role self;
  const decoder_limits& limits;
};

struct body_error {
  error code{};
  std::size_t at = 0;  // offset within the body of the field at fault
  const char* detail = nullptr;
  /// A CONNECT that failed after its protocol level: the version it declared.
  std::optional<protocol_version> connect_version;
};

/// Checks the first byte of a fixed header against Table 2-2 and the version
/// (not the role). Returns the error or {}.
error check_first_byte(std::uint8_t first, std::optional<protocol_version> v) noexcept;

/// Decodes the body of the packet whose first header byte is `first` (already
/// checked). On failure returns false and fills `err`.
bool decode_body(std::uint8_t first, bytes_view body, const body_context& ctx, packet_view& out,
                 body_error& err) noexcept;

/// Is `code` a reason code `sender` may put in a packet of type `t` (MQTT 5)?
bool reason_allowed(packet_type t, std::uint8_t code, role sender) noexcept;

}  // namespace iotblocks::mqtt::detail
