// MQTT 5 properties (section 2.2.2): identifiers, a zero-copy view over the
// property bytes of a decoded packet, and an owning list that keeps the wire
// order. Both give every property a typed accessor:
//
//   mqtt::properties p;
//   p.set_content_type("application/json").add_user_property("site", "greenhouse-7");
//   p.content_type();          // std::optional<std::string_view>{"application/json"}
//   for (const mqtt::property& u : p.user_properties()) use(u.name, u.value);
//
// Both store the properties in wire format (without the length prefix), so
// encoding copies them as they are and user properties keep their order.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::mqtt {

/// Property identifiers (MQTT 5 section 2.2.2.2).
enum class property_id : std::uint8_t {
  payload_format_indicator = 0x01,
  message_expiry_interval = 0x02,
  content_type = 0x03,
  response_topic = 0x08,
  correlation_data = 0x09,
  subscription_identifier = 0x0B,
  session_expiry_interval = 0x11,
  assigned_client_identifier = 0x12,
  server_keep_alive = 0x13,
  authentication_method = 0x15,
  authentication_data = 0x16,
  request_problem_information = 0x17,
  will_delay_interval = 0x18,
  request_response_information = 0x19,
  response_information = 0x1A,
  server_reference = 0x1C,
  reason_string = 0x1F,
  receive_maximum = 0x21,
  topic_alias_maximum = 0x22,
  topic_alias = 0x23,
  maximum_qos = 0x24,
  retain_available = 0x25,
  user_property = 0x26,
  maximum_packet_size = 0x27,
  wildcard_subscription_available = 0x28,
  subscription_identifiers_available = 0x29,
  shared_subscription_available = 0x2A,
};

/// Wire data types of property values (section 1.5).
enum class property_type : std::uint8_t {
  byte,
  two_byte_integer,
  four_byte_integer,
  variable_byte_integer,
  utf8_string,
  binary_data,
  utf8_string_pair,
};

/// True when `id` is a property identifier MQTT 5 defines.
bool is_known(std::uint8_t id) noexcept;
/// The wire type of a known property.
property_type type_of(property_id id) noexcept;
/// snake_case name ("message_expiry_interval"); "unknown" for others.
std::string_view name(property_id id) noexcept;
/// The property with snake_case name `n`, if any.
std::optional<property_id> property_from_name(std::string_view n) noexcept;

/// One property; the field its type uses is set, views point into the property bytes.
struct property {
  property_id id{};
  std::uint32_t number = 0;  ///< byte, two/four-byte and variable byte integers
  std::string_view text;     ///< UTF-8 string
  bytes_view data;           ///< binary data
  std::string_view name;     ///< user property name
  std::string_view value;    ///< user property value
};

namespace detail {
/// Reads the property at `*pos` of `wire`; false at the end or on bytes that do not parse.
bool next_property(bytes_view wire, std::size_t& pos, property& out) noexcept;
bool find_property(bytes_view wire, property_id id, property& out) noexcept;
std::optional<std::uint32_t> find_number(bytes_view wire, property_id id) noexcept;
std::optional<std::string_view> find_text(bytes_view wire, property_id id) noexcept;
std::optional<bytes_view> find_data(bytes_view wire, property_id id) noexcept;
}  // namespace detail

/// Iterates the properties of a wire block, optionally only those with one identifier.
/// Distinct objects: safe. Shared objects: safe (immutable).
class property_range {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = property;
    using difference_type = std::ptrdiff_t;
    using pointer = const property*;
    using reference = const property&;

    iterator() = default;
    const property& operator*() const noexcept { return current_; }
    const property* operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept {
      advance();
      return *this;
    }
    iterator operator++(int) noexcept {
      auto copy = *this;
      advance();
      return copy;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.at_ == b.at_; }

   private:
    friend class property_range;
    iterator(bytes_view wire, int filter) noexcept : wire_(wire), filter_(filter) { advance(); }
    void advance() noexcept {
      for (;;) {
        at_ = pos_;
        if (!detail::next_property(wire_, pos_, current_)) {
          at_ = end_mark;
          return;
        }
        if (filter_ < 0 || static_cast<int>(current_.id) == filter_) return;
      }
    }
    static constexpr std::size_t end_mark = static_cast<std::size_t>(-1);
    bytes_view wire_{};
    std::size_t pos_ = 0;
    std::size_t at_ = end_mark;
    int filter_ = -1;
    property current_{};
  };

  explicit property_range(bytes_view wire, int filter = -1) noexcept
      : wire_(wire), filter_(filter) {}
  iterator begin() const noexcept { return iterator{wire_, filter_}; }
  iterator end() const noexcept { return iterator{}; }
  bool empty() const noexcept { return begin() == end(); }

 private:
  bytes_view wire_;
  int filter_;
};

/// Typed getters shared by properties_view and properties (`Derived::bytes()` is the wire block).
template <class Derived>
class property_getters {
 public:
  /// All properties in wire order.
  property_range all() const noexcept { return property_range{wire()}; }
  /// The properties with identifier `id` (user properties, subscription identifiers).
  property_range all(property_id id) const noexcept {
    return property_range{wire(), static_cast<int>(id)};
  }
  /// The first property with identifier `id`.
  std::optional<property> find(property_id id) const noexcept {
    property p;
    if (detail::find_property(wire(), id, p)) return p;
    return std::nullopt;
  }
  bool contains(property_id id) const noexcept { return find(id).has_value(); }
  bool empty() const noexcept { return wire().empty(); }
  /// Number of properties.
  std::size_t count() const noexcept {
    std::size_t n = 0;
    for (auto it = all().begin(); it != all().end(); ++it) ++n;
    return n;
  }

  std::optional<std::uint8_t> payload_format_indicator() const noexcept {
    return u8(property_id::payload_format_indicator);
  }
  std::optional<std::uint32_t> message_expiry_interval() const noexcept {
    return detail::find_number(wire(), property_id::message_expiry_interval);
  }
  std::optional<std::string_view> content_type() const noexcept {
    return detail::find_text(wire(), property_id::content_type);
  }
  std::optional<std::string_view> response_topic() const noexcept {
    return detail::find_text(wire(), property_id::response_topic);
  }
  std::optional<bytes_view> correlation_data() const noexcept {
    return detail::find_data(wire(), property_id::correlation_data);
  }
  /// The first Subscription Identifier; a PUBLISH to a client may carry several.
  std::optional<std::uint32_t> subscription_identifier() const noexcept {
    return detail::find_number(wire(), property_id::subscription_identifier);
  }
  property_range subscription_identifiers() const noexcept {
    return all(property_id::subscription_identifier);
  }
  std::optional<std::uint32_t> session_expiry_interval() const noexcept {
    return detail::find_number(wire(), property_id::session_expiry_interval);
  }
  std::optional<std::string_view> assigned_client_identifier() const noexcept {
    return detail::find_text(wire(), property_id::assigned_client_identifier);
  }
  std::optional<std::uint16_t> server_keep_alive() const noexcept {
    return u16(property_id::server_keep_alive);
  }
  std::optional<std::string_view> authentication_method() const noexcept {
    return detail::find_text(wire(), property_id::authentication_method);
  }
  std::optional<bytes_view> authentication_data() const noexcept {
    return detail::find_data(wire(), property_id::authentication_data);
  }
  std::optional<bool> request_problem_information() const noexcept {
    return flag(property_id::request_problem_information);
  }
  std::optional<std::uint32_t> will_delay_interval() const noexcept {
    return detail::find_number(wire(), property_id::will_delay_interval);
  }
  std::optional<bool> request_response_information() const noexcept {
    return flag(property_id::request_response_information);
  }
  std::optional<std::string_view> response_information() const noexcept {
    return detail::find_text(wire(), property_id::response_information);
  }
  std::optional<std::string_view> server_reference() const noexcept {
    return detail::find_text(wire(), property_id::server_reference);
  }
  std::optional<std::string_view> reason_string() const noexcept {
    return detail::find_text(wire(), property_id::reason_string);
  }
  std::optional<std::uint16_t> receive_maximum() const noexcept {
    return u16(property_id::receive_maximum);
  }
  std::optional<std::uint16_t> topic_alias_maximum() const noexcept {
    return u16(property_id::topic_alias_maximum);
  }
  std::optional<std::uint16_t> topic_alias() const noexcept {
    return u16(property_id::topic_alias);
  }
  std::optional<std::uint8_t> maximum_qos() const noexcept { return u8(property_id::maximum_qos); }
  std::optional<bool> retain_available() const noexcept {
    return flag(property_id::retain_available);
  }
  /// User properties in wire order (use .name and .value).
  property_range user_properties() const noexcept { return all(property_id::user_property); }
  std::optional<std::uint32_t> maximum_packet_size() const noexcept {
    return detail::find_number(wire(), property_id::maximum_packet_size);
  }
  std::optional<bool> wildcard_subscription_available() const noexcept {
    return flag(property_id::wildcard_subscription_available);
  }
  std::optional<bool> subscription_identifiers_available() const noexcept {
    return flag(property_id::subscription_identifiers_available);
  }
  std::optional<bool> shared_subscription_available() const noexcept {
    return flag(property_id::shared_subscription_available);
  }

 private:
  bytes_view wire() const noexcept { return static_cast<const Derived&>(*this).bytes(); }
  std::optional<std::uint8_t> u8(property_id id) const noexcept {
    auto n = detail::find_number(wire(), id);
    if (!n) return std::nullopt;
    return static_cast<std::uint8_t>(*n);
  }
  std::optional<std::uint16_t> u16(property_id id) const noexcept {
    auto n = detail::find_number(wire(), id);
    if (!n) return std::nullopt;
    return static_cast<std::uint16_t>(*n);
  }
  std::optional<bool> flag(property_id id) const noexcept {
    auto n = detail::find_number(wire(), id);
    if (!n) return std::nullopt;
    return *n != 0;
  }
};

/// The properties of a decoded packet: a view of its property bytes (zero-copy,
/// valid as long as the packet's bytes are). The decoder hands out only validated
/// views. Distinct objects: safe. Shared objects: safe (immutable).
class properties_view : public property_getters<properties_view> {
 public:
  properties_view() = default;
  /// Views `wire` (properties without the length prefix); iteration stops at bytes
  /// that do not parse, so an unvalidated block is safe but may look shorter.
  explicit properties_view(bytes_view wire) noexcept : wire_(wire) {}
  bytes_view bytes() const noexcept { return wire_; }

 private:
  bytes_view wire_{};
};

/// An owning, ordered list of properties in wire format. Setters of single
/// properties replace an existing one; add_* append. Setters throw
/// std::system_error(error::not_encodable) for strings or data over 65,535 bytes
/// and integers outside their type (built without exceptions: the core failure
/// handler runs, then std::abort()). Distinct objects: safe. Shared objects: unsafe.
class properties : public property_getters<properties> {
 public:
  properties() = default;
  explicit properties(properties_view v) : wire_(v.bytes().begin(), v.bytes().end()) {}

  bytes_view bytes() const noexcept { return wire_; }
  properties_view view() const noexcept { return properties_view{wire_}; }
  void clear() noexcept { wire_.clear(); }
  /// Removes every property with identifier `id`.
  properties& remove(property_id id);

  /// Appends `p` as it is (the field of its type is used).
  properties& add(const property& p);

  properties& set_payload_format_indicator(std::uint8_t v);
  properties& set_message_expiry_interval(std::uint32_t v);
  properties& set_content_type(std::string_view v);
  properties& set_response_topic(std::string_view v);
  properties& set_correlation_data(bytes_view v);
  properties& add_subscription_identifier(std::uint32_t v);
  properties& set_session_expiry_interval(std::uint32_t v);
  properties& set_assigned_client_identifier(std::string_view v);
  properties& set_server_keep_alive(std::uint16_t v);
  properties& set_authentication_method(std::string_view v);
  properties& set_authentication_data(bytes_view v);
  properties& set_request_problem_information(bool v);
  properties& set_will_delay_interval(std::uint32_t v);
  properties& set_request_response_information(bool v);
  properties& set_response_information(std::string_view v);
  properties& set_server_reference(std::string_view v);
  properties& set_reason_string(std::string_view v);
  properties& set_receive_maximum(std::uint16_t v);
  properties& set_topic_alias_maximum(std::uint16_t v);
  properties& set_topic_alias(std::uint16_t v);
  properties& set_maximum_qos(std::uint8_t v);
  properties& set_retain_available(bool v);
  properties& add_user_property(std::string_view name, std::string_view value);
  properties& set_maximum_packet_size(std::uint32_t v);
  properties& set_wildcard_subscription_available(bool v);
  properties& set_subscription_identifiers_available(bool v);
  properties& set_shared_subscription_available(bool v);

  friend bool operator==(const properties& a, const properties& b) noexcept {
    return a.wire_ == b.wire_;
  }

 private:
  properties& set_number(property_id id, std::uint32_t v);
  properties& set_text(property_id id, std::string_view v);
  properties& set_data(property_id id, bytes_view v);
  byte_buffer wire_;
};

}  // namespace iotblocks::mqtt

IOTBLOCKS_API_END
