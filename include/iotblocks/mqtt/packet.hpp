// MQTT control packets, 3.1, 3.1.1 and 5.0, in two flavours from one definition:
//
//  - views (`publish_view`, `packet_view`...): what the decoder hands out. Topic,
//    payload, properties and lists point into the decoded bytes (zero-copy) and
//    live as long as those bytes do;
//  - owning packets (`publish`, `packet`...): strings, buffers and vectors of
//    their own, for keeping a packet or building one to encode.
//
//   mqtt::publish p;
//   p.topic = "/topic/Greenhouse/LuxSensors/probe_1";
//   p.qos = 1;
//   p.packet_id = 7;
//   p.payload = iotblocks::to_buffer(R"({"lux":36250})");
//   mqtt::packet owned = mqtt::to_owning(view);   // view -> owning copy
//
// Fields that a protocol version does not have (properties before 5.0, reason
// codes of acknowledgements) are ignored when encoding for that version.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/mqtt/error.hpp>
#include <iotblocks/mqtt/properties.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::mqtt {

/// The protocol level of the CONNECT packet.
enum class protocol_version : std::uint8_t {
  v3_1 = 3,    ///< MQTT 3.1, protocol name "MQIsdp"
  v3_1_1 = 4,  ///< MQTT 3.1.1
  v5 = 5,      ///< MQTT 5.0
};
/// "3.1", "3.1.1" or "5".
std::string_view name(protocol_version v) noexcept;

/// Which end of the connection an endpoint is. A server decodes what clients send.
enum class role : std::uint8_t { server, client };

/// Control packet types (the fixed header's upper four bits).
enum class packet_type : std::uint8_t {
  connect = 1,
  connack,
  publish,
  puback,
  pubrec,
  pubrel,
  pubcomp,
  subscribe,
  suback,
  unsubscribe,
  unsuback,
  pingreq,
  pingresp,
  disconnect,
  auth,
};
/// Lowercase name ("publish"); "reserved" for others.
std::string_view name(packet_type t) noexcept;
std::optional<packet_type> packet_type_from_name(std::string_view n) noexcept;

/// Which optional tail an MQTT 5 PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT or
/// AUTH carries. The encoder writes at least what the reason code and properties
/// need; the decoder records what it saw, so re-encoding is byte-exact.
enum class response_form : std::uint8_t {
  shortest,     ///< omit the reason code when it is 0 and there are no properties
  reason_code,  ///< at least the reason code
  properties,   ///< reason code and property length, even if empty
};

/// The options byte of a subscription (section 3.8.3.1).
struct subscribe_options {
  std::uint8_t qos = 0;
  bool no_local = false;             ///< MQTT 5
  bool retain_as_published = false;  ///< MQTT 5
  std::uint8_t retain_handling = 0;  ///< MQTT 5: 0 send retained, 1 only if new, 2 never

  std::uint8_t to_byte() const noexcept {
    return static_cast<std::uint8_t>((qos & 3) | (no_local ? 4 : 0) |
                                     (retain_as_published ? 8 : 0) | ((retain_handling & 3) << 4));
  }
  static subscribe_options from_byte(std::uint8_t b) noexcept {
    return {static_cast<std::uint8_t>(b & 3), (b & 4) != 0, (b & 8) != 0,
            static_cast<std::uint8_t>((b >> 4) & 3)};
  }
  friend bool operator==(const subscribe_options&, const subscribe_options&) = default;
};

/// A topic filter and its options; `String` is std::string_view or std::string.
template <class String>
struct basic_subscription {
  String filter;
  subscribe_options options;
  friend bool operator==(const basic_subscription&, const basic_subscription&) = default;
};

using subscription_view = basic_subscription<std::string_view>;
using subscription = basic_subscription<std::string>;

namespace detail {
/// Reads a two-byte-length-prefixed string at `pos`; false if it does not fit.
bool next_string(bytes_view wire, std::size_t& pos, std::string_view& out) noexcept;
}  // namespace detail

/// The topic filters of a decoded SUBSCRIBE, read from its payload without copying.
/// Distinct objects: safe. Shared objects: safe (immutable).
class subscription_list_view {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = subscription_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const subscription_view*;
    using reference = const subscription_view&;
    iterator() = default;
    const subscription_view& operator*() const noexcept { return current_; }
    const subscription_view* operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept {
      advance();
      return *this;
    }
    iterator operator++(int) noexcept {
      auto c = *this;
      advance();
      return c;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.at_ == b.at_; }

   private:
    friend class subscription_list_view;
    explicit iterator(bytes_view wire) noexcept : wire_(wire) { advance(); }
    void advance() noexcept {
      at_ = pos_;
      if (!detail::next_string(wire_, pos_, current_.filter) || pos_ >= wire_.size()) {
        at_ = static_cast<std::size_t>(-1);
        return;
      }
      current_.options = subscribe_options::from_byte(std::to_integer<std::uint8_t>(wire_[pos_]));
      ++pos_;
    }
    bytes_view wire_{};
    std::size_t pos_ = 0;
    std::size_t at_ = static_cast<std::size_t>(-1);
    subscription_view current_{};
  };

  subscription_list_view() = default;
  subscription_list_view(bytes_view wire, std::size_t count) noexcept
      : wire_(wire), count_(count) {}
  iterator begin() const noexcept { return iterator{wire_}; }
  iterator end() const noexcept { return iterator{}; }
  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  bytes_view bytes() const noexcept { return wire_; }

 private:
  bytes_view wire_{};
  std::size_t count_ = 0;
};

/// The topic filters of a decoded UNSUBSCRIBE, without copying.
/// Distinct objects: safe. Shared objects: safe (immutable).
class string_list_view {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = const std::string_view&;
    iterator() = default;
    const std::string_view& operator*() const noexcept { return current_; }
    iterator& operator++() noexcept {
      advance();
      return *this;
    }
    iterator operator++(int) noexcept {
      auto c = *this;
      advance();
      return c;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.at_ == b.at_; }

   private:
    friend class string_list_view;
    explicit iterator(bytes_view wire) noexcept : wire_(wire) { advance(); }
    void advance() noexcept {
      at_ = pos_;
      if (!detail::next_string(wire_, pos_, current_)) at_ = static_cast<std::size_t>(-1);
    }
    bytes_view wire_{};
    std::size_t pos_ = 0;
    std::size_t at_ = static_cast<std::size_t>(-1);
    std::string_view current_{};
  };

  string_list_view() = default;
  string_list_view(bytes_view wire, std::size_t count) noexcept : wire_(wire), count_(count) {}
  iterator begin() const noexcept { return iterator{wire_}; }
  iterator end() const noexcept { return iterator{}; }
  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  bytes_view bytes() const noexcept { return wire_; }

 private:
  bytes_view wire_{};
  std::size_t count_ = 0;
};

/// The reason codes of a decoded SUBACK or UNSUBACK, without copying.
class reason_code_list_view {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = reason_code;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = reason_code;
    iterator() = default;
    reason_code operator*() const noexcept {
      return static_cast<reason_code>(std::to_integer<std::uint8_t>(*p_));
    }
    iterator& operator++() noexcept {
      ++p_;
      return *this;
    }
    iterator operator++(int) noexcept {
      auto c = *this;
      ++p_;
      return c;
    }
    friend bool operator==(const iterator&, const iterator&) = default;

   private:
    friend class reason_code_list_view;
    explicit iterator(const std::byte* p) noexcept : p_(p) {}
    const std::byte* p_ = nullptr;
  };

  reason_code_list_view() = default;
  explicit reason_code_list_view(bytes_view wire) noexcept : wire_(wire) {}
  iterator begin() const noexcept { return iterator{wire_.data()}; }
  iterator end() const noexcept { return iterator{wire_.data() + wire_.size()}; }
  std::size_t size() const noexcept { return wire_.size(); }
  bool empty() const noexcept { return wire_.empty(); }
  reason_code operator[](std::size_t i) const noexcept {
    return static_cast<reason_code>(std::to_integer<std::uint8_t>(wire_[i]));
  }
  bytes_view bytes() const noexcept { return wire_; }

 private:
  bytes_view wire_{};
};

/// Field types of the view flavour: everything points into the decoded bytes.
struct view_storage {
  using string = std::string_view;
  using bytes = bytes_view;
  using props = properties_view;
  using subscriptions = subscription_list_view;
  using filters = string_list_view;
  using reason_codes = reason_code_list_view;
};

/// Field types of the owning flavour.
struct owning_storage {
  using string = std::string;
  using bytes = byte_buffer;
  using props = properties;
  using subscriptions = std::vector<subscription>;
  using filters = std::vector<std::string>;
  using reason_codes = std::vector<reason_code>;
};

template <class S>
struct basic_will {
  typename S::string topic;
  typename S::bytes payload;
  typename S::props properties;  ///< MQTT 5 will properties
  std::uint8_t qos = 0;
  bool retain = false;
  friend bool operator==(const basic_will&, const basic_will&) = default;
};

template <class S>
struct basic_connect {
  static constexpr packet_type type = packet_type::connect;
  protocol_version version = protocol_version::v5;
  bool clean_start = true;  ///< "clean session" before 5.0
  std::uint16_t keep_alive = 0;
  typename S::string client_id;
  std::optional<basic_will<S>> will;
  std::optional<typename S::string> username;
  std::optional<typename S::bytes> password;
  typename S::props properties;
  friend bool operator==(const basic_connect&, const basic_connect&) = default;
};

template <class S>
struct basic_connack {
  static constexpr packet_type type = packet_type::connack;
  bool session_present = false;
  reason_code reason = reason_code::success;  ///< before 5.0: the return code (0..5)
  typename S::props properties;
  friend bool operator==(const basic_connack&, const basic_connack&) = default;
};

template <class S>
struct basic_publish {
  static constexpr packet_type type = packet_type::publish;
  bool dup = false;
  std::uint8_t qos = 0;
  bool retain = false;
  typename S::string topic;     ///< may be empty in MQTT 5 when a Topic Alias is set
  std::uint16_t packet_id = 0;  ///< present when qos > 0
  typename S::props properties;
  typename S::bytes payload;
  friend bool operator==(const basic_publish&, const basic_publish&) = default;
};

/// PUBACK, PUBREC, PUBREL and PUBCOMP.
template <packet_type T, class S>
struct basic_publish_response {
  static constexpr packet_type type = T;
  std::uint16_t packet_id = 0;
  reason_code reason = reason_code::success;  ///< MQTT 5
  typename S::props properties;               ///< MQTT 5
  response_form form = response_form::shortest;
  friend bool operator==(const basic_publish_response&, const basic_publish_response&) = default;
};

template <class S>
struct basic_subscribe {
  static constexpr packet_type type = packet_type::subscribe;
  std::uint16_t packet_id = 0;
  typename S::props properties;
  typename S::subscriptions subscriptions;
  friend bool operator==(const basic_subscribe&, const basic_subscribe&) = default;
};

template <class S>
struct basic_suback {
  static constexpr packet_type type = packet_type::suback;
  std::uint16_t packet_id = 0;
  typename S::props properties;
  typename S::reason_codes reason_codes;  ///< before 5.0: granted QoS or 0x80
  friend bool operator==(const basic_suback&, const basic_suback&) = default;
};

template <class S>
struct basic_unsubscribe {
  static constexpr packet_type type = packet_type::unsubscribe;
  std::uint16_t packet_id = 0;
  typename S::props properties;
  typename S::filters filters;
  friend bool operator==(const basic_unsubscribe&, const basic_unsubscribe&) = default;
};

template <class S>
struct basic_unsuback {
  static constexpr packet_type type = packet_type::unsuback;
  std::uint16_t packet_id = 0;
  typename S::props properties;           ///< MQTT 5
  typename S::reason_codes reason_codes;  ///< MQTT 5 (none before)
  friend bool operator==(const basic_unsuback&, const basic_unsuback&) = default;
};

/// PINGREQ and PINGRESP.
template <packet_type T, class S>
struct basic_ping {
  static constexpr packet_type type = T;
  friend bool operator==(const basic_ping&, const basic_ping&) = default;
};

template <class S>
struct basic_disconnect {
  static constexpr packet_type type = packet_type::disconnect;
  reason_code reason = reason_code::normal_disconnection;  ///< MQTT 5
  typename S::props properties;                            ///< MQTT 5
  response_form form = response_form::shortest;
  friend bool operator==(const basic_disconnect&, const basic_disconnect&) = default;
};

/// MQTT 5 only.
template <class S>
struct basic_auth {
  static constexpr packet_type type = packet_type::auth;
  reason_code reason = reason_code::success;
  typename S::props properties;
  response_form form = response_form::shortest;
  friend bool operator==(const basic_auth&, const basic_auth&) = default;
};

template <class S>
using basic_packet = std::variant<
    basic_connect<S>, basic_connack<S>, basic_publish<S>,
    basic_publish_response<packet_type::puback, S>, basic_publish_response<packet_type::pubrec, S>,
    basic_publish_response<packet_type::pubrel, S>, basic_publish_response<packet_type::pubcomp, S>,
    basic_subscribe<S>, basic_suback<S>, basic_unsubscribe<S>, basic_unsuback<S>,
    basic_ping<packet_type::pingreq, S>, basic_ping<packet_type::pingresp, S>, basic_disconnect<S>,
    basic_auth<S>>;

using will_view = basic_will<view_storage>;
using connect_view = basic_connect<view_storage>;
using connack_view = basic_connack<view_storage>;
using publish_view = basic_publish<view_storage>;
using puback_view = basic_publish_response<packet_type::puback, view_storage>;
using pubrec_view = basic_publish_response<packet_type::pubrec, view_storage>;
using pubrel_view = basic_publish_response<packet_type::pubrel, view_storage>;
using pubcomp_view = basic_publish_response<packet_type::pubcomp, view_storage>;
using subscribe_view = basic_subscribe<view_storage>;
using suback_view = basic_suback<view_storage>;
using unsubscribe_view = basic_unsubscribe<view_storage>;
using unsuback_view = basic_unsuback<view_storage>;
using pingreq_view = basic_ping<packet_type::pingreq, view_storage>;
using pingresp_view = basic_ping<packet_type::pingresp, view_storage>;
using disconnect_view = basic_disconnect<view_storage>;
using auth_view = basic_auth<view_storage>;
/// A decoded packet; the alternative's index is its packet type - 1.
using packet_view = basic_packet<view_storage>;

using will = basic_will<owning_storage>;
using connect = basic_connect<owning_storage>;
using connack = basic_connack<owning_storage>;
using publish = basic_publish<owning_storage>;
using puback = basic_publish_response<packet_type::puback, owning_storage>;
using pubrec = basic_publish_response<packet_type::pubrec, owning_storage>;
using pubrel = basic_publish_response<packet_type::pubrel, owning_storage>;
using pubcomp = basic_publish_response<packet_type::pubcomp, owning_storage>;
using subscribe = basic_subscribe<owning_storage>;
using suback = basic_suback<owning_storage>;
using unsubscribe = basic_unsubscribe<owning_storage>;
using unsuback = basic_unsuback<owning_storage>;
using pingreq = basic_ping<packet_type::pingreq, owning_storage>;
using pingresp = basic_ping<packet_type::pingresp, owning_storage>;
using disconnect = basic_disconnect<owning_storage>;
using auth = basic_auth<owning_storage>;
/// An owning packet; the alternative's index is its packet type - 1.
using packet = basic_packet<owning_storage>;

template <class S>
packet_type type_of(const basic_packet<S>& p) noexcept {
  return static_cast<packet_type>(p.index() + 1);
}

/// Owning copies of views.
packet to_owning(const packet_view& p);
publish to_owning(const publish_view& p);
connect to_owning(const connect_view& p);

}  // namespace iotblocks::mqtt

IOTBLOCKS_API_END
