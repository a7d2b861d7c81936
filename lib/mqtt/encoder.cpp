// The encoder: one body_size()/write_body() pair per packet template, shared by
// views and owning packets. Sizes are computed once, then bytes written unchecked.
#include <iotblocks/mqtt/encoder.hpp>

#include "mqtt/wire.hpp"

#include <limits>

namespace iotblocks::mqtt {
namespace {

using wire::writer;

constexpr std::size_t too_big = std::numeric_limits<std::size_t>::max() / 4;

struct sizing {
  error failed{};

  std::size_t string(std::size_t n) noexcept {
    if (n > wire::max_string) failed = error::not_encodable;
    return 2 + n;
  }
  std::size_t props(bytes_view p, protocol_version v) noexcept {
    if (v != protocol_version::v5) return 0;
    if (p.size() > wire::max_variable_integer) {
      failed = error::packet_too_large;
      return too_big;
    }
    return wire::variable_integer_size(static_cast<std::uint32_t>(p.size())) + p.size();
  }
};

void write_props(writer& w, bytes_view p, protocol_version v) noexcept {
  if (v != protocol_version::v5) return;
  w.variable_integer(static_cast<std::uint32_t>(p.size()));
  w.raw(p);
}

bool is_v5(protocol_version v) noexcept { return v == protocol_version::v5; }

// How much of the optional tail of PUBACK..PUBCOMP, DISCONNECT and AUTH to write:
// 0 nothing, 1 reason code, 2 reason code and properties.
int tail(response_form form, reason_code rc, bytes_view props) noexcept {
  if (!props.empty() || form == response_form::properties) return 2;
  if (rc != reason_code::success || form == response_form::reason_code) return 1;
  return 0;
}

// ---- CONNECT
template <class S>
std::size_t body_size(const basic_connect<S>& p, protocol_version, sizing& s) noexcept {
  const protocol_version v = p.version;
  std::size_t n = (v == protocol_version::v3_1 ? 8 : 6) + 1 + 1 + 2;
  n += s.props(p.properties.bytes(), v) + s.string(p.client_id.size());
  if (p.will) {
    if (p.will->qos > 2) s.failed = error::not_encodable;
    n += s.props(p.will->properties.bytes(), v) + s.string(p.will->topic.size()) +
         s.string(p.will->payload.size());
  }
  if (p.username) n += s.string(p.username->size());
  if (p.password) n += s.string(p.password->size());
  return n;
}
template <class S>
void write_body(const basic_connect<S>& p, protocol_version, writer& w) noexcept {
  const protocol_version v = p.version;
  w.string(v == protocol_version::v3_1 ? "MQIsdp" : "MQTT");
  w.u8(static_cast<std::uint8_t>(v));
  std::uint8_t flags = p.clean_start ? 0x02 : 0;
  if (p.will) {
    flags |= static_cast<std::uint8_t>(0x04 | (p.will->qos << 3) | (p.will->retain ? 0x20 : 0));
  }
  if (p.username) flags |= 0x80;
  if (p.password) flags |= 0x40;
  w.u8(flags);
  w.u16(p.keep_alive);
  write_props(w, p.properties.bytes(), v);
  w.string(p.client_id);
  if (p.will) {
    write_props(w, p.will->properties.bytes(), v);
    w.string(p.will->topic);
    w.binary(p.will->payload);
  }
  if (p.username) w.string(*p.username);
  if (p.password) w.binary(*p.password);
}

// ---- CONNACK
template <class S>
std::size_t body_size(const basic_connack<S>& p, protocol_version v, sizing& s) noexcept {
  return 2 + s.props(p.properties.bytes(), v);
}
template <class S>
void write_body(const basic_connack<S>& p, protocol_version v, writer& w) noexcept {
  w.u8(p.session_present ? 1 : 0);
  w.u8(static_cast<std::uint8_t>(p.reason));
  write_props(w, p.properties.bytes(), v);
}

// ---- PUBLISH
template <class S>
std::size_t head_body_size(const basic_publish<S>& p, protocol_version v, sizing& s) noexcept {
  if (p.qos > 2) s.failed = error::not_encodable;
  return s.string(p.topic.size()) + (p.qos != 0 ? 2 : 0) + s.props(p.properties.bytes(), v);
}
template <class S>
std::size_t body_size(const basic_publish<S>& p, protocol_version v, sizing& s) noexcept {
  return head_body_size(p, v, s) + p.payload.size();
}
template <class S>
void write_head_body(const basic_publish<S>& p, protocol_version v, writer& w) noexcept {
  w.string(p.topic);
  if (p.qos != 0) w.u16(p.packet_id);
  write_props(w, p.properties.bytes(), v);
}
template <class S>
void write_body(const basic_publish<S>& p, protocol_version v, writer& w) noexcept {
  write_head_body(p, v, w);
  w.raw(p.payload);
}

// ---- PUBACK, PUBREC, PUBREL, PUBCOMP
template <packet_type T, class S>
std::size_t body_size(const basic_publish_response<T, S>& p, protocol_version v,
                      sizing& s) noexcept {
  if (!is_v5(v)) return 2;
  switch (tail(p.form, p.reason, p.properties.bytes())) {
    case 0: return 2;
    case 1: return 3;
    default: return 3 + s.props(p.properties.bytes(), v);
  }
}
template <packet_type T, class S>
void write_body(const basic_publish_response<T, S>& p, protocol_version v, writer& w) noexcept {
  w.u16(p.packet_id);
  if (!is_v5(v)) return;
  const int t = tail(p.form, p.reason, p.properties.bytes());
  if (t >= 1) w.u8(static_cast<std::uint8_t>(p.reason));
  if (t == 2) write_props(w, p.properties.bytes(), v);
}

// ---- SUBSCRIBE
template <class S>
std::size_t body_size(const basic_subscribe<S>& p, protocol_version v, sizing& s) noexcept {
  std::size_t n = 2 + s.props(p.properties.bytes(), v);
  for (const auto& sub : p.subscriptions) n += s.string(sub.filter.size()) + 1;
  return n;
}
template <class S>
void write_body(const basic_subscribe<S>& p, protocol_version v, writer& w) noexcept {
  w.u16(p.packet_id);
  write_props(w, p.properties.bytes(), v);
  for (const auto& sub : p.subscriptions) {
    w.string(sub.filter);
    w.u8(is_v5(v) ? sub.options.to_byte() : static_cast<std::uint8_t>(sub.options.qos & 3));
  }
}

// ---- SUBACK
template <class S>
std::size_t body_size(const basic_suback<S>& p, protocol_version v, sizing& s) noexcept {
  return 2 + s.props(p.properties.bytes(), v) + p.reason_codes.size();
}
template <class S>
void write_body(const basic_suback<S>& p, protocol_version v, writer& w) noexcept {
  w.u16(p.packet_id);
  write_props(w, p.properties.bytes(), v);
  for (reason_code rc : p.reason_codes) w.u8(static_cast<std::uint8_t>(rc));
}

// ---- UNSUBSCRIBE
template <class S>
std::size_t body_size(const basic_unsubscribe<S>& p, protocol_version v, sizing& s) noexcept {
  std::size_t n = 2 + s.props(p.properties.bytes(), v);
  for (const auto& f : p.filters) n += s.string(std::string_view{f}.size());
  return n;
}
template <class S>
void write_body(const basic_unsubscribe<S>& p, protocol_version v, writer& w) noexcept {
  w.u16(p.packet_id);
  write_props(w, p.properties.bytes(), v);
  for (const auto& f : p.filters) w.string(f);
}

// ---- UNSUBACK
template <class S>
std::size_t body_size(const basic_unsuback<S>& p, protocol_version v, sizing& s) noexcept {
  return is_v5(v) ? 2 + s.props(p.properties.bytes(), v) + p.reason_codes.size() : 2;
}
template <class S>
void write_body(const basic_unsuback<S>& p, protocol_version v, writer& w) noexcept {
  w.u16(p.packet_id);
  if (!is_v5(v)) return;
  write_props(w, p.properties.bytes(), v);
  for (reason_code rc : p.reason_codes) w.u8(static_cast<std::uint8_t>(rc));
}

// ---- PINGREQ, PINGRESP
template <packet_type T, class S>
std::size_t body_size(const basic_ping<T, S>&, protocol_version, sizing&) noexcept {
  return 0;
}
template <packet_type T, class S>
void write_body(const basic_ping<T, S>&, protocol_version, writer&) noexcept {}

// ---- DISCONNECT and AUTH
template <class P>
std::size_t reason_tail_size(const P& p, protocol_version v, sizing& s) noexcept {
  switch (tail(p.form, p.reason, p.properties.bytes())) {
    case 0: return 0;
    case 1: return 1;
    default: return 1 + s.props(p.properties.bytes(), v);
  }
}
template <class P>
void write_reason_tail(const P& p, protocol_version v, writer& w) noexcept {
  const int t = tail(p.form, p.reason, p.properties.bytes());
  if (t >= 1) w.u8(static_cast<std::uint8_t>(p.reason));
  if (t == 2) write_props(w, p.properties.bytes(), v);
}
template <class S>
std::size_t body_size(const basic_disconnect<S>& p, protocol_version v, sizing& s) noexcept {
  return is_v5(v) ? reason_tail_size(p, v, s) : 0;
}
template <class S>
void write_body(const basic_disconnect<S>& p, protocol_version v, writer& w) noexcept {
  if (is_v5(v)) write_reason_tail(p, v, w);
}
template <class S>
std::size_t body_size(const basic_auth<S>& p, protocol_version v, sizing& s) noexcept {
  if (!is_v5(v)) s.failed = error::not_encodable;  // AUTH exists from 5.0 on
  return reason_tail_size(p, v, s);
}
template <class S>
void write_body(const basic_auth<S>& p, protocol_version v, writer& w) noexcept {
  write_reason_tail(p, v, w);
}

// ---- generic
template <class P>
std::uint8_t first_byte(const P& p) noexcept {
  const auto type = static_cast<std::uint8_t>(static_cast<unsigned>(P::type) << 4);
  if constexpr (P::type == packet_type::publish) {
    return static_cast<std::uint8_t>(type | (p.dup ? 0x08 : 0) | ((p.qos & 3) << 1) |
                                     (p.retain ? 0x01 : 0));
  } else if constexpr (P::type == packet_type::pubrel || P::type == packet_type::subscribe ||
                       P::type == packet_type::unsubscribe) {
    (void)p;
    return static_cast<std::uint8_t>(type | 0x02);
  } else {
    (void)p;
    return type;
  }
}

// Total size and remaining length of `p`; 0 and ec on failure.
template <class P>
std::size_t total_size(const P& p, protocol_version v, std::uint32_t& remaining,
                       std::error_code& ec) noexcept {
  sizing s;
  const std::size_t body = body_size(p, v, s);
  if (s.failed == error{} && body > wire::max_variable_integer) s.failed = error::packet_too_large;
  if (s.failed != error{}) {
    ec = s.failed;
    return 0;
  }
  remaining = static_cast<std::uint32_t>(body);
  ec.clear();
  return 1 + wire::variable_integer_size(remaining) + body;
}

template <class P>
std::size_t encode_into(const P& p, protocol_version v, mutable_bytes_view out,
                        std::error_code& ec) noexcept {
  std::uint32_t remaining = 0;
  const std::size_t total = total_size(p, v, remaining, ec);
  if (total == 0) return 0;
  if (out.size() < total) {
    ec = error::buffer_too_small;
    return 0;
  }
  writer w{out.data()};
  w.u8(first_byte(p));
  w.variable_integer(remaining);
  write_body(p, v, w);
  return total;
}

// Appends through the span encoders (one instantiation per packet type, not two).
template <class P>
std::error_code encode_append(const P& p, protocol_version v, byte_buffer& out) {
  std::error_code ec;
  const std::size_t total = encoded_size(p, v, ec);
  if (total == 0) return ec;
  const std::size_t at = out.size();
  out.resize(at + total);
  encode(p, v, mutable_bytes_view{out.data() + at, total}, ec);
  return ec;
}

}  // namespace

std::size_t encoded_size(const packet_view& p, protocol_version v, std::error_code& ec) noexcept {
  std::uint32_t remaining = 0;
  return std::visit([&](const auto& x) { return total_size(x, v, remaining, ec); }, p);
}
std::size_t encoded_size(const packet& p, protocol_version v, std::error_code& ec) noexcept {
  std::uint32_t remaining = 0;
  return std::visit([&](const auto& x) { return total_size(x, v, remaining, ec); }, p);
}
std::size_t encoded_size(const publish_view& p, protocol_version v, std::error_code& ec) noexcept {
  std::uint32_t remaining = 0;
  return total_size(p, v, remaining, ec);
}

std::size_t encode(const packet_view& p, protocol_version v, mutable_bytes_view out,
                   std::error_code& ec) noexcept {
  return std::visit([&](const auto& x) { return encode_into(x, v, out, ec); }, p);
}
std::size_t encode(const packet& p, protocol_version v, mutable_bytes_view out,
                   std::error_code& ec) noexcept {
  return std::visit([&](const auto& x) { return encode_into(x, v, out, ec); }, p);
}
std::size_t encode(const publish_view& p, protocol_version v, mutable_bytes_view out,
                   std::error_code& ec) noexcept {
  return encode_into(p, v, out, ec);
}

std::error_code encode(const packet_view& p, protocol_version v, byte_buffer& out) {
  return encode_append(p, v, out);
}
std::error_code encode(const packet& p, protocol_version v, byte_buffer& out) {
  return encode_append(p, v, out);
}
std::error_code encode(const publish_view& p, protocol_version v, byte_buffer& out) {
  return encode_append(p, v, out);
}

std::size_t publish_head_size(const publish_view& p, protocol_version v,
                              std::error_code& ec) noexcept {
  std::uint32_t remaining = 0;
  const std::size_t total = total_size(p, v, remaining, ec);
  return total == 0 ? 0 : total - p.payload.size();
}

std::size_t encode_publish_head(const publish_view& p, protocol_version v, mutable_bytes_view head,
                                std::error_code& ec) noexcept {
  std::uint32_t remaining = 0;
  const std::size_t total = total_size(p, v, remaining, ec);
  if (total == 0) return 0;
  const std::size_t n = total - p.payload.size();
  if (head.size() < n) {
    ec = error::buffer_too_small;
    return 0;
  }
  writer w{head.data()};
  w.u8(first_byte(p));
  w.variable_integer(remaining);
  write_head_body(p, v, w);
  return n;
}

std::array<bytes_view, 2> encode_gather(const publish_view& p, protocol_version v,
                                        byte_buffer& storage, std::error_code& ec) {
  const std::size_t n = publish_head_size(p, v, ec);
  if (n == 0) return {};
  storage.resize(n);
  encode_publish_head(p, v, storage, ec);
  return {bytes_view{storage}, p.payload};
}

publish_view as_view(const publish& p) noexcept {
  return {p.dup, p.qos, p.retain, p.topic, p.packet_id, p.properties.view(), p.payload};
}

}  // namespace iotblocks::mqtt
