// Incremental, push-style MQTT decoder: feed it bytes as they arrive, one at a
// time or many packets at once, and take each packet as a zero-copy view.
//
//   mqtt::decoder d{mqtt::role::server};          // version comes from CONNECT
//   std::error_code ec;
//   while (!input.empty()) {
//     input = input.subspan(d.put(input, ec));
//     if (d.has_packet()) { handle(d.get()); continue; }
//     if (ec != mqtt::error::need_more) {           // malformed: close with a reason
//       send_disconnect(d.reason());               // e.g. 0x81, 0x82, 0x95
//       break;
//     }
//   }
//
// Each put() stops after one complete packet. If the whole packet was inside
// the span given to put(), the view points into that span (no copy); if the
// packet straddled put() calls, only that packet was buffered (at most
// max_packet_size bytes, whose check happens on the fixed header before any
// body byte is stored) and the view points into the decoder's buffer, valid
// until the next put(). After warm-up, decoding allocates nothing.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/mqtt/error.hpp>
#include <iotblocks/mqtt/packet.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::mqtt {

/// Limits a decoder applies; set them through the decoder's named setters.
struct decoder_limits {
  std::size_t max_packet_size = 1024 * 1024;  ///< whole packet, fixed header included
  std::size_t max_topic_length = 65535;       ///< bytes of a topic name or filter
  std::size_t max_topic_levels = 256;         ///< levels of a topic name or filter
  std::size_t max_properties = 256;           ///< entries of one property list
  std::size_t max_user_properties = 128;      ///< user properties of one property list
  std::size_t max_subscriptions = 256;        ///< filters of one SUBSCRIBE or UNSUBSCRIBE
  std::uint16_t topic_alias_maximum = 65535;  ///< highest Topic Alias accepted
  bool validate_payload_utf8 = false;         ///< check payloads flagged as UTF-8 (0x99)
};

/// Decodes the packets one peer sends. Distinct objects: safe. Shared objects: unsafe.
class decoder {
 public:
  /// `self` is this endpoint's role: a server decodes client packets and the
  /// other way round; packets the peer may not send are a protocol error.
  explicit decoder(role self = role::server) noexcept;
  decoder(decoder&&) noexcept = default;
  decoder& operator=(decoder&&) noexcept = default;
  decoder(const decoder&) = delete;  // a copy's buffered views would point into the original
  decoder& operator=(const decoder&) = delete;

  /// The negotiated version. A server decoder without one takes it from the
  /// CONNECT (which must come first); with one set, CONNECT is not required
  /// (e.g. after a hand-over). A client decoder defaults to 5.0. After a
  /// CONNECT refused past its protocol level (a malformed property, client id or
  /// will), protocol() is the version it declared, so a server can answer with a
  /// CONNACK in that version; empty when the level itself was refused.
  decoder& protocol(protocol_version v) noexcept;
  std::optional<protocol_version> protocol() const noexcept { return version_; }
  role self() const noexcept { return self_; }

  /// Largest packet, fixed header included (default 1 MiB; MQTT allows 268,435,460).
  decoder& max_packet_size(std::size_t n) noexcept;
  /// Longest topic name or filter in bytes (default 65,535) -> 0x90 / 0x8F.
  decoder& max_topic_length(std::size_t n) noexcept;
  /// Most levels in a topic name or filter (default 256) -> 0x90 / 0x8F.
  decoder& max_topic_levels(std::size_t n) noexcept;
  /// Most entries in one property list (default 256) -> 0x97.
  decoder& max_properties(std::size_t n) noexcept;
  /// Most user properties in one property list (default 128) -> 0x97.
  decoder& max_user_properties(std::size_t n) noexcept;
  /// Most topic filters in one SUBSCRIBE or UNSUBSCRIBE (default 256) -> 0x97.
  decoder& max_subscriptions(std::size_t n) noexcept;
  /// Highest Topic Alias this endpoint advertised (default 65,535) -> 0x94.
  decoder& topic_alias_maximum(std::uint16_t n) noexcept;
  /// Reject PUBLISH and will payloads that say they are UTF-8 and are not (default off) -> 0x99.
  decoder& validate_payload_utf8(bool on) noexcept;
  const decoder_limits& limits() const noexcept { return limits_; }

  /// Consumes bytes up to the end of the next packet. Returns the bytes consumed
  /// (0 after an error).
  /// ec: clear when a packet is complete (has_packet()); error::need_more when all
  /// of `in` was consumed inside a packet; any other error is final until reset(),
  /// with reason() and error_offset() telling why and where.
  std::size_t put(bytes_view in, std::error_code& ec);

  /// Feeds all of `in`, calling `on_packet(const packet_view&)` for every packet.
  /// Returns the bytes consumed; ec is clear unless a packet was malformed.
  template <class F>
  std::size_t put_all(bytes_view in, F&& on_packet, std::error_code& ec) {
    std::size_t used = 0;
    ec.clear();
    while (used < in.size()) {
      used += put(in.subspan(used), ec);
      if (has_packet()) {
        on_packet(get());
      } else if (ec == error::need_more) {
        ec.clear();
      } else if (ec) {
        break;
      }
    }
    return used;
  }

  /// True when the last put() completed a packet.
  bool has_packet() const noexcept { return has_packet_; }
  /// The packet the last put() completed. Precondition: has_packet().
  const packet_view& get() const noexcept { return packet_; }
  /// True when that packet was reassembled in the decoder's buffer (its views
  /// then live until the next put(), not as long as the caller's bytes).
  bool buffered() const noexcept { return buffered_; }

  /// Bytes held for reassembling straddling packets (capacity; kept for reuse).
  std::size_t buffer_capacity() const noexcept { return buffer_.capacity(); }
  /// Frees the reassembly buffer unless a packet is half-way through it (it grows
  /// again on demand). Invalidates the views of a buffered() packet.
  void shrink_buffer() noexcept {
    if (state_ != state::body) byte_buffer{}.swap(buffer_);
  }

  /// True when the bytes consumed so far end inside a packet (more are needed).
  bool in_packet() const noexcept {
    return state_ == state::remaining_length || state_ == state::body;
  }
  /// Stream offset of the first byte of the packet being (or last) decoded.
  std::uint64_t packet_offset() const noexcept { return packet_start_; }

  /// Total bytes consumed since construction or reset().
  std::uint64_t offset() const noexcept { return offset_; }
  /// The reason code of the last error (success if none).
  reason_code reason() const noexcept;
  /// Stream offset of the byte at fault (a field's first byte).
  std::uint64_t error_offset() const noexcept { return error_offset_; }
  /// The last error as code, message (with the reason code) and byte offset.
  /// Never allocates.
  iotblocks::failure last_failure() const noexcept;

  /// Where a stream stands between two packets: all a fresh decoder (same role
  /// and limits) needs to go on with it (resume()). A server with many idle
  /// connections keeps this, 16 bytes, instead of a decoder per connection.
  struct stream_state {
    std::uint64_t offset = 0;  ///< bytes consumed so far
    std::optional<protocol_version> version;
    bool version_preset = false;  ///< set with protocol(), not read from a CONNECT
    bool connect_seen = false;    ///< a second CONNECT (CONNACK) is a protocol error
  };
  /// The stream's state. Precondition: !in_packet() (nothing half-read to carry over).
  stream_state between_packets() const noexcept {
    return {offset_, version_, version_preset_, connect_seen_};
  }
  /// Goes on with a stream where between_packets() left it, as if this decoder
  /// had decoded what came before. Keeps the role and the limits.
  void resume(const stream_state& s) noexcept;

  /// Starts a new stream: forgets partial input, errors and a CONNECT seen;
  /// keeps the role, the limits and a version set with protocol().
  void reset() noexcept;

 private:
  enum class state : std::uint8_t { fixed_header, remaining_length, body, failed };

  std::size_t fail(error e, std::uint64_t at, const char* detail, std::error_code& ec) noexcept;
  bool on_type_byte(std::uint8_t b, std::error_code& ec) noexcept;
  bool decode(bytes_view body, std::error_code& ec) noexcept;

  decoder_limits limits_{};
  packet_view packet_{};
  byte_buffer buffer_;  // the body of a packet that straddles put() calls
  std::uint64_t offset_ = 0;
  std::uint64_t packet_start_ = 0;
  std::uint64_t error_offset_ = 0;
  const char* error_detail_ = nullptr;
  error error_{};
  std::uint32_t remaining_ = 0;
  std::uint8_t length_bytes_ = 0;
  std::uint8_t first_byte_ = 0;
  std::optional<protocol_version> version_;
  bool version_preset_ = false;
  role self_;
  state state_ = state::fixed_header;
  bool connect_seen_ = false;
  bool has_packet_ = false;
  bool buffered_ = false;
};

}  // namespace iotblocks::mqtt

IOTBLOCKS_API_END
