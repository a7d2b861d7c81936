// Errors of the MQTT codec and the MQTT 5 reason codes they map to.
//
// Every decode failure is an `mqtt::error` (category "iotblocks.mqtt") and maps
// to the reason code a server puts in CONNACK or DISCONNECT (MQTT 5 section
// 4.13), so the caller never has to classify failures itself:
//
//   std::error_code ec = mqtt::error::qos_invalid;
//   mqtt::to_reason_code(ec);                  // reason_code::malformed_packet (0x81)
//   mqtt::name(mqtt::reason_code::packet_too_large);   // "Packet too large"
#pragma once

#include <iotblocks/core/export.hpp>

#include <cstdint>
#include <string_view>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::mqtt {

/// MQTT 5.0 reason codes (section 2.4), all of them. 3.1.1 CONNACK return codes
/// (0..5) travel in the same type; see connect_return_code.
enum class reason_code : std::uint8_t {
  success = 0x00,
  normal_disconnection = 0x00,
  granted_qos_0 = 0x00,
  granted_qos_1 = 0x01,
  granted_qos_2 = 0x02,
  disconnect_with_will_message = 0x04,
  no_matching_subscribers = 0x10,
  no_subscription_existed = 0x11,
  continue_authentication = 0x18,
  re_authenticate = 0x19,
  unspecified_error = 0x80,
  malformed_packet = 0x81,
  protocol_error = 0x82,
  implementation_specific_error = 0x83,
  unsupported_protocol_version = 0x84,
  client_identifier_not_valid = 0x85,
  bad_user_name_or_password = 0x86,
  not_authorized = 0x87,
  server_unavailable = 0x88,
  server_busy = 0x89,
  banned = 0x8A,
  server_shutting_down = 0x8B,
  bad_authentication_method = 0x8C,
  keep_alive_timeout = 0x8D,
  session_taken_over = 0x8E,
  topic_filter_invalid = 0x8F,
  topic_name_invalid = 0x90,
  packet_identifier_in_use = 0x91,
  packet_identifier_not_found = 0x92,
  receive_maximum_exceeded = 0x93,
  topic_alias_invalid = 0x94,
  packet_too_large = 0x95,
  message_rate_too_high = 0x96,
  quota_exceeded = 0x97,
  administrative_action = 0x98,
  payload_format_invalid = 0x99,
  retain_not_supported = 0x9A,
  qos_not_supported = 0x9B,
  use_another_server = 0x9C,
  server_moved = 0x9D,
  shared_subscriptions_not_supported = 0x9E,
  connection_rate_exceeded = 0x9F,
  maximum_connect_time = 0xA0,
  subscription_identifiers_not_supported = 0xA1,
  wildcard_subscriptions_not_supported = 0xA2,
};

/// MQTT 3.1.1 CONNACK return codes (section 3.2.2.3).
enum class connect_return_code : std::uint8_t {
  accepted = 0,
  unacceptable_protocol_version = 1,
  identifier_rejected = 2,
  server_unavailable = 3,
  bad_user_name_or_password = 4,
  not_authorized = 5,
};

/// The spec's name of a reason code ("Malformed Packet"); "Unknown" if undefined.
/// 0x00 reads "Success".
std::string_view name(reason_code rc) noexcept;

/// True when `code` is one of the reason codes defined by MQTT 5.
bool is_defined(std::uint8_t code) noexcept;

/// The 3.1.1 CONNACK return code closest to an MQTT 5 CONNACK reason code
/// (0x84 -> 1, 0x85 -> 2, 0x86 -> 4, 0x87/0x8A -> 5, other failures -> 3).
connect_return_code to_connect_return_code(reason_code rc) noexcept;

/// Codec errors. Each maps to one reason code (to_reason_code); the comment
/// names it. `need_more` is not a failure: feed more bytes.
enum class error {
  need_more = 1,  ///< the input ends inside a packet; call put() again

  // 0x81 Malformed Packet
  remaining_length_invalid,   ///< variable byte integer > 4 bytes or not minimal (1.5.5)
  packet_type_reserved,       ///< packet type 0, or 15 (AUTH) before MQTT 5 (2.1.2)
  header_flags_invalid,       ///< reserved fixed-header flags not as Table 2-2 says (2.1.3)
  qos_invalid,                ///< PUBLISH with both QoS bits set (3.3.1.2)
  truncated,                  ///< a field runs past the remaining length
  trailing_bytes,             ///< the remaining length is longer than the packet's content
  utf8_invalid,               ///< ill-formed UTF-8, a surrogate or U+0000 in a string (1.5.4)
  variable_integer_invalid,   ///< a variable byte integer in the body is > 4 bytes or not minimal
  connect_flags_invalid,      ///< CONNECT reserved flag set (3.1.2.3)
  will_flags_invalid,         ///< will QoS/retain without will flag, or will QoS 3 (3.1.2.6)
  password_without_username,  ///< MQTT 3.1.1: password flag without user name flag (3.1.2.9)
  connack_flags_invalid,      ///< CONNACK acknowledge flags bits 7-1 set (3.2.2.1)
  property_invalid,           ///< unknown property, or one not allowed in this packet (2.2.2.2)
  subscription_options_invalid,  ///< reserved bits of the subscription options set (3.8.3.1)

  // 0x82 Protocol Error
  packet_unexpected,         ///< a packet the peer may not send in this role or version
  connect_expected,          ///< the first packet from a client is not CONNECT (3.1.0-1)
  connect_repeated,          ///< a second CONNECT (3.1.0-2)
  dup_with_qos0,             ///< PUBLISH with DUP set and QoS 0 (3.3.1-2)
  packet_id_zero,            ///< packet identifier 0 where one is required (2.2.1-3)
  topic_missing,             ///< PUBLISH with an empty topic and no topic alias (3.3.2.3.4)
  property_duplicate,        ///< a property present twice that may appear once (2.2.2.2)
  property_value_invalid,    ///< e.g. Receive Maximum 0, Maximum Packet Size 0, a byte not 0/1
  auth_data_without_method,  ///< Authentication Data without Authentication Method (3.1.2.11.10)
  auth_method_missing,       ///< AUTH with a reason code but no Authentication Method (3.15.2.2.2)
  subscriptions_missing,     ///< SUBSCRIBE or UNSUBSCRIBE without a topic filter (3.8.3-2)
  subscription_qos_invalid,  ///< MQTT 5 subscription with QoS 3 (3.8.3.1)
  retain_handling_invalid,   ///< subscription Retain Handling 3 (3.8.3.1)
  no_local_on_shared,        ///< No Local on a shared subscription (3.8.3-4)
  reason_code_invalid,       ///< a reason code not defined for this packet or this sender
  session_present_invalid,   ///< CONNACK with Session Present and a failure code (3.2.2-6)
  property_sender_invalid,   ///< Subscription Identifier from a client (3.3.4-6), Session
                             ///< Expiry Interval in DISCONNECT from a server (3.14.2-2)
  response_topic_invalid,    ///< Response Topic with wildcards (3.3.2-14)

  // other reason codes
  protocol_unsupported,    ///< 0x84: protocol name or level not MQTT 3.1, 3.1.1 or 5.0
  client_id_invalid,       ///< 0x85: empty client id without clean session (3.1.1, 3.1)
  topic_filter_invalid,    ///< 0x8F: wildcards misplaced, bad $share, over the limits
  topic_name_invalid,      ///< 0x90: wildcards in a topic name, over the limits
  topic_alias_invalid,     ///< 0x94: Topic Alias 0 or above the advertised maximum
  packet_too_large,        ///< 0x95: over max_packet_size (checked from the fixed header)
  limit_exceeded,          ///< 0x97: more properties, user properties or filters than allowed
  payload_format_invalid,  ///< 0x99: Payload Format Indicator 1 with a non-UTF-8 payload

  // encoder only (0x83 Implementation specific error)
  buffer_too_small,  ///< the output buffer is shorter than encoded_size()
  not_encodable,     ///< a field does not fit its wire type (string > 65,535 bytes, QoS > 2...)
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// The reason code for a codec error (0x81 for need_more and codes of other categories).
reason_code to_reason_code(error e) noexcept;
reason_code to_reason_code(std::error_code ec) noexcept;

}  // namespace iotblocks::mqtt

template <>
struct std::is_error_code_enum<iotblocks::mqtt::error> : std::true_type {};

IOTBLOCKS_API_END
