#include <iotblocks/core/error.hpp>
#include <iotblocks/mqtt/error.hpp>

namespace iotblocks::mqtt {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::need_more: return "need more bytes";
    case error::remaining_length_invalid: return "invalid remaining length";
    case error::packet_type_reserved: return "reserved packet type";
    case error::header_flags_invalid: return "invalid fixed header flags";
    case error::qos_invalid: return "PUBLISH QoS 3";
    case error::truncated: return "field runs past the end of the packet";
    case error::trailing_bytes: return "bytes after the end of the packet's content";
    case error::utf8_invalid: return "ill-formed UTF-8 string or U+0000";
    case error::variable_integer_invalid: return "invalid variable byte integer";
    case error::connect_flags_invalid: return "CONNECT reserved flag set";
    case error::will_flags_invalid: return "invalid will flags";
    case error::password_without_username: return "password without user name";
    case error::connack_flags_invalid: return "CONNACK reserved flags set";
    case error::property_invalid: return "property not allowed in this packet";
    case error::subscription_options_invalid: return "reserved subscription option bits set";
    case error::packet_unexpected: return "packet the peer may not send";
    case error::connect_expected: return "first packet is not CONNECT";
    case error::connect_repeated: return "second CONNECT or CONNACK";
    case error::dup_with_qos0: return "DUP set on a QoS 0 PUBLISH";
    case error::packet_id_zero: return "packet identifier 0";
    case error::topic_missing: return "empty topic without a topic alias";
    case error::property_duplicate: return "property included more than once";
    case error::property_value_invalid: return "invalid property value";
    case error::auth_data_without_method: return "authentication data without method";
    case error::auth_method_missing: return "AUTH without authentication method";
    case error::subscriptions_missing: return "no topic filter";
    case error::subscription_qos_invalid: return "subscription QoS 3";
    case error::retain_handling_invalid: return "retain handling 3";
    case error::no_local_on_shared: return "No Local on a shared subscription";
    case error::reason_code_invalid: return "reason code not allowed here";
    case error::session_present_invalid: return "session present with a failure code";
    case error::property_sender_invalid: return "property the sender may not send";
    case error::response_topic_invalid: return "invalid response topic";
    case error::protocol_unsupported: return "unsupported protocol name or version";
    case error::client_id_invalid: return "client identifier not valid";
    case error::topic_filter_invalid: return "topic filter invalid";
    case error::topic_name_invalid: return "topic name invalid";
    case error::topic_alias_invalid: return "topic alias invalid";
    case error::packet_too_large: return "packet too large";
    case error::limit_exceeded: return "too many properties or topic filters";
    case error::payload_format_invalid: return "payload is not the UTF-8 it claims to be";
    case error::buffer_too_small: return "output buffer too small";
    case error::not_encodable: return "field cannot be encoded";
  }
  return "unknown iotblocks.mqtt error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return detail::lasting_category<&message>("iotblocks.mqtt");
}

reason_code to_reason_code(error e) noexcept {
  switch (e) {
    case error::packet_unexpected:
    case error::connect_expected:
    case error::connect_repeated:
    case error::dup_with_qos0:
    case error::packet_id_zero:
    case error::topic_missing:
    case error::property_duplicate:
    case error::property_value_invalid:
    case error::auth_data_without_method:
    case error::auth_method_missing:
    case error::subscriptions_missing:
    case error::subscription_qos_invalid:
    case error::retain_handling_invalid:
    case error::no_local_on_shared:
    case error::reason_code_invalid:
    case error::session_present_invalid:
    case error::property_sender_invalid:
    case error::response_topic_invalid: return reason_code::protocol_error;
    case error::protocol_unsupported: return reason_code::unsupported_protocol_version;
    case error::client_id_invalid: return reason_code::client_identifier_not_valid;
    case error::topic_filter_invalid: return reason_code::topic_filter_invalid;
    case error::topic_name_invalid: return reason_code::topic_name_invalid;
    case error::topic_alias_invalid: return reason_code::topic_alias_invalid;
    case error::packet_too_large: return reason_code::packet_too_large;
    case error::limit_exceeded: return reason_code::quota_exceeded;
    case error::payload_format_invalid: return reason_code::payload_format_invalid;
    case error::buffer_too_small:
    case error::not_encodable: return reason_code::implementation_specific_error;
    default: return reason_code::malformed_packet;
  }
}

reason_code to_reason_code(std::error_code ec) noexcept {
  if (!ec) return reason_code::success;
  if (ec.category() != error_category()) return reason_code::malformed_packet;
  return to_reason_code(static_cast<error>(ec.value()));
}

std::string_view name(reason_code rc) noexcept {
  switch (static_cast<std::uint8_t>(rc)) {
    case 0x00: return "Success";
    case 0x01: return "Granted QoS 1";
    case 0x02: return "Granted QoS 2";
    case 0x04: return "Disconnect with Will Message";
    case 0x10: return "No matching subscribers";
    case 0x11: return "No subscription existed";
    case 0x18: return "Continue authentication";
    case 0x19: return "Re-authenticate";
    case 0x80: return "Unspecified error";
    case 0x81: return "Malformed Packet";
    case 0x82: return "Protocol Error";
    case 0x83: return "Implementation specific error";
    case 0x84: return "Unsupported Protocol Version";
    case 0x85: return "Client Identifier not valid";
    case 0x86: return "Bad User Name or Password";
    case 0x87: return "Not authorized";
    case 0x88: return "Server unavailable";
    case 0x89: return "Server busy";
    case 0x8A: return "Banned";
    case 0x8B: return "Server shutting down";
    case 0x8C: return "Bad authentication method";
    case 0x8D: return "Keep Alive timeout";
    case 0x8E: return "Session taken over";
    case 0x8F: return "Topic Filter invalid";
    case 0x90: return "Topic Name invalid";
    case 0x91: return "Packet Identifier in use";
    case 0x92: return "Packet Identifier not found";
    case 0x93: return "Receive Maximum exceeded";
    case 0x94: return "Topic Alias invalid";
    case 0x95: return "Packet too large";
    case 0x96: return "Message rate too high";
    case 0x97: return "Quota exceeded";
    case 0x98: return "Administrative action";
    case 0x99: return "Payload format invalid";
    case 0x9A: return "Retain not supported";
    case 0x9B: return "QoS not supported";
    case 0x9C: return "Use another server";
    case 0x9D: return "Server moved";
    case 0x9E: return "Shared Subscriptions not supported";
    case 0x9F: return "Connection rate exceeded";
    case 0xA0: return "Maximum connect time";
    case 0xA1: return "Subscription Identifiers not supported";
    case 0xA2: return "Wildcard Subscriptions not supported";
  }
  return "Unknown";
}

bool is_defined(std::uint8_t code) noexcept {
  return name(static_cast<reason_code>(code)) != "Unknown";
}

connect_return_code to_connect_return_code(reason_code rc) noexcept {
  switch (rc) {
    case reason_code::success: return connect_return_code::accepted;
    case reason_code::unsupported_protocol_version:
      return connect_return_code::unacceptable_protocol_version;
    case reason_code::client_identifier_not_valid: return connect_return_code::identifier_rejected;
    case reason_code::bad_user_name_or_password:
      return connect_return_code::bad_user_name_or_password;
    case reason_code::not_authorized:
    case reason_code::banned: return connect_return_code::not_authorized;
    default: return connect_return_code::server_unavailable;
  }
}

}  // namespace iotblocks::mqtt
