#include <iotblocks/mqtt/packet.hpp>

#include "mqtt/wire.hpp"

#include <array>

namespace iotblocks::mqtt {
namespace {

constexpr std::array<std::string_view, 16> type_names = {
    "reserved", "connect",  "connack",    "publish", "puback",      "pubrec",
    "pubrel",   "pubcomp",  "subscribe",  "suback",  "unsubscribe", "unsuback",
    "pingreq",  "pingresp", "disconnect", "auth"};

std::string own(std::string_view s) { return std::string{s}; }
byte_buffer own(bytes_view b) { return to_buffer(b); }
properties own(const properties_view& p) { return properties{p}; }

template <class T>
std::optional<decltype(own(std::declval<T>()))> own(const std::optional<T>& o) {
  if (!o) return std::nullopt;
  return own(*o);
}

will own(const will_view& w) {
  return {own(w.topic), own(w.payload), own(w.properties), w.qos, w.retain};
}

std::optional<will> own(const std::optional<will_view>& w) {
  if (!w) return std::nullopt;
  return own(*w);
}

connect own(const connect_view& p) {
  return {p.version,   p.clean_start,   p.keep_alive,    own(p.client_id),
          own(p.will), own(p.username), own(p.password), own(p.properties)};
}
connack own(const connack_view& p) { return {p.session_present, p.reason, own(p.properties)}; }
publish own(const publish_view& p) {
  return {p.dup, p.qos, p.retain, own(p.topic), p.packet_id, own(p.properties), own(p.payload)};
}
template <packet_type T>
basic_publish_response<T, owning_storage> own(const basic_publish_response<T, view_storage>& p) {
  return {p.packet_id, p.reason, own(p.properties), p.form};
}
subscribe own(const subscribe_view& p) {
  subscribe s{p.packet_id, own(p.properties), {}};
  s.subscriptions.reserve(p.subscriptions.size());
  for (const subscription_view& v : p.subscriptions) {
    s.subscriptions.push_back({own(v.filter), v.options});
  }
  return s;
}
suback own(const suback_view& p) {
  return {p.packet_id, own(p.properties), {p.reason_codes.begin(), p.reason_codes.end()}};
}
unsubscribe own(const unsubscribe_view& p) {
  unsubscribe u{p.packet_id, own(p.properties), {}};
  u.filters.reserve(p.filters.size());
  for (std::string_view f : p.filters) u.filters.emplace_back(f);
  return u;
}
unsuback own(const unsuback_view& p) {
  return {p.packet_id, own(p.properties), {p.reason_codes.begin(), p.reason_codes.end()}};
}
template <packet_type T>
basic_ping<T, owning_storage> own(const basic_ping<T, view_storage>&) {
  return {};
}
disconnect own(const disconnect_view& p) { return {p.reason, own(p.properties), p.form}; }
auth own(const auth_view& p) { return {p.reason, own(p.properties), p.form}; }

}  // namespace

std::string_view name(protocol_version v) noexcept {
  switch (v) {
    case protocol_version::v3_1: return "3.1";
    case protocol_version::v3_1_1: return "3.1.1";
    case protocol_version::v5: return "5";
  }
  return "unknown";
}

std::string_view name(packet_type t) noexcept {
  const auto i = static_cast<std::size_t>(t);
  return i < type_names.size() ? type_names[i] : type_names[0];
}

std::optional<packet_type> packet_type_from_name(std::string_view n) noexcept {
  for (std::size_t i = 1; i < type_names.size(); ++i) {
    if (type_names[i] == n) return static_cast<packet_type>(i);
  }
  return std::nullopt;
}

namespace detail {
bool next_string(bytes_view wire, std::size_t& pos, std::string_view& out) noexcept {
  wire::reader r{wire.data(), pos, wire.size()};
  if (!r.string(out)) return false;
  pos = r.pos;
  return true;
}
}  // namespace detail

packet to_owning(const packet_view& p) {
  return std::visit([](const auto& v) -> packet { return own(v); }, p);
}
publish to_owning(const publish_view& p) { return own(p); }
connect to_owning(const connect_view& p) { return own(p); }

}  // namespace iotblocks::mqtt
