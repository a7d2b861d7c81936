#include <iotblocks/core/result.hpp>
#include <iotblocks/mqtt/error.hpp>
#include <iotblocks/mqtt/properties.hpp>

#include "mqtt/wire.hpp"

#include <array>
#include <system_error>

namespace iotblocks::mqtt {
namespace {

struct info {
  std::string_view name;
  property_type type;
};

constexpr std::size_t table_size = 0x2B;

constexpr std::array<info, table_size> make_table() {
  std::array<info, table_size> t{};
  auto set = [&t](property_id id, std::string_view n, property_type ty) {
    t[static_cast<std::size_t>(id)] = {n, ty};
  };
  using T = property_type;
  set(property_id::payload_format_indicator, "payload_format_indicator", T::byte);
  set(property_id::message_expiry_interval, "message_expiry_interval", T::four_byte_integer);
  set(property_id::content_type, "content_type", T::utf8_string);
  set(property_id::response_topic, "response_topic", T::utf8_string);
  set(property_id::correlation_data, "correlation_data", T::binary_data);
  set(property_id::subscription_identifier, "subscription_identifier", T::variable_byte_integer);
  set(property_id::session_expiry_interval, "session_expiry_interval", T::four_byte_integer);
  set(property_id::assigned_client_identifier, "assigned_client_identifier", T::utf8_string);
  set(property_id::server_keep_alive, "server_keep_alive", T::two_byte_integer);
  set(property_id::authentication_method, "authentication_method", T::utf8_string);
  set(property_id::authentication_data, "authentication_data", T::binary_data);
  set(property_id::request_problem_information, "request_problem_information", T::byte);
  set(property_id::will_delay_interval, "will_delay_interval", T::four_byte_integer);
  set(property_id::request_response_information, "request_response_information", T::byte);
  set(property_id::response_information, "response_information", T::utf8_string);
  set(property_id::server_reference, "server_reference", T::utf8_string);
  set(property_id::reason_string, "reason_string", T::utf8_string);
  set(property_id::receive_maximum, "receive_maximum", T::two_byte_integer);
  set(property_id::topic_alias_maximum, "topic_alias_maximum", T::two_byte_integer);
  set(property_id::topic_alias, "topic_alias", T::two_byte_integer);
  set(property_id::maximum_qos, "maximum_qos", T::byte);
  set(property_id::retain_available, "retain_available", T::byte);
  set(property_id::user_property, "user_property", T::utf8_string_pair);
  set(property_id::maximum_packet_size, "maximum_packet_size", T::four_byte_integer);
  set(property_id::wildcard_subscription_available, "wildcard_subscription_available", T::byte);
  set(property_id::subscription_identifiers_available, "subscription_identifiers_available",
      T::byte);
  set(property_id::shared_subscription_available, "shared_subscription_available", T::byte);
  return t;
}

constexpr std::array<info, table_size> table = make_table();

[[noreturn]] void not_encodable() {
#if IOTBLOCKS_EXCEPTIONS
  throw std::system_error(error::not_encodable);
#else
  throw_failure(failure{error::not_encodable, {}, {}});
#endif
}

}  // namespace

bool is_known(std::uint8_t id) noexcept { return id < table_size && !table[id].name.empty(); }

property_type type_of(property_id id) noexcept {
  return is_known(static_cast<std::uint8_t>(id)) ? table[static_cast<std::size_t>(id)].type
                                                 : property_type::byte;
}

std::string_view name(property_id id) noexcept {
  return is_known(static_cast<std::uint8_t>(id)) ? table[static_cast<std::size_t>(id)].name
                                                 : std::string_view{"unknown"};
}

std::optional<property_id> property_from_name(std::string_view n) noexcept {
  for (std::size_t i = 0; i < table_size; ++i) {
    if (!table[i].name.empty() && table[i].name == n) return static_cast<property_id>(i);
  }
  return std::nullopt;
}

namespace detail {

bool next_property(bytes_view wire, std::size_t& pos, property& out) noexcept {
  wire::reader r{wire.data(), pos, wire.size()};
  std::uint8_t id;
  if (!r.u8(id) || !is_known(id)) return false;
  out = property{};
  out.id = static_cast<property_id>(id);
  bool ok = false;
  switch (table[id].type) {
    case property_type::byte: {
      std::uint8_t v = 0;
      ok = r.u8(v);
      out.number = v;
      break;
    }
    case property_type::two_byte_integer: {
      std::uint16_t v = 0;
      ok = r.u16(v);
      out.number = v;
      break;
    }
    case property_type::four_byte_integer: ok = r.u32(out.number); break;
    case property_type::variable_byte_integer:
      ok = r.variable_integer(out.number) == wire::status::ok;
      break;
    case property_type::utf8_string: ok = r.string(out.text); break;
    case property_type::binary_data: ok = r.binary(out.data); break;
    case property_type::utf8_string_pair: ok = r.string(out.name) && r.string(out.value); break;
  }
  if (ok) pos = r.pos;
  return ok;
}

bool find_property(bytes_view wire, property_id id, property& out) noexcept {
  std::size_t pos = 0;
  while (next_property(wire, pos, out)) {
    if (out.id == id) return true;
  }
  return false;
}

std::optional<std::uint32_t> find_number(bytes_view wire, property_id id) noexcept {
  property p;
  if (find_property(wire, id, p)) return p.number;
  return std::nullopt;
}

std::optional<std::string_view> find_text(bytes_view wire, property_id id) noexcept {
  property p;
  if (find_property(wire, id, p)) return p.text;
  return std::nullopt;
}

std::optional<bytes_view> find_data(bytes_view wire, property_id id) noexcept {
  property p;
  if (find_property(wire, id, p)) return p.data;
  return std::nullopt;
}

}  // namespace detail

properties& properties::remove(property_id id) {
  byte_buffer kept;
  kept.reserve(wire_.size());
  std::size_t pos = 0;
  property p;
  for (std::size_t start = 0; detail::next_property(wire_, pos, p); start = pos) {
    if (p.id != id)
      kept.insert(kept.end(), wire_.begin() + static_cast<std::ptrdiff_t>(start),
                  wire_.begin() + static_cast<std::ptrdiff_t>(pos));
  }
  wire_ = std::move(kept);
  return *this;
}

properties& properties::add(const property& p) {
  const auto id = static_cast<std::uint8_t>(p.id);
  if (!is_known(id)) not_encodable();
  const property_type type = table[id].type;
  if ((type == property_type::utf8_string && p.text.size() > wire::max_string) ||
      (type == property_type::binary_data && p.data.size() > wire::max_string) ||
      (type == property_type::utf8_string_pair &&
       (p.name.size() > wire::max_string || p.value.size() > wire::max_string))) {
    not_encodable();
  }
  std::array<std::byte, 8> head{};
  wire::writer w{head.data()};
  w.u8(id);
  auto append_head = [&] { wire_.insert(wire_.end(), head.data(), w.p); };
  auto append_string = [this](bytes_view s) {
    std::array<std::byte, 2> len{};
    store_be16(len.data(), static_cast<std::uint16_t>(s.size()));
    wire_.insert(wire_.end(), len.begin(), len.end());
    wire_.insert(wire_.end(), s.begin(), s.end());
  };
  switch (type) {
    case property_type::byte:
      if (p.number > 0xFF) not_encodable();
      w.u8(static_cast<std::uint8_t>(p.number));
      append_head();
      break;
    case property_type::two_byte_integer:
      if (p.number > 0xFFFF) not_encodable();
      w.u16(static_cast<std::uint16_t>(p.number));
      append_head();
      break;
    case property_type::four_byte_integer:
      w.u32(p.number);
      append_head();
      break;
    case property_type::variable_byte_integer:
      if (p.number > wire::max_variable_integer) not_encodable();
      w.variable_integer(p.number);
      append_head();
      break;
    case property_type::utf8_string:
      append_head();
      append_string(as_bytes(p.text));
      break;
    case property_type::binary_data:
      append_head();
      append_string(p.data);
      break;
    case property_type::utf8_string_pair:
      append_head();
      append_string(as_bytes(p.name));
      append_string(as_bytes(p.value));
      break;
  }
  return *this;
}

namespace {
property number_property(property_id id, std::uint32_t v) noexcept {
  property p;
  p.id = id;
  p.number = v;
  return p;
}
}  // namespace

properties& properties::set_number(property_id id, std::uint32_t v) {
  remove(id);
  return add(number_property(id, v));
}
properties& properties::set_text(property_id id, std::string_view v) {
  remove(id);
  property p;
  p.id = id;
  p.text = v;
  return add(p);
}
properties& properties::set_data(property_id id, bytes_view v) {
  remove(id);
  property p;
  p.id = id;
  p.data = v;
  return add(p);
}

using P = property_id;
properties& properties::set_payload_format_indicator(std::uint8_t v) {
  return set_number(P::payload_format_indicator, v);
}
properties& properties::set_message_expiry_interval(std::uint32_t v) {
  return set_number(P::message_expiry_interval, v);
}
properties& properties::set_content_type(std::string_view v) {
  return set_text(P::content_type, v);
}
properties& properties::set_response_topic(std::string_view v) {
  return set_text(P::response_topic, v);
}
properties& properties::set_correlation_data(bytes_view v) {
  return set_data(P::correlation_data, v);
}
properties& properties::add_subscription_identifier(std::uint32_t v) {
  return add(number_property(P::subscription_identifier, v));
}
properties& properties::set_session_expiry_interval(std::uint32_t v) {
  return set_number(P::session_expiry_interval, v);
}
properties& properties::set_assigned_client_identifier(std::string_view v) {
  return set_text(P::assigned_client_identifier, v);
}
properties& properties::set_server_keep_alive(std::uint16_t v) {
  return set_number(P::server_keep_alive, v);
}
properties& properties::set_authentication_method(std::string_view v) {
  return set_text(P::authentication_method, v);
}
properties& properties::set_authentication_data(bytes_view v) {
  return set_data(P::authentication_data, v);
}
properties& properties::set_request_problem_information(bool v) {
  return set_number(P::request_problem_information, v ? 1 : 0);
}
properties& properties::set_will_delay_interval(std::uint32_t v) {
  return set_number(P::will_delay_interval, v);
}
properties& properties::set_request_response_information(bool v) {
  return set_number(P::request_response_information, v ? 1 : 0);
}
properties& properties::set_response_information(std::string_view v) {
  return set_text(P::response_information, v);
}
properties& properties::set_server_reference(std::string_view v) {
  return set_text(P::server_reference, v);
}
properties& properties::set_reason_string(std::string_view v) {
  return set_text(P::reason_string, v);
}
properties& properties::set_receive_maximum(std::uint16_t v) {
  return set_number(P::receive_maximum, v);
}
properties& properties::set_topic_alias_maximum(std::uint16_t v) {
  return set_number(P::topic_alias_maximum, v);
}
properties& properties::set_topic_alias(std::uint16_t v) { return set_number(P::topic_alias, v); }
properties& properties::set_maximum_qos(std::uint8_t v) { return set_number(P::maximum_qos, v); }
properties& properties::set_retain_available(bool v) {
  return set_number(P::retain_available, v ? 1 : 0);
}
properties& properties::add_user_property(std::string_view n, std::string_view v) {
  property p;
  p.id = P::user_property;
  p.name = n;
  p.value = v;
  return add(p);
}
properties& properties::set_maximum_packet_size(std::uint32_t v) {
  return set_number(P::maximum_packet_size, v);
}
properties& properties::set_wildcard_subscription_available(bool v) {
  return set_number(P::wildcard_subscription_available, v ? 1 : 0);
}
properties& properties::set_subscription_identifiers_available(bool v) {
  return set_number(P::subscription_identifiers_available, v ? 1 : 0);
}
properties& properties::set_shared_subscription_available(bool v) {
  return set_number(P::shared_subscription_available, v ? 1 : 0);
}

}  // namespace iotblocks::mqtt
