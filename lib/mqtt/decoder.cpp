// The decoder's state machine: fixed header byte by byte, then the body either
// straight from the caller's span (zero-copy) or reassembled in buffer_.
#include <iotblocks/core/error.hpp>
#include <iotblocks/mqtt/decoder.hpp>

#include "mqtt/decode.hpp"
#include "mqtt/wire.hpp"

#include <algorithm>
#include <string_view>

namespace iotblocks::mqtt {
namespace {
const std::error_code no_error{};
}  // namespace

decoder::decoder(role self) noexcept : self_(self) {
  if (self == role::client) protocol(protocol_version::v5);
}

decoder& decoder::protocol(protocol_version v) noexcept {
  version_ = v;
  version_preset_ = true;
  return *this;
}

decoder& decoder::max_packet_size(std::size_t n) noexcept {
  limits_.max_packet_size = n;
  return *this;
}
decoder& decoder::max_topic_length(std::size_t n) noexcept {
  limits_.max_topic_length = n;
  return *this;
}
decoder& decoder::max_topic_levels(std::size_t n) noexcept {
  limits_.max_topic_levels = n;
  return *this;
}
decoder& decoder::max_properties(std::size_t n) noexcept {
  limits_.max_properties = n;
  return *this;
}
decoder& decoder::max_user_properties(std::size_t n) noexcept {
  limits_.max_user_properties = n;
  return *this;
}
decoder& decoder::max_subscriptions(std::size_t n) noexcept {
  limits_.max_subscriptions = n;
  return *this;
}
decoder& decoder::topic_alias_maximum(std::uint16_t n) noexcept {
  limits_.topic_alias_maximum = n;
  return *this;
}
decoder& decoder::validate_payload_utf8(bool on) noexcept {
  limits_.validate_payload_utf8 = on;
  return *this;
}

void decoder::reset() noexcept {
  if (!version_preset_) version_.reset();
  state_ = state::fixed_header;
  offset_ = packet_start_ = error_offset_ = 0;
  error_detail_ = nullptr;
  error_ = {};
  remaining_ = 0;
  length_bytes_ = 0;
  connect_seen_ = has_packet_ = buffered_ = false;
  buffer_.clear();
}

void decoder::resume(const stream_state& s) noexcept {
  reset();
  offset_ = packet_start_ = s.offset;
  version_ = s.version;
  version_preset_ = s.version_preset;
  connect_seen_ = s.connect_seen;
}

reason_code decoder::reason() const noexcept {
  return state_ == state::failed ? to_reason_code(error_) : reason_code::success;
}

iotblocks::failure decoder::last_failure() const noexcept {
  if (state_ != state::failed) return {};
  const reason_code rc = reason();
  constexpr std::string_view digits = "0123456789ABCDEF";
  const auto v = static_cast<unsigned>(rc);
  const char code[] = {'0', 'x', digits[(v >> 4) & 0xF], digits[v & 0xF]};
  const std::string_view hex{code, sizeof code};
  const char* what = iotblocks::detail::static_message(make_error_code(error_));
  const std::string_view detail = error_detail_ != nullptr ? error_detail_ : "";
  const auto message =
      detail.empty()
          ? failure_message::cat(what, ", reason code ", hex, " ", name(rc))
          : failure_message::cat(what, " (", detail, "), reason code ", hex, " ", name(rc));
  return {error_, message, at_offset(static_cast<std::size_t>(error_offset_))};
}

std::size_t decoder::fail(error e, std::uint64_t at, const char* detail,
                          std::error_code& ec) noexcept {
  state_ = state::failed;
  error_ = e;
  error_offset_ = at;
  error_detail_ = detail;
  ec = e;
  return 0;
}

bool decoder::on_type_byte(std::uint8_t b, std::error_code& ec) noexcept {
  if (const error e = detail::check_first_byte(b, version_); e != error{}) {
    fail(e, packet_start_, nullptr, ec);
    return false;
  }
  const auto type = static_cast<packet_type>(b >> 4);
  error e{};
  if (self_ == role::server) {
    switch (type) {
      case packet_type::connect:
        if (connect_seen_) e = error::connect_repeated;  // 3.1.0-2
        break;
      case packet_type::publish:
      case packet_type::puback:
      case packet_type::pubrec:
      case packet_type::pubrel:
      case packet_type::pubcomp:
      case packet_type::subscribe:
      case packet_type::unsubscribe:
      case packet_type::pingreq:
      case packet_type::disconnect:
      case packet_type::auth:
        if (!version_) e = error::connect_expected;  // 3.1.0-1
        break;
      default: e = version_ ? error::packet_unexpected : error::connect_expected;
    }
  } else {
    switch (type) {
      case packet_type::connack:
        if (connect_seen_) e = error::connect_repeated;  // 3.2.0-2
        break;
      case packet_type::publish:
      case packet_type::puback:
      case packet_type::pubrec:
      case packet_type::pubrel:
      case packet_type::pubcomp:
      case packet_type::suback:
      case packet_type::unsuback:
      case packet_type::pingresp:
      case packet_type::auth: break;
      case packet_type::disconnect:  // servers send DISCONNECT only from 5.0 on
        if (version_ != protocol_version::v5) e = error::packet_unexpected;
        break;
      default: e = error::packet_unexpected;
    }
  }
  if (e != error{}) {
    fail(e, packet_start_, name(type).data(), ec);
    return false;
  }
  return true;
}

bool decoder::decode(bytes_view body, std::error_code& ec) noexcept {
  const detail::body_context ctx{version_, self_, limits_};
  detail::body_error err;
  if (!detail::decode_body(first_byte_, body, ctx, packet_, err)) {
    if (!version_ && err.connect_version) version_ = err.connect_version;  // see protocol()
    fail(err.code, packet_start_ + 1 + length_bytes_ + err.at, err.detail, ec);
    return false;
  }
  const auto type = static_cast<packet_type>(first_byte_ >> 4);
  if (type == packet_type::connect) {
    connect_seen_ = true;
    version_ = std::get<connect_view>(packet_).version;
  } else if (type == packet_type::connack) {
    connect_seen_ = true;
  }
  has_packet_ = true;
  ec = no_error;  // clear() would call system_category() every time
  return true;
}

std::size_t decoder::put(bytes_view in, std::error_code& ec) {
  has_packet_ = false;
  if (state_ == state::failed) {
    ec = error_;
    return 0;
  }
  const std::byte* data = in.data();
  const std::size_t n = in.size();
  // Fast path: a whole packet at the start of `in`. Anything else (and every
  // error in the length) takes the byte-by-byte loop below.
  std::uint32_t length = 0;
  std::size_t used = 0;
  if (state_ == state::fixed_header && n >= 2 &&
      wire::read_variable_integer(data + 1, n - 1, length, used) == wire::status::ok &&
      n - 1 - used >= length) {
    packet_start_ = offset_;
    first_byte_ = std::to_integer<std::uint8_t>(data[0]);
    if (!on_type_byte(first_byte_, ec)) return 0;
    length_bytes_ = static_cast<std::uint8_t>(used);
    remaining_ = length;
    const std::size_t total = 1 + used + length;
    if (total > limits_.max_packet_size) {
      return fail(error::packet_too_large, packet_start_ + 1, nullptr, ec);
    }
    offset_ += total;
    buffered_ = false;
    return decode(bytes_view{data + 1 + used, length}, ec) ? total : 0;
  }
  std::size_t i = 0;
  while (i < n) {
    switch (state_) {
      case state::fixed_header:
        packet_start_ = offset_ + i;
        first_byte_ = std::to_integer<std::uint8_t>(data[i]);
        if (!on_type_byte(first_byte_, ec)) return 0;
        ++i;
        remaining_ = 0;
        length_bytes_ = 0;
        state_ = state::remaining_length;
        break;

      case state::remaining_length: {
        const auto b = std::to_integer<std::uint32_t>(data[i++]);
        remaining_ |= (b & 0x7F) << (7 * length_bytes_);
        ++length_bytes_;
        if ((b & 0x80) != 0) {
          if (length_bytes_ == 4)
            return fail(error::remaining_length_invalid, packet_start_ + 1, "more than four bytes",
                        ec);
          break;
        }
        if (length_bytes_ > 1 && b == 0) {  // 1.5.5-1: minimal encoding only
          return fail(error::remaining_length_invalid, packet_start_ + 1, "not minimal", ec);
        }
        if (std::uint64_t{1} + length_bytes_ + remaining_ > limits_.max_packet_size) {
          return fail(error::packet_too_large, packet_start_ + 1, nullptr, ec);
        }
        if (n - i >= remaining_) {  // the whole body is here: decode in place
          const bytes_view body{data + i, remaining_};
          i += remaining_;
          offset_ += i;
          state_ = state::fixed_header;
          buffered_ = false;
          return decode(body, ec) ? i : 0;
        }
        buffer_.clear();
        state_ = state::body;
        break;
      }

      case state::body: {
        const std::size_t take = std::min<std::size_t>(remaining_ - buffer_.size(), n - i);
        buffer_.insert(buffer_.end(), data + i, data + i + take);
        i += take;
        if (buffer_.size() == remaining_) {
          offset_ += i;
          state_ = state::fixed_header;
          buffered_ = true;
          return decode(buffer_, ec) ? i : 0;
        }
        break;
      }

      case state::failed: ec = error_; return 0;
    }
  }
  offset_ += n;
  ec = error::need_more;
  return n;
}

}  // namespace iotblocks::mqtt
